"""Every demo in a real browser: pick its first example, run it, see a rendered result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from gallery.discovery import discover
from gallery.manifest import Manifest
from tests.conftest import ROOT

DEMOS = [e.id for e in discover(ROOT / "demos").entries if e.manifest is not None and e.manifest.examples]
# Content that shows a rendered view rather than an empty box, per output type.
RENDERED = {
    "label": ".output-class, .confidence-set",
    "table": "table tbody tr td",
    "highlight": ".textspan, .text",
    "plot": "canvas, svg",
    "image": "img",
    "markdown": ".prose *",
    "json": ".json-holder, .json-node",
    "text": "textarea",
}


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
    panel.locator(".om-run").click()
    first = manifest.outputs[0]
    view = panel.locator(f".om-out-{first.type}").first
    # Generous: the first run may export and load the model.
    expect(view.locator(RENDERED[first.type]).first).to_be_attached(timeout=240_000)
    if first.type == "text":
        expect(view.locator("textarea").first).not_to_have_value("", timeout=240_000)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(panel.locator(".om-output").first).not_to_contain_text(re.compile(r"^\s*\{\s*\""))
