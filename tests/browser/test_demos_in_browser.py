"""Every demo in a real browser, in English and in Chinese: press Run with nothing typed, see a result in one language."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Callable

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from gallery.discovery import discover
from gallery.manifest import Manifest
from tests.conftest import ROOT

DEMOS = [e.id for e in discover(ROOT / "demos").entries if e.manifest is not None and e.manifest.examples]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Views whose result is not text: what appears once they render (an empty plot shows an icon, not axes).
RENDERED_ELEMENT = {"plot": "svg text", "image": "img[src]"}
# The top-level output wrappers only (a Markdown view carries the class on an inner element too).
VIEWS = ".om-output:not(.om-output .om-output)"
# Views holding sentences or headers that the demo writes for people (labels and transcripts are the model's).
PROSE = ("markdown", "table")
SWITCH = {"en": "English", "zh": "中文"}


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def expect_example_values(panel: Locator, manifest: Manifest, index: int) -> None:
    """Wait until the form holds example `index` (the browser fills it asynchronously)."""
    example = manifest.example_values(index)
    for spec in manifest.inputs:
        value = example.get(spec.name)
        field = panel.locator(f".om-in-name-{spec.name}")
        if value is None or field.count() == 0:
            continue  # a custom UI (the demo's own build) may name its inputs differently
        if spec.type in ("text", "series") and isinstance(value, str) and value:  # a text box
            expect(field.locator("textarea, input").first).to_have_value(value, timeout=30_000)
        elif spec.type == "image":
            expect(field.locator("img").first).to_have_attribute("src", re.compile(re.escape(value.rsplit("/", 1)[-1])),
                                                                 timeout=30_000)
        elif spec.type == "audio":
            expect(field.locator("audio, wave, .waveform-container").first).to_be_attached(timeout=30_000)


def read_from_files(gallery_url: str, manifest: Manifest) -> set[str]:
    """Return the Chinese characters of the JSON result of the first example, for a demo that reads a file.

    What a demo reads from an uploaded file (the OCR text of a Chinese page) is the input's own text, quoted like
    the characters of a Chinese text input: the JSON API's language-neutral result holds only such text.
    """
    files = [spec.name for spec in manifest.inputs if spec.type in ("image", "audio", "file")]
    if not files:
        return set()
    example = manifest.example_values(0)
    body = {name: value for name, value in example.items() if name not in files}
    for name in files:
        data = (ROOT / "demos" / manifest.id / str(example[name])).read_bytes()
        body[name] = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    response = httpx.post(f"{gallery_url}/api/demos/{manifest.id}", json=body, timeout=600)
    response.raise_for_status()
    return set(CJK.findall(json.dumps(response.json(), ensure_ascii=False)))


def open_demo(page: Page, gallery_url: str, demo_id: str, lang: str) -> Locator:
    """Open the demo in `lang`: English in its gallery tab, Chinese on its standalone page through ?lang=zh."""
    if lang == "en":
        page.goto(f"{gallery_url}/?demo={demo_id}")
        panel = page.locator(f"#om-tab-{demo_id.replace('/', '-')}")
    else:
        page.goto(f"{gallery_url}/demo/{demo_id}/?lang={lang}")
        panel = page.locator("body")
    # The switch shows the page's language once the page has loaded; results are rendered in that language.
    expect(page.locator("#om-lang input:checked")).to_have_value(SWITCH[lang], timeout=60_000)
    return panel


def wait_for_result(panel: Locator, manifest: Manifest, empty: list[str], demo_id: str) -> None:
    """Wait until every view shows a result, and the line that says what ran."""
    views = panel.locator(VIEWS)
    for number, spec in enumerate(manifest.outputs):
        view = views.nth(number)
        # Generous for the first view: the first run may export and load the model.
        timeout = 240 if number == 0 else 30
        if spec.type == "text":
            expect(view.locator("textarea").first).not_to_have_value("", timeout=timeout * 1000)
        elif spec.type in RENDERED_ELEMENT:
            expect(view.locator(RENDERED_ELEMENT[spec.type]).first).to_be_attached(timeout=timeout * 1000)
        else:
            before = len(empty[number].strip())
            wait_until(lambda: len(view.inner_text().strip()) > before + 3, timeout,
                       f"output {spec.name!r} ({spec.type}) of {demo_id} to show a result")
    expect(panel.locator(".om-ran").first).to_contain_text(" ms", timeout=30_000)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("demo_id", DEMOS)
def test_run_with_nothing_typed_shows_a_result_in_one_language(page: Page, gallery_url: str, demo_id: str,
                                                               lang: str) -> None:
    manifest = discover(ROOT / "demos", [demo_id]).entries[0].manifest
    assert manifest is not None
    panel = open_demo(page, gallery_url, demo_id, lang)
    expect_example_values(panel, manifest, 0)  # the form opens with the first example
    views = panel.locator(VIEWS)
    assert views.count() == len(manifest.outputs)
    empty = [views.nth(i).inner_text() for i in range(len(manifest.outputs))]  # labels only, before the run
    panel.locator(".om-run").click()
    wait_for_result(panel, manifest, empty, demo_id)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(panel.locator(".om-output").first).not_to_contain_text(re.compile(r"^\s*\{\s*\""))
    shown = {spec.name: views.nth(i).inner_text() for i, spec in enumerate(manifest.outputs)}
    ran = panel.locator(".om-ran").first.inner_text()
    if lang == "en":
        # What a demo quotes from a Chinese input (its characters, keywords) stays Chinese; nothing else may be.
        quoted = set(CJK.findall(" ".join(v for v in manifest.example_values(0).values() if isinstance(v, str))))
        if any(CJK.search(text) for text in shown.values()):
            quoted |= read_from_files(gallery_url, manifest)
        for name, text in {**shown, "what ran": ran}.items():
            found = next((m for m in CJK.finditer(text) if m.group() not in quoted), None)
            assert found is None, f"{demo_id}: {name} shows Chinese in English mode: …{text[max(0, found.start() - 40):found.end() + 40]}…"
    else:
        assert CJK.search(ran), f"{demo_id}: the line saying what ran is not in Chinese: {ran!r}"
        # Classifiers name their labels in Chinese (app.options.labels); an image model's ImageNet classes stay its own.
        named = manifest.app is not None and "labels" in manifest.app.options
        for number, spec in enumerate(manifest.outputs):
            if spec.type in PROSE or (spec.type == "label" and named):
                label = spec.label.zh
                text = shown[spec.name].replace(label, "")
                assert CJK.search(text), f"{demo_id}: {spec.name} has no Chinese in Chinese mode: {text[:200]!r}"
    for number, spec in enumerate(manifest.outputs):
        if spec.type == "table" and spec.columns:
            # The manifest's headers show before the run, in the page's language, and match present()'s columns.
            columns = spec.column_names(lang) or []
            assert all(column in empty[number] for column in columns), (spec.name, empty[number])
            header = views.nth(number).locator("thead").first.inner_text()
            assert all(column in header for column in columns), (spec.name, header)


# A text demo and an image demo: a caption chip and a thumbnail chip.
CLICKED = ["healthcare/health-faq", "transport/vehicle-recognizer"]


@pytest.mark.parametrize("demo_id", CLICKED)
def test_one_click_on_an_example_fills_the_form_and_runs_it(page: Page, gallery_url: str, demo_id: str) -> None:
    manifest = discover(ROOT / "demos", [demo_id]).entries[0].manifest
    assert manifest is not None and len(manifest.examples) > 1
    panel = open_demo(page, gallery_url, demo_id, "en")
    last = len(manifest.examples) - 1
    chips = panel.locator(".om-example")
    expect(chips).to_have_count(len(manifest.examples))
    captions = [chips.nth(i).inner_text().strip() for i in range(chips.count())]
    assert all(captions), captions  # never a blank chip
    label = manifest.example_label(last)
    assert label is not None and captions[last] == label.en
    if any(spec.type == "image" for spec in manifest.inputs):
        expect(chips.nth(last).locator("img")).to_be_attached()  # a thumbnail of the example
    views = panel.locator(VIEWS)
    empty = [views.nth(i).inner_text() for i in range(len(manifest.outputs))]
    chips.nth(last).click()
    expect_example_values(panel, manifest, last)
    # The first view answers (the last vehicle example is a palace: its confidence bars stay empty on purpose).
    expect(panel.locator(".om-ran").first).to_contain_text(" ms", timeout=240_000)
    wait_until(lambda: len(views.first.inner_text().strip()) > len(empty[0].strip()) + 3, 30,
               f"the first view of {demo_id} to show the example's result")
    expect(page.locator(".toast-body")).to_have_count(0)
