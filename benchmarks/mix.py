"""The heavy-light mix (`python -m benchmarks.load --mix heavy-light --engine local|ray|both`).

3 clients call a heavy demo (clinical-dictation) and one client each calls 4 light text demos, back to back, for
60 s, through the JSON API of a gallery started on each engine in turn (the same demos, the same machine, one
run). Reported per engine: requests/s, heavy and light p50/p95, errors, and the peak resident memory of the
gallery process and all it started (on Ray: the raylet, the GCS, the Serve controller and the replicas).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.load import Call, Tally, _percentile, _post

HEAVY = "healthcare/clinical-dictation"
LIGHT = ("finance/banking-intent", "finance/news-sentiment", "transport/complaint-router",
         "education/subject-classifier")
HEAVY_CLIENTS = 3


def _loop(url: str, call: Call, deadline: float, tally: Tally, channel: str) -> None:
    import httpx

    with httpx.Client(timeout=600) as http:
        while time.monotonic() < deadline:
            _post(http, url, call, tally, channel, channel)


def _tree_rss(pid: int) -> int:
    """Return the resident memory of a process and all its descendants (on Ray: its raylet, GCS and replicas)."""
    import psutil

    total = 0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # a worker that exited between the listing and the reading
            continue
    return total


def _memory_monitor(pid: int, stop: threading.Event, peak: dict[str, int]) -> None:
    while not stop.is_set():
        peak["rss"] = max(peak.get("rss", 0), _tree_rss(pid))
        stop.wait(0.5)


def run_mix(url: str, heavy: Call, light: list[Call], pid: int, duration: float = 60.0) -> dict[str, Any]:
    """Run the mix against one server and return its figures."""
    tally = Tally(latencies={"heavy": [], "light": []})
    peak: dict[str, int] = {}
    stop = threading.Event()
    monitor = threading.Thread(target=_memory_monitor, args=(pid, stop, peak), daemon=True)
    monitor.start()
    deadline = time.monotonic() + duration
    started = time.monotonic()
    threads = [threading.Thread(target=_loop, args=(url, heavy, deadline, tally, "heavy"), daemon=True)
               for _ in range(HEAVY_CLIENTS)]
    threads += [threading.Thread(target=_loop, args=(url, call, deadline, tally, "light"), daemon=True)
                for call in light]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    monitor.join()

    def figures(values: list[float]) -> dict[str, Any]:
        return {"requests": len(values), "p50_ms": round(_percentile(values, 50) * 1000, 1),
                "p95_ms": round(_percentile(values, 95) * 1000, 1)}

    every = tally.latencies["heavy"] + tally.latencies["light"]
    return {"duration_s": round(elapsed, 1), "requests": len(every),
            "requests_per_s": round(len(every) / elapsed, 2), "heavy": figures(tally.latencies["heavy"]),
            "light": figures(tally.latencies["light"]), "errors": sum(tally.errors.values()),
            "error_kinds": dict(tally.errors),
            "memory_mib": round(peak.get("rss", 0) / 2**20)}


def format_mix(reports: dict[str, dict[str, Any]]) -> str:
    """Return the engines' figures side by side, with ratios against the local engine."""
    lines = [f"heavy-light mix: {HEAVY_CLIENTS} clients on {HEAVY}, 1 each on {', '.join(LIGHT)}",
             f"{'engine':<8} {'req/s':>7} {'heavy p50':>10} {'heavy p95':>10} {'light p50':>10} {'light p95':>10} "
             f"{'errors':>7} {'memory MiB':>11}"]
    for engine, r in reports.items():
        lines.append(f"{engine:<8} {r['requests_per_s']:>7} {r['heavy']['p50_ms']:>10} {r['heavy']['p95_ms']:>10} "
                     f"{r['light']['p50_ms']:>10} {r['light']['p95_ms']:>10} {r['errors']:>7} "
                     f"{r['memory_mib']:>11}")
    if "local" in reports and "ray" in reports and reports["local"]["requests_per_s"]:
        local, ray = reports["local"], reports["ray"]
        lines.append(f"ray / local: requests/s x{ray['requests_per_s'] / local['requests_per_s']:.2f}, "
                     f"light p95 x{ray['light']['p95_ms'] / max(local['light']['p95_ms'], 0.1):.2f}, "
                     f"heavy p95 x{ray['heavy']['p95_ms'] / max(local['heavy']['p95_ms'], 0.1):.2f}")
    return "\n".join(lines)
