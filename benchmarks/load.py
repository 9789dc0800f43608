"""Load test: N concurrent clients call a mix of demos through the JSON API and gradio_client.

Each client is a thread that loops until the time is up, calling the demos round-robin with each demo's
first example (files as data URLs for the JSON API). A quarter of the clients (at least one) use
gradio_client on the demos whose inputs are all plain values. A monitor samples the server process's
resident memory and thread count. Reported: requests/s, p50/p95/p99 latency per channel and overall,
errors by kind (must be 0), the server's peak RSS and peak thread count.

Run against a server you started (`gallery run`, then `--url http://127.0.0.1:7860 --pid PID`), or let
the script start one: `python -m benchmarks.load --clients 32 --duration 60 [--demo ID ...] [--json PATH]`.
The server should run with the rate limit off (`OPENMODELS_RATE_LIMIT=0`), since all clients share one IP.

`--flood` measures admission control instead: 24 (`--flood-requests`) concurrent JSON requests hit one heavy
demo (`--heavy`, default healthcare/clinical-dictation with its first example) while one client calls a light
demo (`--light`, default finance/banking-intent) in a loop. Reported: requests accepted, refused with 503 and
Retry-After, the longest wait of an accepted request, and the light demo's p95 before and during the flood.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Call:
    """One demo request ready to send: JSON body for the API, keyword arguments for gradio_client."""

    demo_id: str
    api_name: str
    body: dict[str, Any]
    plain: bool  # only plain values (no files): gradio_client can send it as keywords
    keywords: dict[str, Any] = field(default_factory=dict)  # every input, as gradio_client must name them


@dataclass
class Tally:
    """What the clients saw, merged under a lock."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"json": [], "gradio": []})
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, channel: str, seconds: float) -> None:
        """Record one successful call."""
        with self.lock:
            self.latencies[channel].append(seconds)

    def error(self, kind: str) -> None:
        """Record one failed call by kind."""
        with self.lock:
            self.errors[kind] += 1


def build_calls(demos_dir: Path, wanted: Sequence[str] = ()) -> list[Call]:
    """Return one call per available demo (its first example), optionally only the `wanted` ids."""
    from gallery.discovery import discover
    from gallery.iotypes import FILE_TYPES, input_type

    calls = []
    for entry in discover(demos_dir).available:
        manifest = entry.manifest
        if manifest is None or not manifest.examples or (wanted and entry.id not in wanted):
            continue
        body: dict[str, Any] = {}
        for spec in manifest.inputs:
            value = manifest.examples[0].get(spec.name, spec.default)
            if value is None:
                continue
            if spec.type in FILE_TYPES:
                data = (entry.path / str(value)).read_bytes()
                value = "data:application/octet-stream;base64," + base64.b64encode(data).decode("ascii")
            body[spec.name] = value
        plain = not any(spec.type in FILE_TYPES for spec in manifest.inputs)
        # The JSON API may omit an input; Gradio's endpoint wants them all (an empty text means "not given").
        keywords = {spec.name: body.get(spec.name, spec.default if spec.default is not None else
                                        ("" if input_type(spec.type).typed_text else None)) for spec in manifest.inputs}
        calls.append(Call(entry.id, manifest.api_name, body, plain, keywords))
    return calls


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def _post(http: Any, url: str, call: Call, tally: Tally, channel: str, label: str) -> None:
    """POST one call to the JSON API and record its latency under `channel`, or the error under `label`."""
    import httpx

    started = time.perf_counter()
    try:
        response = http.post(f"{url}/api/demos/{call.demo_id}", json=call.body)
    except httpx.HTTPError as exc:
        tally.error(f"{label} {call.demo_id}: {type(exc).__name__}")
        return
    if response.status_code == 200:
        tally.ok(channel, time.perf_counter() - started)
    else:
        # The reason names which limit refused it (admission, Ray's queue, a replica that went away).
        reason = " ".join(response.text.split())[:120]
        tally.error(f"{label} {call.demo_id}: HTTP {response.status_code} {reason}")


def _json_client(url: str, calls: list[Call], offset: int, deadline: float, tally: Tally) -> None:
    import httpx

    with httpx.Client(timeout=600) as http:
        for call in itertools.islice(itertools.cycle(calls), offset, None):
            if time.monotonic() >= deadline:
                return
            _post(http, url, call, tally, "json", "json")


def _gradio_client(url: str, calls: list[Call], offset: int, deadline: float, tally: Tally) -> None:
    from gradio_client import Client

    plain = [c for c in calls if c.plain]
    if not plain:
        return
    client = Client(url + "/", verbose=False)
    for call in itertools.islice(itertools.cycle(plain), offset, None):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        try:
            client.predict(**call.keywords, api_name=f"/{call.api_name}")
        # gradio_client raises its own and httpx's errors alike; each one is a counted failure, not a crash.
        except Exception as exc:  # noqa: BLE001
            tally.error(f"gradio {call.demo_id}: {type(exc).__name__}: {str(exc)[:80]}")
            continue
        tally.ok("gradio", time.perf_counter() - started)


def _monitor(pid: int | None, stop: threading.Event, peaks: dict[str, int]) -> None:
    if pid is None:
        return
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            peaks["rss"] = max(peaks.get("rss", 0), process.memory_info().rss)
            peaks["threads"] = max(peaks.get("threads", 0), process.num_threads())
        except psutil.Error:
            return
        stop.wait(0.2)


def run_load(url: str, calls: list[Call], clients: int = 32, duration: float = 60.0,
             pid: int | None = None) -> dict[str, Any]:
    """Run the load and return the figures."""
    if not calls:
        raise ValueError("no demo to call")
    tally = Tally()
    peaks: dict[str, int] = {}
    stop = threading.Event()
    if pid is not None:
        import psutil

        peaks["threads_before"] = psutil.Process(pid).num_threads()
    monitor = threading.Thread(target=_monitor, args=(pid, stop, peaks), daemon=True)
    monitor.start()
    gradio_clients = max(1, clients // 4) if any(c.plain for c in calls) else 0
    deadline = time.monotonic() + duration
    started = time.monotonic()
    threads = [
        threading.Thread(target=_gradio_client if i < gradio_clients else _json_client,
                         args=(url, calls, i, deadline, tally), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    monitor.join()
    every = tally.latencies["json"] + tally.latencies["gradio"]

    def summary(values: list[float]) -> dict[str, Any]:
        return {"requests": len(values), "p50_ms": round(_percentile(values, 50) * 1000, 1),
                "p95_ms": round(_percentile(values, 95) * 1000, 1), "p99_ms": round(_percentile(values, 99) * 1000, 1),
                "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None}

    return {
        "clients": clients, "gradio_clients": gradio_clients, "duration_s": round(elapsed, 1),
        "demos": [c.demo_id for c in calls],
        "requests": len(every), "requests_per_s": round(len(every) / elapsed, 2),
        "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors),
        "overall": summary(every), "json": summary(tally.latencies["json"]),
        "gradio": summary(tally.latencies["gradio"]),
        "server_peak_rss_mib": round(peaks["rss"] / 2**20, 1) if "rss" in peaks else None,
        "server_threads_before": peaks.get("threads_before"), "server_peak_threads": peaks.get("threads"),
    }


def warm_up(url: str, calls: list[Call]) -> None:
    """Call every demo once so that model loading is not timed."""
    import httpx

    for call in calls:
        httpx.post(f"{url}/api/demos/{call.demo_id}", json=call.body, timeout=600)


def _start_server(demos_dir: Path, *options: str) -> tuple[subprocess.Popen, str]:
    import tempfile

    from gallery.devserver import launch_gallery

    # A throwaway data dir: the load test must not write feedback databases into the user's data dir.
    env = {"OPENMODELS_RATE_LIMIT": "0",
           "OPENMODELS_DATA": os.environ.get("OPENMODELS_DATA") or tempfile.mkdtemp(prefix="openmodels-load-")}
    return launch_gallery(demos_dir, *options, log=None, env=env, ready_path="/api/demos", timeout=300)


def _light_loop(url: str, call: Call, stop: threading.Event, tally: Tally, channel: str = "json") -> None:
    """Call the light demo back to back until `stop` is set, recording each latency (or error)."""
    import httpx

    with httpx.Client(timeout=600) as http:
        while not stop.is_set():
            _post(http, url, call, tally, channel, "light")


def run_flood(url: str, heavy: Call, light: Call, requests: int = 24, baseline_s: float = 5.0) -> dict[str, Any]:
    """Flood `heavy` with `requests` concurrent calls while `light` is called in a loop; return the figures."""
    import httpx

    before, during = Tally(), Tally()
    stop = threading.Event()
    timer = threading.Timer(baseline_s, stop.set)
    timer.start()
    _light_loop(url, light, stop, before)  # the light demo alone, for comparison
    outcomes: list[dict[str, Any]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(requests)

    def flood_one() -> None:
        with httpx.Client(timeout=600) as http:
            barrier.wait()  # all at once
            started = time.perf_counter()
            response = http.post(f"{url}/api/demos/{heavy.demo_id}", json=heavy.body)
            outcome = {"status": response.status_code, "seconds": time.perf_counter() - started,
                       "retry_after": response.headers.get("retry-after")}
        with lock:
            outcomes.append(outcome)

    stop = threading.Event()
    light_thread = threading.Thread(target=_light_loop, args=(url, light, stop, during), daemon=True)
    flood = [threading.Thread(target=flood_one, daemon=True) for _ in range(requests)]
    started = time.monotonic()
    light_thread.start()
    for thread in flood:
        thread.start()
    for thread in flood:
        thread.join()
    elapsed = time.monotonic() - started
    stop.set()
    light_thread.join()
    accepted = [o for o in outcomes if o["status"] == 200]
    refused = [o for o in outcomes if o["status"] == 503 and o["retry_after"]]
    retry = sorted(int(o["retry_after"]) for o in refused)

    def ms(values: list[float], q: float) -> float:
        return round(_percentile(values, q) * 1000, 1)

    return {
        "heavy": heavy.demo_id, "light": light.demo_id, "requests": requests, "flood_s": round(elapsed, 2),
        "accepted": len(accepted), "refused": len(refused),
        "other": dict(Counter(str(o["status"]) for o in outcomes if o not in accepted and o not in refused)),
        "longest_wait_ms": ms([o["seconds"] for o in accepted], 100),
        "accepted_p50_ms": ms([o["seconds"] for o in accepted], 50),
        "refusal_p95_ms": ms([o["seconds"] for o in refused], 95),
        "retry_after_s": [retry[0], retry[-1]] if retry else None,
        "light_before": {"requests": len(before.latencies["json"]), "p50_ms": ms(before.latencies["json"], 50),
                         "p95_ms": ms(before.latencies["json"], 95)},
        "light_during": {"requests": len(during.latencies["json"]), "p50_ms": ms(during.latencies["json"], 50),
                         "p95_ms": ms(during.latencies["json"], 95)},
        "light_errors": dict(before.errors + during.errors),
    }


def _light_figures(figures: dict[str, Any]) -> str:
    """Return a light-demo summary as `p50 / p95 ms (n=…)`."""
    return f"{figures['p50_ms']} / {figures['p95_ms']} ms (n={figures['requests']})"


def format_flood(report: dict[str, Any]) -> str:
    """Return the flood figures as a markdown table."""
    low_high = report["retry_after_s"]
    rows = [
        ("heavy demo", f"{report['heavy']} ({report['requests']} concurrent requests)"),
        ("accepted (200)", report["accepted"]),
        ("refused (503 with Retry-After)", (f"{report['refused']}, Retry-After {low_high[0]}-{low_high[1]} s"
                                            if low_high else report["refused"])),
        ("other answers", report["other"] or "none"),
        ("refusal time p95", f"{report['refusal_p95_ms']} ms"),
        ("accepted: p50 / longest wait", f"{report['accepted_p50_ms']} ms / {report['longest_wait_ms']} ms"),
        ("light demo", report["light"]),
        ("light p50 / p95 alone", _light_figures(report["light_before"])),
        ("light p50 / p95 during the flood", _light_figures(report["light_during"])),
        ("light errors", report["light_errors"] or "none"),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def format_report(report: dict[str, Any]) -> str:
    """Return the figures as a few readable lines."""
    lines = [f"{report['clients']} clients ({report['gradio_clients']} via gradio_client) for "
             f"{report['duration_s']} s over {len(report['demos'])} demos",
             f"requests: {report['requests']}  ({report['requests_per_s']} req/s), errors: {report['errors']}"]
    for channel in ("overall", "json", "gradio"):
        s = report[channel]
        lines.append(f"{channel:>8}: n={s['requests']} p50={s['p50_ms']} ms p95={s['p95_ms']} ms p99={s['p99_ms']} ms")
    lines.append(f"server: peak RSS {report['server_peak_rss_mib']} MiB, threads {report['server_threads_before']}"
                 f" before -> peak {report['server_peak_threads']}")
    for kind, count in sorted(report["error_kinds"].items()):
        lines.append(f"  error x{count}: {kind}")
    return "\n".join(lines)


def run_mix_engines(args: argparse.Namespace) -> int:
    """Run the heavy-light mix on each engine in turn (a fresh server each) and print them side by side."""
    from benchmarks.mix import HEAVY, LIGHT, format_mix, run_mix

    calls = {c.demo_id: c for c in build_calls(args.demos_dir, [HEAVY, *LIGHT])}
    reports: dict[str, Any] = {}
    for engine in (["local", "ray"] if args.engine == "both" else [args.engine]):
        process, url = _start_server(args.demos_dir, *(f"--demo={d}" for d in calls), f"--engine={engine}")
        try:
            warm_up(url, list(calls.values()))
            reports[engine] = run_mix(url, calls[HEAVY], [calls[d] for d in LIGHT], process.pid,
                                      duration=args.duration)
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # open keep-alive connections can hold a graceful stop
                process.kill()
        print(f"{engine}: {json.dumps(reports[engine])}", flush=True)
    print(format_mix(reports), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=2), encoding="utf-8")
    return 0 if all(r["errors"] == 0 for r in reports.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load test from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running gallery (default: start one on a free port)")
    parser.add_argument("--pid", type=int, help="the running gallery's process id, for its memory and threads")
    parser.add_argument("--demos-dir", type=Path, default=ROOT / "demos")
    parser.add_argument("--demo", action="append", default=[], help="only these demo ids (repeatable)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                        help="call every demo once before timing (loads the models)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--flood", action="store_true", help="measure admission control (see above)")
    parser.add_argument("--heavy", default="healthcare/clinical-dictation", help="the demo to flood")
    parser.add_argument("--light", default="finance/banking-intent", help="the demo called during the flood")
    parser.add_argument("--flood-requests", type=int, default=24, help="concurrent requests to the heavy demo")
    parser.add_argument("--mix", choices=["heavy-light"],
                        help="3 clients on a heavy demo + 4 on light ones, per engine (benchmarks/mix.py)")
    parser.add_argument("--engine", choices=["local", "ray", "both"], default="both",
                        help="with --mix: the engine(s) to measure, one after the other in this run")
    args = parser.parse_args(argv)
    if args.mix:
        return run_mix_engines(args)
    wanted = [args.heavy, args.light] if args.flood else args.demo
    calls = build_calls(args.demos_dir, wanted)
    process = None
    url, pid = args.url, args.pid
    if url is None:
        process, url = _start_server(args.demos_dir, *(f"--demo={d}" for d in wanted))
        pid = process.pid
    try:
        if args.warmup:
            warm_up(url, calls)
        if args.flood:
            by_id = {c.demo_id: c for c in calls}
            report = run_flood(url, by_id[args.heavy], by_id[args.light], requests=args.flood_requests)
            print(format_flood(report), flush=True)
            report["errors"] = sum(report["light_errors"].values()) + sum(report["other"].values())
        else:
            report = run_load(url, calls, clients=args.clients, duration=args.duration, pid=pid)
            print(format_report(report), flush=True)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # open keep-alive/SSE connections can hold a graceful stop
                process.kill()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
