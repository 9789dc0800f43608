"""Every demo, through the JSON API, against junk: a 4xx with a readable reason or a valid result, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.abuse.conftest import LiveGallery, available_demos
from tests.abuse.junk import SERIES_JUNK, TEXT_JUNK, bad_files, bodies, data_url, example_value

DEMOS = available_demos()
IDS = [entry.id for entry in DEMOS]
ACCEPTABLE = {200, 400, 413, 415, 422}


def post(live: LiveGallery, demo_id: str, **kwargs: Any) -> httpx.Response:
    """POST to a demo's JSON API."""
    return httpx.post(f"{live.url}/api/demos/{demo_id}", timeout=600, **kwargs)


def assert_handled(response: httpx.Response, what: str) -> None:
    """Assert the answer is a valid result or a 4xx whose reason a person can read."""
    assert response.status_code in ACCEPTABLE, f"{what}: HTTP {response.status_code}: {response.text[:500]}"
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body, dict) and body, f"{what}: empty result"
        return
    reason = body.get("detail")
    assert isinstance(reason, str) and 5 <= len(reason) <= 2000, f"{what}: unreadable reason {body!r}"
    assert "Traceback" not in reason and 'File "' not in reason, f"{what}: stack trace leaked: {reason}"


def valid_body(entry: Any) -> dict[str, Any]:
    """Return the demo's first example as a JSON body."""
    values = {spec.name: example_value(entry.manifest, entry.path, spec) for spec in entry.manifest.inputs}
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.parametrize("entry", DEMOS, ids=IDS)
def test_named_junk_for_every_input(live_gallery: LiveGallery, entry: Any) -> None:
    """The issue's list, input by input: each case is answered, and never with a 5xx."""
    base = valid_body(entry)
    assert_handled(post(live_gallery, entry.id, json={}), "missing fields")
    assert_handled(post(live_gallery, entry.id, content=b"{not json", headers={"content-type": "application/json"}),
                   "malformed JSON")
    for spec in entry.manifest.inputs:
        cases: dict[str, Any] = {"wrong type (list)": [1, 2], "wrong type (object)": {"a": 1}, "null": None}
        if spec.type == "text":
            cases.update({f"text #{i}": text for i, text in enumerate(TEXT_JUNK)})
        elif spec.type == "series":
            cases.update({f"text #{i}": text for i, text in enumerate(TEXT_JUNK)})
            cases.update({f"array #{i}": array for i, array in enumerate(SERIES_JUNK)})
        elif spec.type in ("image", "audio", "file"):
            cases.update({name: data_url(mime, data) for name, (mime, data) in bad_files().items()})
        else:
            cases.update({"string": "abc", "huge": 10**30})
        for name, value in cases.items():
            assert_handled(post(live_gallery, entry.id, json={**base, spec.name: value}), f"{spec.name}: {name}")
        if spec.type in ("image", "audio", "file"):
            # The same hostile files as multipart uploads.
            others = {k: v if isinstance(v, str) else json.dumps(v) for k, v in base.items() if k != spec.name}
            for name, (mime, data) in bad_files().items():
                response = post(live_gallery, entry.id, data=others, files={spec.name: ("upload.bin", data, mime)})
                assert_handled(response, f"{spec.name}: multipart {name}")
    assert live_gallery.alive()


@pytest.mark.parametrize("entry", [e for e in DEMOS if any(s.type in ("image", "audio") for s in e.manifest.inputs)],
                         ids=lambda e: e.id)
def test_bombs_are_refused_with_the_limit(live_gallery: LiveGallery, entry: Any) -> None:
    """A 1-hour audio and a 20,000 x 20,000 image are refused by their headers, with the limit stated."""
    base = valid_body(entry)
    for spec in entry.manifest.inputs:
        if spec.type == "image":
            response = post(live_gallery, entry.id, json={**base, spec.name: data_url("image/png", bad_files()[
                "20,000 x 20,000 image"][1])})
        elif spec.type == "audio":
            response = post(live_gallery, entry.id, json={**base, spec.name: data_url("audio/flac", bad_files()[
                "1-hour silent audio"][1])})
        else:
            continue
        assert response.status_code in (413, 422), response.text[:300]
        reason = response.json()["detail"]
        assert "limit" in reason.lower(), reason


@pytest.mark.parametrize("entry", DEMOS, ids=IDS)
def test_generated_junk(live_gallery: LiveGallery, entry: Any) -> None:
    """Hypothesis mixes valid values, junk and missing fields; every answer is handled."""

    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=bodies(entry.manifest, entry.path))
    def check(body: Any) -> None:
        assert_handled(post(live_gallery, entry.id, json=body), f"body {str(body)[:200]}")

    check()
    assert live_gallery.alive()


def test_memory_back_to_normal_afterwards(live_gallery: LiveGallery) -> None:
    """After all the junk, the server's resident memory is near where it was once the models were warm."""
    assert live_gallery.alive()
    growth = live_gallery.rss() - live_gallery.baseline_rss
    assert growth < 300 * 1024 * 1024, f"server grew by {growth / 2**20:.0f} MiB under junk"
