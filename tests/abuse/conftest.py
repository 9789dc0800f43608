"""One real gallery server (subprocess) over every real demo, shared by the abuse tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import psutil
import pytest

from gallery.discovery import discover
from tests.conftest import ROOT
from tests.serving import start_gallery, stop

DEMOS = ROOT / "demos"


@dataclass
class LiveGallery:
    """A running `gallery run` process and what the tests need to talk to it."""

    url: str
    process: Any
    baseline_rss: int = 0

    def rss(self) -> int:
        """Return the server's resident memory in bytes."""
        return psutil.Process(self.process.pid).memory_info().rss

    def alive(self) -> bool:
        """Return True when the server process still runs and answers."""
        if self.process.poll() is not None:
            return False
        return httpx.get(self.url + "/api/demos", timeout=10).status_code == 200


def available_demos() -> list[Any]:
    """Return the discovered demos whose manifests load (as the server will serve them)."""
    return [entry for entry in discover(DEMOS).entries if entry.manifest is not None]


@pytest.fixture(scope="session")
def live_gallery() -> Iterator[LiveGallery]:
    """Serve every real demo, warm each one with its first example, and record the memory baseline."""
    # Rate limiting is tested on its own; here one client sends many requests on purpose.
    process, url = start_gallery(DEMOS, env={"OPENMODELS_RATE_LIMIT": "0"}, timeout=180)
    live = LiveGallery(url, process)
    try:
        for entry in available_demos():
            from tests.abuse.junk import example_value

            body = {spec.name: example_value(entry.manifest, entry.path, spec) for spec in entry.manifest.inputs}
            body = {k: v for k, v in body.items() if v is not None}
            # Warm-up only: loading each model now keeps the memory baseline honest.
            httpx.post(f"{url}/api/demos/{entry.id}", json=body, timeout=600)
        live.baseline_rss = live.rss()
        yield live
    finally:
        stop(process)
