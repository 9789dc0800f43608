"""Per-client token-bucket rate limit for the JSON API (429, a reason and Retry-After) and MCP tool calls."""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

DEFAULT_RATE = "120/min"
MAX_CLIENTS = 10_000  # buckets kept at once; full (idle) ones are dropped first
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
          "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?:/\s*(?P<unit>[a-z]+))?\s*$")
USER_SCOPE_KEY = "openmodels.user"  # set by gallery.auth on authenticated requests


@dataclass(frozen=True)
class Rate:
    """`count` requests per `seconds`; also the burst a full bucket allows."""

    count: float
    seconds: float

    def __str__(self) -> str:
        unit = {1.0: "second", 60.0: "minute", 3600.0: "hour"}.get(self.seconds, f"{self.seconds:g} s")
        return f"{self.count:g} requests per {unit}"


def parse_rate(text: str) -> Rate | None:
    """Parse `N/min`, `N/s`, `N/h` or a bare `N` (per minute); return None for 0 (no limit)."""
    match = _RATE.match(text.lower())
    unit = (match.group("unit") or "min") if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"rate limit {text!r} must look like 120/min, 5/s, 1000/h or 0 (off)")
    count = float(match.group("n"))
    return Rate(count, _UNITS[unit]) if count > 0 else None


def rate_from_env() -> Rate | None:
    """Return OPENMODELS_RATE_LIMIT, else the default (120/min)."""
    return parse_rate(os.environ.get("OPENMODELS_RATE_LIMIT") or DEFAULT_RATE)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client: a full bucket holds `rate.count` tokens, refilled evenly over `rate.seconds`."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(rate.count, 1.0)
        self.refill = rate.count / rate.seconds  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """Take one token for `client`; return 0 when allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= MAX_CLIENTS:
                    self._prune(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.refill

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled (they lose nothing), else the longest idle half."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.refill >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_CLIENTS:
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[: MAX_CLIENTS // 2]:
                del self._buckets[key]


def client_key(request: Request) -> str:
    """Return who is asking: the authenticated user at the client's address, else the address."""
    host = request.client.host if request.client else "unknown"
    user = request.scope.get(USER_SCOPE_KEY)
    return f"{user}@{host}" if user else host


def refusal(limiter: RateLimiter, wait: float) -> tuple[int, str]:
    """Return (seconds to wait, the reason) for a client whose bucket is empty for `wait` more seconds."""
    retry = max(1, math.ceil(wait))
    return retry, f"rate limit exceeded: this API allows {limiter.rate} per client; retry in {retry} s"


def rate_limit_guard(limiter: RateLimiter):  # type: ignore[no-untyped-def]
    """Return an API guard that answers 429 with Retry-After when the client's bucket is empty."""

    async def guard(request: Request) -> None:
        wait = limiter.acquire(client_key(request))
        if wait > 0:
            retry, reason = refusal(limiter, wait)
            raise HTTPException(429, reason, headers={"Retry-After": str(retry)})

    return guard
