"""The slow fixture demo's model (tests/robustness/fixtures/ops/education/slow): sleeps on load and per call."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

LOAD_SECONDS_ENV = "OPENMODELS_TEST_LOAD_SECONDS"


class Sleeper:
    """A stand-in for a heavy model: each call takes the seconds it is given."""

    backend = "test-sleeper"

    def __call__(self, seconds: float) -> float:
        """Sleep `seconds` and return them."""
        time.sleep(seconds)
        return seconds


def make_sleeper(path: Path, options: dict[str, Any]) -> Sleeper:
    """Build the model, taking OPENMODELS_TEST_LOAD_SECONDS to load (0 when unset)."""
    time.sleep(float(os.environ.get(LOAD_SECONDS_ENV) or 0))
    return Sleeper()
