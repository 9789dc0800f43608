"""The gallery page's structure and behaviour, built from the fixture demos (no browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from gallery.service import DemoStatus, GalleryService
from gallery.ui.cards import card_html, home_html
from gallery.ui.layout import build_gallery

from .conftest import FIXTURES


def _service(tmp_path: Path) -> GalleryService:
    demos = tmp_path / "demos"
    shutil.copytree(FIXTURES, demos)
    return GalleryService.open(demos, tmp_path / "cache")


def _components(blocks: gr.Blocks) -> list[dict]:
    return blocks.get_config_file()["components"]


def test_tabs_home_then_sectors_in_order_with_demo_subtabs(tmp_path: Path) -> None:
    service = _service(tmp_path)
    blocks, _ = build_gallery(service)
    tabs = [c["props"] for c in _components(blocks) if c["type"] == "tabitem"]
    ids = [t["id"] for t in tabs]
    assert ids[:2] == ["home", "sector-healthcare"]
    assert ids.index("sector-healthcare") < ids.index("sector-education") < ids.index("sector-finance") < ids.index("sector-transport")
    assert "demo-education-word-stats" in ids and "demo-transport-word-stats-b" in ids
    assert ids.index("demo-education-bad-manifest") < ids.index("demo-education-word-stats")


def test_table_outputs_show_their_manifest_columns_before_any_result() -> None:
    from gallery.manifest import OutputSpec
    from gallery.ui.form import output_component

    i18n = gr.I18n(en={}, zh={})
    label = {"en": "Rows", "zh": "行"}
    with gr.Blocks():
        named = output_component("x/y", OutputSpec(name="rows", type="table", label=label, columns=["Item", "Amount"]),
                                 i18n)
        unnamed = output_component("x/y", OutputSpec(name="rows", type="table", label=label), i18n)
    assert named.headers == ["Item", "Amount"]
    assert unnamed.headers == ["1", "2", "3"]  # Gradio's placeholder, which the columns field replaces


def test_build_failure_is_isolated_and_reported(tmp_path: Path) -> None:
    service = _service(tmp_path)
    build_gallery(service)
    assert service.status("healthcare/build-error").state == "unavailable"
    assert "boom in build" in (service.status("healthcare/build-error").reason or "")
    assert service.status("education/word-stats").state == "ready"
    html = home_html(service)
    unavailable = html.split("om-unavailable-heading", 1)[1]
    for demo_id in ("healthcare/build-error", "finance/import-error", "education/bad-manifest"):
        assert f'data-demo="{demo_id}"' in unavailable
    assert 'data-demo="education/word-stats"' not in unavailable


def test_search_filters_cards_in_both_languages(tmp_path: Path) -> None:
    service = _service(tmp_path)
    assert 'data-demo="transport/word-stats-b"' in home_html(service, "word-stats-b")
    assert 'data-demo="education/word-stats"' not in home_html(service, "word-stats-b")
    assert 'data-demo="education/word-stats"' in home_html(service, "词语统计 education")
    assert "No demo matches" in home_html(service, "zzzz-nothing")


def test_cards_show_the_required_fields(tmp_path: Path) -> None:
    html = home_html(_service(tmp_path))
    card = html.split('data-demo="education/word-stats"', 1)[1].split("</div>", 1)[0]
    for label in ("Sector", "Task", "Model", "Licence", "Backend", "Status"):
        assert label in card
    assert "text-statistics" in card and "Apache-2.0" in card and 'data-status="ready"' in card


def test_cards_show_the_int8_check_and_its_figures(tmp_path: Path) -> None:
    service = _service(tmp_path)
    entry = service.entry("education/word-stats")
    assert "int8 check" not in card_html(entry, service.status("education/word-stats"))  # no model, no check
    kept = {"metric": "token_error_rate", "value": 0.0, "threshold": 0.01, "passed": True}
    rejected = {"metric": "min_cosine", "value": 0.9808, "threshold": 0.99, "passed": False}
    for check, verdict, zh in ((kept, "passed, runs int8", "通过"), (rejected, "failed, runs fp32", "未通过")):
        status = DemoStatus("ready", None, "onnxruntime-cpu", "int8" if check["passed"] else "fp32",
                            {"m": {"quant_check": check}})
        card = card_html(entry, status)
        assert "int8 check" in card and verdict in card and zh in card
        assert f"{check['metric']} {check['value']}, limit {check['threshold']}" in card
    not_run = DemoStatus("ready", None, "onnxruntime-cpu", "fp32", {"m": {"quant_check": {"reason": "x"}}})
    assert "int8 check" not in card_html(entry, not_run)


def test_gradio_api_names_are_sector_slug(tmp_path: Path) -> None:
    blocks, _ = build_gallery(_service(tmp_path))
    names = {d.get("api_name") for d in blocks.get_config_file()["dependencies"]}
    assert {"education-word-stats", "transport-word-stats-b"} <= names


def _fn(blocks: gr.Blocks, name: str):  # type: ignore[no-untyped-def]
    return next(f.fn for f in blocks.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_form_opens_with_the_first_example_and_offers_each_example_as_a_captioned_button(tmp_path: Path) -> None:
    from gallery.ui.i18n import build_i18n, demo_key
    from gallery.ui.layout import build_single

    service = _service(tmp_path)
    blocks, i18n = build_single(service, service.index.get("education/word-stats"))
    components = _components(blocks)
    text = next(c["props"] for c in components if "om-in-name-text" in (c["props"].get("elem_classes") or []))
    assert text["value"] == "the cat and the hat and the bat"  # Run with nothing typed runs the first example
    buttons = [c["props"] for c in components if "om-example" in (c["props"].get("elem_classes") or [])]
    assert len(buttons) == len(service.entry("education/word-stats").manifest.examples) == 1
    key = demo_key("education/word-stats", "example.0")
    assert str(buttons[0]["value"]) == str(i18n(key))
    translations = build_i18n(service.index).translations
    assert (translations["en"][key], translations["zh"][key]) == ("Cats and hats", "猫和帽子")
    # Without a caption in the manifest, the button shows the example's own text (never a blank chip).
    other = demo_key("transport/word-stats-b", "example.0")
    assert translations["en"][other] == translations["zh"][other] != ""


def test_result_is_rendered_in_the_page_language_with_what_ran(tmp_path: Path) -> None:
    from gallery.ui.layout import build_single

    service = _service(tmp_path)
    blocks, _ = build_single(service, service.index.get("education/word-stats"))
    result, info = _fn(blocks, "run_demo")("a b a", 2)
    assert info["ms"] >= 0 and info["load_s"] is None  # the fixture loads no model
    show = _fn(blocks, "show")
    english = show(result, {**info, "ms": 412.0, "backend": "onnxruntime-cpu", "variant": "int8"}, "English", "a b a", 2)
    assert english[1] == "**3** words, **5** characters"
    assert english[-1] == "<small>Ran: 412 ms · ONNX Runtime CPU · int8</small>"
    chinese = show(result, {**info, "ms": 412.0, "load_s": 1.23}, "中文", "a b a", 2)
    assert chinese[1] == "**3** 个词，**5** 个字符"
    assert chinese[-1] == "<small>本次运行：412 ms · 首次运行：模型加载用时 1.2 秒</small>"


def test_progress_and_error_titles_follow_the_page_language(tmp_path: Path) -> None:
    from types import SimpleNamespace

    import pytest

    from gallery.ui.form import request_language, run_for_ui

    # The page sets an om-lang cookie before first paint; without one, the browser's Accept-Language decides.
    assert request_language(SimpleNamespace(cookies={"om-lang": "zh"}, headers={"accept-language": "en"})) == "zh"
    assert request_language(SimpleNamespace(cookies={}, headers={"accept-language": "zh-CN,zh;q=0.9"})) == "zh"
    assert request_language(None) == "en"
    service = _service(tmp_path)
    for lang, title in (("zh", "输入无效"), ("en", "Invalid input")):
        with pytest.raises(gr.Error) as refused:
            run_for_ui(service, "education/word-stats", {"text": "   "}, lang=lang)
        assert refused.value.title == title and "text: is empty" in refused.value.message
