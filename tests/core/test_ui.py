"""The gallery page's structure and behaviour, built from the fixture demos (no browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from gallery.service import DemoStatus, GalleryService
from gallery.ui.cards import LiveFacts, card_html
from gallery.ui.home import HomeQuery, home_html
from gallery.usage import DemoUsage
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


def _card(html: str, demo_id: str) -> str:
    import re

    return re.split(r'<div class="om-card[ "]', html.split(f'data-demo="{demo_id}"', 1)[1], maxsplit=1)[0]


def test_cards_show_icon_sector_languages_and_details_in_one_language(tmp_path: Path) -> None:
    import re

    english = _card(home_html(_service(tmp_path)), "education/word-stats")
    assert '<span class="om-icon" aria-hidden="true">📊</span>' in english  # the manifest's emoji
    assert "Education" in english and "text-statistics" in english and "★ Featured" in english
    assert re.findall(r'data-lang="(\w+)">([^<]+)<', english) == [("en", "English"), ("zh", "Chinese")]
    for label in ("Model", "Licence", "Backend"):
        assert f"<dt>{label}</dt>" in english
    assert "Apache-2.0" in english and 'data-status="ready"' in english and "Ready" in english
    assert not re.search(r"[\u4e00-\u9fff]", english), "Chinese in an English card"
    chinese = _card(home_html(_service(tmp_path / "zh"), lang="zh"), "education/word-stats")
    assert "词语统计 word-stats" in chinese and "教育" in chinese and "★ 精选" in chinese and "<dt>许可证</dt>" in chinese
    assert "Word statistics" not in chinese and "Education" not in chinese
    # Without an icon of its own, a card shows its sector's.
    assert '<span class="om-icon" aria-hidden="true">🚆</span>' in _card(home_html(_service(tmp_path / "b")),
                                                                        "transport/word-stats-b")


def test_card_icon_may_be_an_image_in_the_folder(tmp_path: Path) -> None:
    import base64

    service = _service(tmp_path)
    entry = service.entry("transport/word-stats-b")
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
    (entry.path / "icon.png").write_bytes(png)
    entry.manifest = entry.manifest.model_copy(update={"icon": "icon.png"})
    card = card_html(entry, service.status(entry.id))
    assert f'<img class="om-icon" alt="" src="data:image/png;base64,{base64.b64encode(png).decode()}">' in card


def test_cards_show_live_facts_only_once_measured(tmp_path: Path) -> None:
    service = _service(tmp_path)
    entry = service.entry("education/word-stats")
    status = DemoStatus("loads on first use", None, None, None, {"m": {}})
    fresh = card_html(entry, status, "en", LiveFacts())
    assert 'data-warm="cold"' in fresh and "Cold: loads on first run" in fresh
    assert 'data-fact="p50"' not in fresh and 'data-fact="feedback"' not in fresh and 'data-fact="requests"' not in fresh
    used = card_html(entry, DemoStatus("ready", None, "onnxruntime-cpu", "int8", {"m": {}}), "en",
                     LiveFacts(DemoUsage(requests=5, runs=4, p50_ms=412.4), up=3, down=1))
    assert 'data-warm="warm"' in used and "Warm: model loaded" in used
    assert ">p50 412 ms<" in used and ">5 runs<" in used and ">👍 75% of 4<" in used
    # One of two models loaded (a demo with a model per input language): partly warm, and it says how far.
    partly = card_html(entry, DemoStatus("loads on first use", None, None, None,
                                         {"en": {"state": "ready"}, "zh": {"state": "not-loaded"}}), "en")
    assert 'data-warm="partial"' in partly and "Partly warm: 1 of 2 models loaded" in partly
    zh = card_html(entry, DemoStatus("ready", None, None, None, {"m": {}}), "zh",
                   LiveFacts(DemoUsage(requests=5, runs=4, p50_ms=8.25), up=1, down=0))
    assert "热：模型已加载" in zh and ">中位耗时 8.2 ms<" in zh and ">已运行 5 次<" in zh and ">👍 100%（共 1 条）<" in zh


def test_runs_feed_the_cards_p50_and_the_most_used_order(tmp_path: Path) -> None:
    import statistics

    from gallery.ui.form import run_with_info

    service = _service(tmp_path)
    assert 'data-fact="p50"' not in _card(home_html(service), "transport/word-stats-b")
    featured = home_html(service, HomeQuery(order="featured"))
    assert featured.index('data-demo="education/word-stats"') < featured.index('data-demo="transport/word-stats-b"')
    times = [run_with_info(service, "transport/word-stats-b", {"text": "one two"})[1]["ms"] for _ in range(3)]
    usage = service.usage.get("transport/word-stats-b")
    assert (usage.requests, usage.runs) == (3, 3)
    # The card's median is of the measured runs (each a little longer than the demo's own time).
    assert usage.p50_ms is not None and usage.p50_ms >= statistics.median(times) * 0.5
    card = _card(home_html(service), "transport/word-stats-b")
    assert 'data-fact="p50"' in card and ">3 runs<" in card
    used = home_html(service, HomeQuery(order="used"))
    assert used.index('data-demo="transport/word-stats-b"') < used.index('data-demo="education/word-stats"')


def test_filter_chips_choose_by_sector_language_and_task(tmp_path: Path) -> None:
    service = _service(tmp_path)

    def shown(query: HomeQuery) -> set[str]:
        import re

        return set(re.findall(r'<div class="om-card" data-demo="([^"]+)"', home_html(service, query)))

    # healthcare/build-error runs here too: it fails only once the page builds its UI.
    assert shown(HomeQuery()) == {"education/word-stats", "transport/word-stats-b", "healthcare/build-error"}
    assert shown(HomeQuery(sectors=("transport",))) == {"transport/word-stats-b"}
    assert shown(HomeQuery(sectors=("transport", "education"))) == {"education/word-stats", "transport/word-stats-b"}
    assert shown(HomeQuery(languages=("zh",))) == {"education/word-stats"}
    assert shown(HomeQuery(languages=("zh",), sectors=("transport",))) == set()
    assert shown(HomeQuery(tasks=("text-statistics",), text="word-stats-b")) == {"transport/word-stats-b"}
    assert shown(HomeQuery(text="中文")) == {"education/word-stats"}  # a language's name finds its demos too


def test_home_offers_filter_chips_and_the_order(tmp_path: Path) -> None:
    blocks, i18n = build_gallery(_service(tmp_path))
    props = {c["props"].get("elem_id"): c["props"] for c in _components(blocks)}
    sectors = [value for _, value in props["om-filter-sector"]["choices"]]
    # Every sector with a demo that runs, in order (the fixture's only finance demo fails at import).
    assert sectors == ["healthcare", "education", "transport"]
    assert [value for _, value in props["om-filter-task"]["choices"]] == ["text-statistics"]
    assert [value for _, value in props["om-filter-language"]["choices"]] == ["en"]  # zh: one demo only
    assert [value for _, value in props["om-order"]["choices"]] == ["featured", "used"]
    assert props["om-order"]["value"] == "featured"


def test_a_language_with_no_input_language_shows_under_every_language_filter(tmp_path: Path) -> None:
    service = _service(tmp_path)
    entry = service.entry("transport/word-stats-b")
    entry.manifest = entry.manifest.model_copy(update={"languages": ["zxx"]})
    html = home_html(service, HomeQuery(languages=("zh",)))
    assert 'data-demo="transport/word-stats-b"' in html and "Any language" in _card(html, "transport/word-stats-b")


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
        assert "int8 check" in card and verdict in card and zh not in card
        assert zh in card_html(entry, status, "zh")
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


def test_every_demo_task_has_a_name_in_both_languages() -> None:
    from gallery.discovery import default_demos_dir, discover
    from gallery.ui.i18n import TASKS

    # A task without a name would show as written (`speech-analysis`) on a Chinese page's cards and chips.
    tasks = {e.manifest.task for e in discover(default_demos_dir()).available if e.manifest is not None}
    assert tasks - set(TASKS) == set()
