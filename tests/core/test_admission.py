"""Per-demo admission: queue sizing, refusal when the queue is full or the expected wait too long, FIFO order,
and a bounded wait; with real threads and short real calls."""

from __future__ import annotations

import threading
import time

import pytest

from gallery.admission import Admission, Lane
from gallery.errors import Busy


def _hold(lane: Lane, seconds: float, log: list[str] | None = None, name: str = "") -> threading.Thread:
    """Start a thread that holds one of the lane's slots for `seconds` (appending `name` to `log` once in)."""

    def run() -> None:
        with lane.slot():
            if log is not None:
                log.append(name)
            time.sleep(seconds)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(condition: object, timeout: float = 10.0) -> None:
    """Wait until condition() is true."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_default_queue_is_four_per_slot_and_at_least_eight() -> None:
    admission = Admission()
    assert admission.queue_limit(1) == 8 and admission.queue_limit(2) == 8 and admission.queue_limit(3) == 12
    assert Admission(max_queue=0).queue_limit(4) == 0
    fresh = admission.state("x/y", 2)
    assert (fresh.depth, fresh.max_queue, fresh.concurrency, fresh.p50_ms) == (0, 8, 2, None)


def test_a_full_queue_refuses_at_once_and_others_are_not_affected() -> None:
    admission = Admission(max_queue=1, max_wait=30)
    lane = admission.lane("heavy/demo", 1)
    threads = [_hold(lane, 0.3)]
    _until(lambda: lane.state().running == 1)
    threads.append(_hold(lane, 0.01))
    _until(lambda: lane.state().waiting == 1)
    with pytest.raises(Busy) as refused:
        admission.check("heavy/demo", 1)
    assert refused.value.demo_id == "heavy/demo" and refused.value.retry_after >= 1
    assert "queue is full (1 waiting, 1 running)" in str(refused.value)
    with pytest.raises(Busy), lane.slot():
        pass
    with admission.slot("light/demo", 1):  # another demo has its own lane
        assert admission.state("light/demo", 1).running == 1
    for thread in threads:
        thread.join()
    state = lane.state()
    assert (state.running, state.waiting) == (0, 0) and state.p50_ms is not None


def test_an_expected_wait_past_max_wait_is_refused() -> None:
    lane = Admission(max_queue=10, max_wait=0.5).lane("x/y", 1)
    for _ in range(3):  # the recent median: about 0.2 s a call
        with lane.slot():
            time.sleep(0.2)
    threads = [_hold(lane, 0.3)]
    _until(lambda: lane.state().running == 1)
    for waiting in (1, 2):  # 1st and 2nd in line: about 0.2 and 0.4 s to wait, admitted
        threads.append(_hold(lane, 0.01))
        _until(lambda waiting=waiting: lane.state().waiting == waiting)
    with pytest.raises(Busy) as refused:  # 3rd in line: about 0.6 s
        lane.check()
    assert "the wait would be about 1 s, longer than the 0.5 s allowed" in refused.value.reason
    for thread in threads:
        thread.join()


def test_waiters_get_their_turn_in_order_of_arrival() -> None:
    lane = Admission(max_queue=8).lane("x/y", 1)
    log: list[str] = []
    threads = [_hold(lane, 0.2, log, "first")]
    _until(lambda: log == ["first"])
    for i in range(5):
        threads.append(_hold(lane, 0.0, log, f"waiter-{i}"))
        _until(lambda i=i: lane.state().waiting == i + 1)
    for thread in threads:
        thread.join()
    assert log == ["first", *(f"waiter-{i}" for i in range(5))]


def test_no_one_waits_longer_than_max_wait() -> None:
    lane = Admission(max_queue=8, max_wait=0.2).lane("x/y", 1)
    holder = _hold(lane, 1.0)
    _until(lambda: lane.state().running == 1)
    # Nothing measured yet, so the estimate lets it in; the wait does not.
    with pytest.raises(Busy) as refused, lane.slot():
        pass
    assert lane.state().running == 1  # it left the queue at max_wait, while the slot was still taken
    assert "waited 0.2 s in the queue" in refused.value.reason
    assert lane.state().waiting == 0
    holder.join()
