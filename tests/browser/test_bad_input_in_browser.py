"""Bad input in the page: a readable message, never a stack trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from gallery.discovery import discover
from tests.conftest import ROOT

INDEX = discover(ROOT / "demos")
TEXT_DEMO = next((e.id for e in INDEX.entries if e.manifest and e.manifest.inputs[0].type == "text"), None)
IMAGE_DEMO = next((e.id for e in INDEX.entries if e.manifest and any(i.type == "image" for i in e.manifest.inputs)), None)


@pytest.mark.skipif(TEXT_DEMO is None, reason="no text demo in demos/")
def test_empty_text_shows_a_readable_error(page: Page, gallery_url: str) -> None:
    assert TEXT_DEMO is not None
    page.goto(f"{gallery_url}/?demo={TEXT_DEMO}")
    panel = page.locator(f"#om-tab-{TEXT_DEMO.replace('/', '-')}")
    field = panel.locator(".om-input textarea").first
    expect(field).not_to_have_value("")  # the form opens with the first example: empty it
    field.fill("")
    panel.locator(".om-run").click()
    toast = page.locator(".toast-body").first
    expect(toast).to_contain_text("is empty")
    expect(toast).not_to_contain_text("Traceback")


@pytest.mark.skipif(IMAGE_DEMO is None, reason="no image demo in demos/")
def test_invalid_upload_shows_a_readable_error(page: Page, gallery_url: str, tmp_path: Path) -> None:
    assert IMAGE_DEMO is not None
    fake = tmp_path / "holiday.png"
    fake.write_bytes(b"this is not an image at all, just text renamed to .png\n" * 20)
    page.goto(f"{gallery_url}/?demo={IMAGE_DEMO}")
    panel = page.locator(f"#om-tab-{IMAGE_DEMO.replace('/', '-')}")
    panel.locator("input[type=file]").first.set_input_files(str(fake))
    panel.locator(".om-run").click()
    toast = page.locator(".toast-body").first
    expect(toast).to_be_visible(timeout=60_000)
    expect(toast).not_to_contain_text("Traceback")
    text = toast.inner_text().lower()
    assert "image" in text and ("not" in text or "cannot" in text or "unsupported" in text), text
