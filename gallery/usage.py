"""What each demo has done since the gallery started: requests and the latency of its successful runs.

Home's cards read it ("p50 412 ms", the "most used" order) and so does `/api/demos`. Every front end reports
here through `gallery.metrics.record_request`, the same call that feeds the Prometheus counters, so the two
never disagree; unlike the histogram (buckets), this keeps the measured times, so the median is exact.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from dataclasses import dataclass

# The median of the latest runs: recent enough to follow a warmed-up model, bounded in memory.
KEPT_TIMES = 1000


@dataclass(frozen=True)
class DemoUsage:
    """One demo's figures since start: requests that reached its run path, and its runs' median time."""

    requests: int = 0
    runs: int = 0
    p50_ms: float | None = None  # None until a run succeeded: nothing is shown rather than a guess

    def as_dict(self) -> dict[str, int | float | None]:
        """Return the figures as the JSON API gives them."""
        return {"requests": self.requests, "runs": self.runs,
                "p50_ms": None if self.p50_ms is None else round(self.p50_ms, 1)}


class UsageLog:
    """Thread-safe per-demo request counts and recent successful run times."""

    def __init__(self, kept: int = KEPT_TIMES) -> None:
        self._lock = threading.Lock()
        self._kept = kept
        self._requests: dict[str, int] = {}
        self._runs: dict[str, int] = {}
        self._times: dict[str, deque[float]] = {}

    def record(self, demo_id: str, status: str, seconds: float | None) -> None:
        """Count one request; keep its time when the demo ran it successfully (refusals and failures are not
        runs a visitor waited for a result from)."""
        with self._lock:
            self._requests[demo_id] = self._requests.get(demo_id, 0) + 1
            if status == "ok" and seconds is not None:
                self._runs[demo_id] = self._runs.get(demo_id, 0) + 1
                self._times.setdefault(demo_id, deque(maxlen=self._kept)).append(seconds)

    def get(self, demo_id: str) -> DemoUsage:
        """Return one demo's figures (zeros and no median when it has not been used)."""
        with self._lock:
            times = list(self._times.get(demo_id, ()))
            requests, runs = self._requests.get(demo_id, 0), self._runs.get(demo_id, 0)
        return DemoUsage(requests, runs, statistics.median(times) * 1000 if times else None)
