"""Fuzz the JSON API from its own OpenAPI schema (schemathesis): no request may get a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.abuse.conftest import LiveGallery


def test_no_server_errors_for_any_operation(live_gallery: LiveGallery) -> None:
    schema = schemathesis.openapi.from_url(f"{live_gallery.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3, "the schema lists the index, one demo's details and each demo's POST"
    for operation in operations:

        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=live_gallery.url, timeout=600)
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
            if response.status_code >= 400:
                assert response.json().get("detail"), f"{where}: {response.status_code} without a reason"

        check()
    assert live_gallery.alive()
