"""Every error front ends answer comes from gallery.errors: status, bilingual title, reason, headers, envelope."""

from __future__ import annotations

import ast

import pytest

from gallery import errors
from gallery.errors import Busy, DemoUnavailable, GalleryError, InputError, ModelUnavailableError, answer
from tests.conftest import ROOT

ERRORS = sorted((c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, GalleryError)),
                key=lambda c: c.__name__)
CHINESE = range(0x4E00, 0xA000)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_a_status_and_a_title_in_both_languages(cls: type[GalleryError]) -> None:
    assert 400 <= cls.status < 600
    assert cls.title["en"] and cls.title["en"].isascii()
    assert any(ord(ch) in CHINESE for ch in cls.title["zh"]), cls.title
    assert cls.outcome in ("ok", "invalid", "busy", "unavailable", "error")


def test_answers_carry_status_headers_and_the_reason_in_the_language_asked() -> None:
    busy = answer(Busy("finance/x", 7, "the queue is full (8 waiting)"), "finance/x", "zh")
    assert (busy.status, busy.headers, busy.body["retry_after"]) == (503, {"Retry-After": "7"}, 7)
    assert "7" in busy.message and busy.title == Busy.title["zh"]
    assert answer(Busy("finance/x", 7, "full")).message.startswith("demo finance/x is busy: full")
    bad = answer(InputError("is empty", "text"))
    assert (bad.status, bad.body, bad.title) == (422, {"detail": "text: is empty"}, "Invalid input")
    gone = answer(ModelUnavailableError("model encoder: not cached"), "health/faq")
    assert gone.status == 503 and gone.message == "demo health/faq is unavailable: model encoder: not cached"
    # A reason that already names the demo is not prefixed twice.
    once = answer(DemoUnavailable("demo health/faq is unavailable: disabled"), "health/faq")
    assert once.message.count("health/faq") == 1


@pytest.mark.parametrize("exc", [InputError("too long", "text"), ModelUnavailableError("no model"),
                                 errors.DemoFailure("the demo failed on this input (KeyError)"),
                                 Busy("education/x", 3, "the wait would be about 75 s")],
                         ids=lambda e: type(e).__name__)
def test_an_error_crosses_a_process_boundary_unchanged(exc: GalleryError) -> None:
    back = errors.from_envelope(exc.to_envelope())
    assert type(back) is type(exc) and str(back) == str(exc)
    assert answer(back, "education/x") == answer(exc, "education/x")
    assert errors.status_of(exc.to_envelope()) == exc.status


def test_front_ends_map_no_error_to_a_status_themselves() -> None:
    """The JSON API, feedback API, MCP server, UI and Ray ingress raise or answer gallery errors only."""
    for name in ("gallery/api.py", "gallery/feedback/api.py", "gallery/mcp_server.py", "gallery/ui/form.py",
                 "gallery/rayserve/deployments.py"):
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "HTTPException":
                status = node.args[0] if node.args else None
                assert not (isinstance(status, ast.Constant) and status.value in (400, 404, 413, 415, 422, 500, 503)), \
                    f"{name}:{node.lineno} raises HTTPException({status.value}); raise the gallery.errors class"
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = ast.unparse(node.type)
                for cls in ("InputError", "Busy", "DemoUnavailable", "ModelUnavailableError", "DemoFailure"):
                    assert cls not in caught, \
                        f"{name}:{node.lineno} catches {cls} itself; catch GalleryError and use errors.answer"
