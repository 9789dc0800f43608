"""What a second Ray node adds: the heavy-light mix on a one-node cluster, then again after a second node joins.

`python -m benchmarks.second_node [--duration 60] [--json PATH]` (needs the `ray` extra and at least 2 cores)
starts Ray's multi-node harness on this machine: a head node pinned to core 0 (`sched_setaffinity`, inherited
by its raylet and replicas) with 2 logical CPUs, and a gallery front end on `--engine ray --ray-address` pinned to
the same core, as are the benchmark's clients. It runs the mix of `benchmarks/mix.py` (3 clients on
clinical-dictation, one on each of 4 light demos) for `--duration` seconds. Then a worker node pinned to core 1
joins, the heavy deployment is driven until its second replica runs there (it does not fit on the head: 1 CPU for
the first heavy replica + 0.5 for the light pool + 1 would be 2.5 of 2), and the mix runs again. Each node thus
has exactly one physical core; the figures say what adding one core's node does to a heavy deployment, measured
in one run. Run it on an otherwise idle machine, with no other Ray on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
REPLICA_WAIT_S = 300.0


def _pinned(core: int) -> set[int]:
    """Pin this process (and what it starts from now on) to one core; return the previous set."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    return before


def heavy_replicas(url: str, demo_id: str) -> int:
    """Return how many replicas of a demo's heavy deployment run, from the front end's /readyz."""
    import httpx

    from gallery.rayserve.deployments import heavy_name

    body = httpx.get(f"{url}/readyz", timeout=10).json()
    return int(body.get("deployments", {}).get(heavy_name(demo_id), {}).get("replicas", 0))


def wait_for_second_replica(url: str, heavy: Any) -> float:
    """Keep the heavy demo busy until its second replica runs; return the seconds it took."""
    from benchmarks.load import Tally
    from benchmarks.mix import HEAVY, HEAVY_CLIENTS, _loop

    started = time.monotonic()
    deadline = started + REPLICA_WAIT_S
    while time.monotonic() < deadline:
        if heavy_replicas(url, HEAVY) >= 2:
            return time.monotonic() - started
        # Queued heavy calls are what makes Serve's autoscaler add the replica.
        tally = Tally(latencies={"heavy": []})
        burst = time.monotonic() + 10
        threads = [threading.Thread(target=_loop, args=(url, heavy, burst, tally, "heavy"), daemon=True)
                   for _ in range(HEAVY_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    raise RuntimeError(f"the heavy deployment had no second replica after {REPLICA_WAIT_S:.0f} s")


def format_nodes(reports: dict[str, dict[str, Any]]) -> str:
    """Return the one-node and two-node figures side by side, with the ratios."""
    lines = [f"{'cluster':<10} {'req/s':>7} {'heavy req':>10} {'heavy p50':>10} {'heavy p95':>10} "
             f"{'light p50':>10} {'light p95':>10} {'errors':>7}"]
    for name, r in reports.items():
        lines.append(f"{name:<10} {r['requests_per_s']:>7} {r['heavy']['requests']:>10} {r['heavy']['p50_ms']:>10} "
                     f"{r['heavy']['p95_ms']:>10} {r['light']['p50_ms']:>10} {r['light']['p95_ms']:>10} "
                     f"{r['errors']:>7}")
    one, two = reports.get("1 node"), reports.get("2 nodes")
    if one and two and one["heavy"]["requests"]:
        lines.append(f"2 nodes / 1 node: heavy requests x{two['heavy']['requests'] / one['heavy']['requests']:.2f}, "
                     f"heavy p50 x{two['heavy']['p50_ms'] / max(one['heavy']['p50_ms'], 0.1):.2f}, "
                     f"light p95 x{two['light']['p95_ms'] / max(one['light']['p95_ms'], 0.1):.2f}")
    return "\n".join(lines)


def run(duration: float, demos_dir: Path) -> dict[str, Any]:
    """Measure the mix on one node, add a second node, measure again; return both reports."""
    from ray.cluster_utils import Cluster

    from benchmarks.load import _start_server, build_calls, warm_up
    from benchmarks.mix import HEAVY, LIGHT, run_mix

    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("this benchmark needs 2 cores: one per node")
    calls = {c.demo_id: c for c in build_calls(demos_dir, [HEAVY, *LIGHT])}
    everything = _pinned(0)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    process = None
    reports: dict[str, Any] = {}
    try:
        process, url = _start_server(demos_dir, *(f"--demo={d}" for d in calls), "--engine=ray",
                                     f"--ray-address={cluster.address}")
        warm_up(url, list(calls.values()))
        reports["1 node"] = run_mix(url, calls[HEAVY], [calls[d] for d in LIGHT], process.pid, duration=duration)
        reports["1 node"]["heavy_replicas"] = heavy_replicas(url, HEAVY)
        print(f"1 node: {json.dumps(reports['1 node'])}", flush=True)
        os.sched_setaffinity(0, {1})  # the worker's raylet and its replicas inherit core 1
        cluster.add_node(num_cpus=2)
        os.sched_setaffinity(0, {0})
        cluster.wait_for_nodes()
        waited = wait_for_second_replica(url, calls[HEAVY])
        reports["2 nodes"] = run_mix(url, calls[HEAVY], [calls[d] for d in LIGHT], process.pid, duration=duration)
        reports["2 nodes"]["heavy_replicas"] = heavy_replicas(url, HEAVY)
        reports["2 nodes"]["second_replica_after_s"] = round(waited, 1)
        print(f"2 nodes: {json.dumps(reports['2 nodes'])}", flush=True)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # open keep-alive connections can hold a graceful stop
                process.kill()
        cluster.shutdown()
        os.sched_setaffinity(0, everything)
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    """Run the two-node benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demos-dir", type=Path, default=ROOT / "demos")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    reports = run(args.duration, args.demos_dir)
    print(format_nodes(reports), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=2), encoding="utf-8")
    return 0 if all(r["errors"] == 0 for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
