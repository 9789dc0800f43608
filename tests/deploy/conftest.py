"""The deployment tests (container image, two-node Ray) run under `make test-deploy` only: too long for `make test`."""

from __future__ import annotations

import os

import pytest

ENABLE = "OPENMODELS_DEPLOY_TESTS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests `deploy`; skip them unless `make test-deploy` asked for them."""
    enabled = os.environ.get(ENABLE) == "1"
    skip = pytest.mark.skip(reason=f"a deployment test (container image, Ray cluster): run `make test-deploy` ({ENABLE}=1)")
    for item in items:
        if "tests/deploy/" not in item.nodeid:
            continue
        item.add_marker(pytest.mark.deploy)
        if not enabled:
            item.add_marker(skip)

