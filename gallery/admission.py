"""Per-demo admission control: a bounded FIFO queue in front of each demo, refusing at once what would wait too long.

Every front end (JSON API, Gradio UI and gradio_client, MCP) reaches a demo through `GalleryService.predict`,
which holds one of the demo's slots here for the duration of the call. A demo runs at most `concurrency` calls
at once (its models' `max_concurrency`); further calls wait in its queue, in order of arrival. A call is refused
at once with `Busy` (HTTP 503 + Retry-After, a "busy" message in the UI) when the queue already holds
`max_queue` calls, or when its expected wait, the demo's recent median run time times its queue position
divided by its concurrency, is longer than `max_wait`. A call that was admitted but still waits after
`max_wait` (the estimate was wrong) leaves the queue with `Busy` too, so no caller waits longer than that.

Each demo has its own lane, so a flood on a heavy demo leaves light demos alone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from gallery.errors import Busy
from gallery.manifest import Manifest

logger = logging.getLogger(__name__)

DEFAULT_MAX_WAIT_S = 60.0
MIN_QUEUE = 8  # the default queue is 4 x the demo's concurrency, at least this
QUEUE_PER_SLOT = 4
RECENT_CALLS = 32  # run times kept per demo for the median
MAX_RETRY_AFTER_S = 3600
DEFAULT_CONCURRENCY = 2  # a demo without models: as many calls at once as a model gets by default


def demo_concurrency(manifest: Manifest | None) -> int:
    """Return how many calls of a demo run at once: the largest `max_concurrency` of its models."""
    if manifest is None:
        return DEFAULT_CONCURRENCY
    return max((spec.max_concurrency for spec in manifest.models.values()), default=DEFAULT_CONCURRENCY)


def queue_size(text: str) -> int:
    """Parse --max-queue for argparse: a whole number of waiting requests, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of requests") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def seconds(text: str) -> float:
    """Parse a positive number of seconds for argparse (--max-wait, --shutdown-timeout)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class QueueState:
    """One demo's queue as /metrics and the status JSON show it."""

    running: int
    waiting: int
    concurrency: int
    max_queue: int
    p50_ms: float | None  # median run time of recent calls; None before the first call ends

    @property
    def depth(self) -> int:
        """Return the requests waiting plus running."""
        return self.running + self.waiting

    def as_dict(self) -> dict[str, int | float | None]:
        """Return the state as JSON-ready fields."""
        return {"depth": self.depth, "running": self.running, "waiting": self.waiting,
                "concurrency": self.concurrency, "max_queue": self.max_queue, "p50_ms": self.p50_ms}


class _Waiter:
    """One queued call: woken when a finishing call hands it its slot."""

    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False


class Lane:
    """One demo's slots, FIFO queue and recent run times."""

    def __init__(self, demo_id: str, concurrency: int, max_queue: int, max_wait: float) -> None:
        self.demo_id = demo_id
        self.concurrency = concurrency
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.running = 0
        self._waiters: deque[_Waiter] = deque()
        self._durations: deque[float] = deque(maxlen=RECENT_CALLS)
        self._started: dict[object, float] = {}  # a running call's token -> when it got its slot
        self._lock = threading.Lock()

    # -- estimates (caller holds the lock) -----------------------------------------------------------------

    def _typical_run(self) -> float:
        """Return the median recent run time; before any call ended, how long the running ones have taken."""
        if self._durations:
            return statistics.median(self._durations)
        now = time.monotonic()
        return max((now - t for t in self._started.values()), default=0.0)

    def _expected_wait(self, position: int) -> float:
        """Return the seconds a call at `position` in the queue (1 = next) should wait for a slot."""
        return self._typical_run() * position / self.concurrency

    def _retry_after(self) -> int:
        """Return when to come back: the time the calls already queued should take, in whole seconds."""
        drain = self._expected_wait(len(self._waiters) + 1)
        return min(MAX_RETRY_AFTER_S, max(1, math.ceil(drain)))

    def _refusal(self) -> Busy | None:
        """Return why a new call would be refused now, or None when it may run or queue."""
        if self.running < self.concurrency and not self._waiters:
            return None
        position = len(self._waiters) + 1
        if len(self._waiters) >= self.max_queue:
            reason = f"its queue is full ({len(self._waiters)} waiting, {self.running} running)"
            return Busy(self.demo_id, self._retry_after(), reason)
        wait = self._expected_wait(position)
        if wait > self.max_wait:
            reason = f"the wait would be about {math.ceil(wait)} s, longer than the {self.max_wait:g} s allowed"
            return Busy(self.demo_id, self._retry_after(), reason)
        return None

    # -- admission -----------------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise Busy if a call arriving now would be refused (a cheap test before decoding its inputs)."""
        with self._lock:
            refused = self._refusal()
        if refused is not None:
            self._log(refused)
            raise refused

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the demo's slots for a call, waiting in the queue for it or raising Busy at once."""
        waiter = None
        with self._lock:
            refused = self._refusal()
            if refused is None and self.running < self.concurrency and not self._waiters:
                self.running += 1
            elif refused is None:
                waiter = _Waiter()
                self._waiters.append(waiter)
        if refused is not None:
            self._log(refused)
            raise refused
        if waiter is not None:
            self._wait(waiter)
        token = object()  # this call's key among the running ones
        started = time.monotonic()
        with self._lock:
            self._started[token] = started
        try:
            yield
        finally:
            self._release(token, time.monotonic() - started)

    def _wait(self, waiter: _Waiter) -> None:
        """Block until a finishing call hands this waiter its slot; give up with Busy after max_wait."""
        if waiter.event.wait(self.max_wait):
            return
        with self._lock:
            if waiter.granted:  # handed a slot just as the wait ran out: take it
                return
            self._waiters.remove(waiter)
            refused = Busy(self.demo_id, self._retry_after(),
                           f"it waited {self.max_wait:g} s in the queue without getting a turn")
        self._log(refused)
        raise refused

    def _release(self, token: object, seconds: float) -> None:
        """Record the call's run time and pass its slot to the longest waiter (FIFO), if any."""
        with self._lock:
            self._started.pop(token, None)
            self._durations.append(seconds)
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True  # the slot changes hands directly, so `running` stays the same
                waiter.event.set()
            else:
                self.running -= 1

    def _log(self, refused: Busy) -> None:
        """Log a refusal (INFO: a flood is expected traffic, not a fault)."""
        logger.info("demo %s: refused: %s (retry in %d s)", self.demo_id, refused.reason, refused.retry_after)

    def state(self) -> QueueState:
        """Return the queue's current state."""
        with self._lock:
            p50 = statistics.median(self._durations) * 1000 if self._durations else None
            return QueueState(self.running, len(self._waiters), self.concurrency, self.max_queue,
                              round(p50, 1) if p50 is not None else None)


class Admission:
    """The lanes of every demo, created on first use with the demo's concurrency and the server's limits."""

    def __init__(self, max_queue: int | None = None, max_wait: float = DEFAULT_MAX_WAIT_S) -> None:
        self.max_queue = max_queue  # None: each demo gets QUEUE_PER_SLOT x its concurrency, at least MIN_QUEUE
        self.max_wait = max_wait
        self._lanes: dict[str, Lane] = {}
        self._lock = threading.Lock()

    def queue_limit(self, concurrency: int) -> int:
        """Return how many calls may wait for a demo that runs `concurrency` at once."""
        if self.max_queue is not None:
            return self.max_queue
        return max(MIN_QUEUE, QUEUE_PER_SLOT * concurrency)

    def lane(self, demo_id: str, concurrency: int) -> Lane:
        """Return the demo's lane, creating it on first use."""
        with self._lock:
            lane = self._lanes.get(demo_id)
            if lane is None:
                lane = self._lanes[demo_id] = Lane(demo_id, concurrency, self.queue_limit(concurrency), self.max_wait)
            return lane

    def slot(self, demo_id: str, concurrency: int) -> contextlib.AbstractContextManager[None]:
        """Return a context that holds one of the demo's slots (raises Busy when refused)."""
        return self.lane(demo_id, concurrency).slot()

    def check(self, demo_id: str, concurrency: int) -> None:
        """Raise Busy if a call of the demo arriving now would be refused."""
        self.lane(demo_id, concurrency).check()

    def state(self, demo_id: str, concurrency: int) -> QueueState:
        """Return a demo's queue state (an empty queue for a demo not called yet)."""
        with self._lock:
            lane = self._lanes.get(demo_id)
        if lane is None:
            return QueueState(0, 0, concurrency, self.queue_limit(concurrency), None)
        return lane.state()

    def in_flight(self) -> int:
        """Return the calls running or waiting now, over every demo (what a graceful stop waits for)."""
        with self._lock:
            lanes = list(self._lanes.values())
        return sum(lane.state().depth for lane in lanes)
