"""Every demo in a real browser: pick its first example, run it, see a rendered result."""

from __future__ import annotations

import re
import time
from typing import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from gallery.discovery import discover
from gallery.manifest import Manifest
from tests.conftest import ROOT

DEMOS = [e.id for e in discover(ROOT / "demos").entries if e.manifest is not None and e.manifest.examples]
# Views whose result is not text: what appears once they render (an empty plot shows an icon, not axes).
RENDERED_ELEMENT = {"plot": "svg text", "image": "img[src]"}
# The top-level output wrappers only (a Markdown view carries the class on an inner element too).
VIEWS = ".om-output:not(.om-output .om-output)"


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def wait_for_example_values(panel: Locator, manifest: Manifest) -> None:
    """Wait until clicking the first example has filled the inputs (the browser fills them asynchronously)."""
    example = manifest.examples[0]
    for spec in manifest.inputs:
        value = example.get(spec.name)
        field = panel.locator(f".om-in-name-{spec.name}")
        if value is None or field.count() == 0:
            continue  # a custom UI (the demo's own build) may name its inputs differently
        if spec.type == "text" and isinstance(value, str) and value:
            expect(field.locator("textarea, input").first).to_have_value(value, timeout=30_000)
        elif spec.type == "image":
            expect(field.locator("img").first).to_be_attached(timeout=30_000)
        elif spec.type == "audio":
            expect(field.locator("audio, wave, .waveform-container").first).to_be_attached(timeout=30_000)


@pytest.mark.parametrize("demo_id", DEMOS)
def test_first_example_runs_and_renders(page: Page, gallery_url: str, demo_id: str) -> None:
    manifest = discover(ROOT / "demos", [demo_id]).entries[0].manifest
    assert manifest is not None
    page.goto(f"{gallery_url}/?demo={demo_id}")
    panel = page.locator(f"#om-tab-{demo_id.replace('/', '-')}")
    panel.locator(".gallery-item, tr.tr-body").first.click()
    wait_for_example_values(panel, manifest)
    views = panel.locator(VIEWS)
    assert views.count() == len(manifest.outputs)
    empty = [views.nth(i).inner_text() for i in range(len(manifest.outputs))]  # labels only, before the run
    panel.locator(".om-run").click()
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
    for number, spec in enumerate(manifest.outputs):
        if spec.type == "table" and spec.columns:
            # The manifest's headers show before the run and match the columns present() gives the result.
            assert all(column in empty[number] for column in spec.columns), (spec.name, empty[number])
            header = views.nth(number).locator("thead").first.inner_text()
            assert all(column in header for column in spec.columns), (spec.name, header)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(panel.locator(".om-output").first).not_to_contain_text(re.compile(r"^\s*\{\s*\""))
