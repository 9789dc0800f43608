"""CONTRIBUTING.md and CONTRIBUTING.zh.md document every manifest field, and their commands and links are real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from gallery.checks import FOLDER_CHECKS, REPO_CHECKS
from gallery.cli import build_parser
from gallery.manifest import AppSpec, Bilingual, InputSpec, Manifest, OutputSpec
from shared.fewshot import TextClassifierOptions
from gallery.runtime.spec import HubSource, ModelSpec, PackageSource, PathSource, ServingSpec

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ["CONTRIBUTING.md", "CONTRIBUTING.zh.md"]
MODELS: list[type[BaseModel]] = [Manifest, Bilingual, InputSpec, OutputSpec, ModelSpec, PackageSource, HubSource,
                                 PathSource, ServingSpec, AppSpec, TextClassifierOptions]


def documented_fields(text: str, model: str) -> set[str]:
    """Return the backticked names in the first column of the table under the heading naming `model`."""
    match = re.search(rf"^#+ [^\n]*`{model}`[^\n]*\n(?P<body>.*?)(?=^#+ |\Z)", text, flags=re.M | re.S)
    assert match, f"no section for `{model}`"
    return set(re.findall(r"^\|\s*`(\w+)`\s*\|", match["body"], flags=re.M))


@pytest.mark.parametrize("guide", GUIDES)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_schema_field_is_documented(guide: str, model: type[BaseModel]) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    fields = documented_fields(text, model.__name__)
    assert set(model.model_fields) - fields == set(), f"{guide}: {model.__name__} fields not documented"
    assert fields - set(model.model_fields) == set(), f"{guide}: {model.__name__} documents fields it does not have"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_check_is_listed(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    listed = set(re.findall(r"^\|\s*`(\w+)`\s*\|", text.split("gallery check` ")[-1], flags=re.M))
    assert set(FOLDER_CHECKS) | set(REPO_CHECKS) <= listed


@pytest.mark.parametrize("guide", GUIDES)
def test_commands_and_links_in_the_guide_exist(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    code = " ".join(re.findall(r"```.*?```|`[^`\n]+`", text, flags=re.S))
    used = set(re.findall(r"\bgallery ([a-z]+)", code))
    assert {"new", "check", "run"} <= used <= commands
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"{guide}: broken link {target}"


def test_both_guides_have_the_same_structure() -> None:
    en, zh = ((ROOT / g).read_text(encoding="utf-8") for g in GUIDES)
    headings = lambda t: [len(h) for h in re.findall(r"^(#+) ", t, flags=re.M)]  # noqa: E731
    assert headings(en) == headings(zh)
    assert re.findall(r"^\| `\w+`", en, flags=re.M) == re.findall(r"^\| `\w+`", zh, flags=re.M)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_gallery_command_is_in_the_guide(guide: str) -> None:
    import argparse

    from gallery.cli import build_parser

    text = (ROOT / guide).read_text(encoding="utf-8")
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [name for name in commands if f"`gallery {name}" not in text]
    assert not missing, f"{guide}: commands not in the guide: {missing}"
