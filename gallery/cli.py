"""The `gallery` command: run, mcp, list, check, new, doctor, pull, bench, feedback, cache, space."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from gallery import __version__
from gallery.admission import queue_size, seconds
from gallery.discovery import default_demos_dir, discover
from gallery.engine import ENGINES
from gallery.feedback.export import add_parser as add_feedback_parser
from gallery.runtime.housekeeping import add_parser as add_cache_parser
from gallery.space import add_parser as add_space_parser
from gallery.runtime.housekeeping import cmd_cache

logger = logging.getLogger(__name__)


def _size(value: str) -> int:
    """Parse a memory size such as 6G, 512M or a byte count."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = value.strip().lower().removesuffix("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _embed_origins(value: str) -> tuple[str, ...]:
    """Parse --embed-origins for argparse, so a bad value is reported as a usage error."""
    from gallery.security import parse_embed_origins

    try:
        return parse_embed_origins(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demos-dir", type=Path, default=default_demos_dir(),
                        help="folder holding <sector>/<slug> demos (default: demos/ of the checkout you are in)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `gallery` command."""
    parser = argparse.ArgumentParser(prog="gallery", description="OpenModels Gallery: open AI demos for everyone.")
    parser.add_argument("--version", action="version", version=f"gallery {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the gallery")
    _add_common(run)
    # A container sets GRADIO_SERVER_NAME=0.0.0.0 (deploy/docker/Dockerfile); on a desktop only this machine listens.
    run.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
                     help="address to listen on (default $GRADIO_SERVER_NAME, else 127.0.0.1)")
    run.add_argument("--port", type=int, default=7860)
    run.add_argument("--root-path", default="", help="URL prefix when served behind a reverse proxy, e.g. /gallery")
    run.add_argument("--share", action="store_true", help="ask for a public share link")
    run.add_argument("--share-server", metavar="HOST:PORT", help="self-hosted FRP share server (implies --share)")
    run.add_argument("--sector", action="append", default=[], help="serve only this sector (repeatable)")
    run.add_argument("--demo", action="append", default=[], help="serve only this demo <sector>/<slug> (repeatable)")
    run.add_argument("--auth", metavar="USER:PASS", help="require this user and password (UI and API)")
    run.add_argument("--api-token", metavar="TOKEN",
                     help="also accept 'Authorization: Bearer TOKEN' (JSON API, MCP, every route), for clients that "
                          "cannot do HTTP Basic; alone, it locks every route behind the token "
                          "(env OPENMODELS_API_TOKEN)")
    run.add_argument("--cache-dir", type=Path, help="model/export cache (default $OPENMODELS_CACHE or ~/.cache/openmodels)")
    run.add_argument("--memory-budget", type=_size, help="unload idle models above this resident size, e.g. 6G")
    run.add_argument("--preload", action="store_true", help="load every model in the background after start-up")
    run.add_argument("--no-standalone-pages", action="store_true", help="do not mount /demo/<sector>/<slug> pages")
    run.add_argument("--no-mcp", action="store_true", help="do not serve the MCP endpoints (/mcp, /mcp/<sector>)")
    run.add_argument("--data-dir", type=Path,
                     help="where feedback is kept (default $OPENMODELS_DATA or ~/.local/share/openmodels)")
    run.add_argument("--database-url", metavar="URL",
                     help="feedback database: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB "
                          "(env OPENMODELS_DATABASE_URL; default a SQLite file in --data-dir)")
    run.add_argument("--rate-limit", metavar="N/min",
                     help="JSON API requests per client, e.g. 120/min (default), 5/s; 0 turns it off "
                          "(env OPENMODELS_RATE_LIMIT)")
    run.add_argument("--embed-origins", metavar="ORIGINS", type=_embed_origins,
                     help="sites that may show the /demo/ pages in a frame, space- or comma-separated, e.g. "
                          "'https://school.example.org https://*.example.com' (default *: any; "
                          "env OPENMODELS_EMBED_ORIGINS); other pages only on this site")
    run.add_argument("--log-inputs", action="store_true", default=None,
                     help="also log request content (inputs, error messages); off by default "
                          "(env OPENMODELS_LOG_INPUTS=1)")
    run.add_argument("--metrics", action=argparse.BooleanOptionalAction, default=True,
                     help="serve Prometheus metrics at /metrics (default on; behind --auth unless --metrics-public)")
    run.add_argument("--metrics-public", action="store_true",
                     help="serve /metrics without credentials even with --auth/--api-token")
    run.add_argument("--max-queue", type=queue_size, metavar="N",
                     help="requests that may wait per demo; more are refused at once with 503 and Retry-After "
                          "(default 4 x the demo's model concurrency, at least 8)")
    run.add_argument("--max-wait", type=seconds, default=60.0, metavar="S",
                     help="refuse a request expected to wait longer than S seconds for its demo (default 60)")
    run.add_argument("--shutdown-timeout", type=seconds, default=30.0, metavar="S",
                     help="on SIGTERM, give running requests up to S seconds to finish (default 30)")
    run.add_argument("--engine", choices=ENGINES, default="local",
                     help="where demos run: local (this process, the default) or ray (Ray Serve replicas; "
                          "`pip install -e '.[ray]'`)")
    run.add_argument("--ray-address", metavar="ADDR",
                     help="with --engine ray: join this Ray cluster (e.g. ray://head:10001 or auto) instead of "
                          "starting a local Ray")

    mcp = sub.add_parser("mcp", help="serve every demo as an MCP tool over stdio (for AI agents on this machine)")
    _add_common(mcp)
    mcp.add_argument("--sector", action="append", default=[], help="serve only this sector (repeatable)")
    mcp.add_argument("--demo", action="append", default=[], help="serve only this demo <sector>/<slug> (repeatable)")
    mcp.add_argument("--cache-dir", type=Path,
                     help="model/export cache (default $OPENMODELS_CACHE or ~/.cache/openmodels)")

    lst = sub.add_parser("list", help="list demos and their status")
    _add_common(lst)
    lst.add_argument("--json", action="store_true", help="print JSON")

    check = sub.add_parser("check", help="validate demo folders (manifests, files, generated indexes)")
    _add_common(check)
    check.add_argument("paths", nargs="*", type=Path, help="demo folders or demo.yaml files (default: all)")
    check.add_argument("--fix", action="store_true", help="rewrite generated files (INDEX.md, CODEOWNERS)")
    check.add_argument("--json", action="store_true", help="print problems as JSON")

    new = sub.add_parser("new", help="scaffold a new demo folder from the template")
    _add_common(new)
    new.add_argument("demo_id", metavar="SECTOR/SLUG")
    new.add_argument("--task", default=None, help="the demo's task (default text-classification: a few-shot "
                     "classifier in demo.yaml and CSVs, no app.py; any other task starts an app.py)")
    new.add_argument("--model-package", default=None, help="pip package that ships the model")

    doctor = sub.add_parser("doctor", help="hardware, backends, and which models are available offline")
    _add_common(doctor)
    doctor.add_argument("--json", action="store_true")

    pull = sub.add_parser("pull", help="download, convert and export models ahead of time")
    _add_common(pull)
    pull.add_argument("demo_ids", nargs="*", metavar="SECTOR/SLUG", help="default: every demo")
    pull.add_argument("--cache-dir", type=Path)

    add_feedback_parser(sub)
    add_cache_parser(sub)
    add_space_parser(sub)

    bench = sub.add_parser("bench", help="latency benchmark: optimized backend vs plain transformers")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="arguments for benchmarks.latency")
    return parser


def private_gradio_temp_dir() -> None:
    """Give this server a Gradio file cache of its own unless GRADIO_TEMP_DIR names one (before Gradio loads)."""
    import atexit
    import shutil
    import tempfile

    if os.environ.get("GRADIO_TEMP_DIR"):
        return
    # Gradio's shared /tmp/gradio names files by content hash: a second gallery on the host stopping would delete
    # an example file this one still hands to its forms.
    folder = tempfile.mkdtemp(prefix="openmodels-gradio-")
    os.environ["GRADIO_TEMP_DIR"] = folder
    atexit.register(shutil.rmtree, folder, True)


def cmd_run(args: argparse.Namespace) -> int:
    """Serve the gallery."""
    private_gradio_temp_dir()
    from gallery.auth import api_token_from_env, parse_api_token
    from gallery.feedback.database import resolve_url
    from gallery.logconfig import log_inputs_enabled
    from gallery.ratelimit import parse_rate, rate_from_env
    from gallery.security import embed_origins_from_env
    from gallery.server import ServeConfig, default_cache_dir, default_data_dir, parse_auth, serve

    try:
        auth = parse_auth(args.auth) if args.auth else None
        api_token = parse_api_token(args.api_token) if args.api_token is not None else api_token_from_env()
        rate_limit = parse_rate(args.rate_limit) if args.rate_limit is not None else rate_from_env()
        embed_origins = args.embed_origins if args.embed_origins is not None else embed_origins_from_env()
        resolve_url(args.database_url, args.data_dir or default_data_dir())  # a bad URL stops here, not mid-start
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = ServeConfig(
        host=args.host, port=args.port, root_path=args.root_path.rstrip("/"),
        share=args.share or bool(args.share_server), share_server=args.share_server,
        select=[*args.sector, *args.demo], auth=auth, demos_dir=args.demos_dir,
        cache_dir=args.cache_dir or default_cache_dir(), memory_budget=args.memory_budget,
        preload=args.preload, standalone_pages=not args.no_standalone_pages,
        data_dir=args.data_dir or default_data_dir(), database_url=args.database_url, rate_limit=rate_limit,
        log_inputs=log_inputs_enabled() if args.log_inputs is None else args.log_inputs,
        embed_origins=embed_origins, mcp=not args.no_mcp, api_token=api_token,
        metrics=args.metrics, metrics_public=args.metrics_public, max_queue=args.max_queue, max_wait=args.max_wait,
        shutdown_timeout=args.shutdown_timeout, engine=args.engine, ray_address=args.ray_address,
    )
    unknown = [s for s in config.select if discover(args.demos_dir, [s]).entries == []]
    if unknown:
        print(f"error: no demo or sector matches {', '.join(unknown)} (see `gallery list`)", file=sys.stderr)
        return 2
    if args.ray_address and args.engine != "ray":
        print("error: --ray-address needs --engine ray", file=sys.stderr)
        return 2
    if args.engine == "ray" and importlib.util.find_spec("ray") is None:
        print("error: --engine ray needs Ray Serve: pip install -e '.[ray]'", file=sys.stderr)
        return 2
    serve(config)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve the demos as MCP tools over stdin/stdout until the client closes the stream."""
    import anyio

    from gallery.mcp_server import serve_stdio
    from gallery.server import default_cache_dir
    from gallery.service import GalleryService

    select = [*args.sector, *args.demo]
    unknown = [s for s in select if discover(args.demos_dir, [s]).entries == []]
    if unknown:
        print(f"error: no demo or sector matches {', '.join(unknown)} (see `gallery list`)", file=sys.stderr)
        return 2
    cache_dir = args.cache_dir or default_cache_dir()

    def make_service() -> GalleryService:
        return GalleryService.open(args.demos_dir, cache_dir, select)

    anyio.run(serve_stdio, make_service)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the demo index with each demo's status."""
    from gallery.describe import describe
    from gallery.server import default_cache_dir
    from gallery.service import GalleryService

    service = GalleryService.open(args.demos_dir, default_cache_dir())
    rows = [describe(service, e, full=False) for e in service.index.entries]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max((len(r["id"]) for r in rows), default=10)
    for row in rows:
        title = row.get("title", {}).get("en", "")
        line = f"{row['id']:<{width}}  {row['status']:<18}  {title}"
        if row["reason"]:
            line += f"\n{'':<{width}}  reason: {row['reason']}"
        print(line)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate demo folders."""
    from gallery.checks import run_check_command

    return run_check_command(args.demos_dir, args.paths, fix=args.fix, as_json=args.json)


def cmd_new(args: argparse.Namespace) -> int:
    """Scaffold a demo folder."""
    from gallery.scaffold import ScaffoldError, scaffold

    try:
        path = scaffold(args.demos_dir, args.demo_id, task=args.task, model_package=args.model_package)
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    edit = "demo.yaml and app.py" if (path / "app.py").is_file() else "demo.yaml, examples.csv and heldout.csv"
    print(f"Created {path}. Next: edit {edit}, then `gallery check {path}` "
          f"and `gallery run --demo {args.demo_id}`.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print hardware, backends and each demo model's offline availability."""
    from gallery.runtime.doctor import doctor_report

    report = doctor_report(discover(args.demos_dir))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else report_text(report))
    return 0


def report_text(report: dict) -> str:  # type: ignore[type-arg]
    """Render the doctor report as aligned tables."""
    lines = ["Hardware and backends"]
    for key, value in report["hardware"]:
        lines.append(f"  {key:<24} {value}")
    lines.append("")
    lines.append("Demo models")
    for row in report["models"]:
        lines.append("  " + "  ".join(f"{v}" for v in row.values()))
    return "\n".join(lines)


def cmd_pull(args: argparse.Namespace) -> int:
    """Fetch, convert and export demo models ahead of time."""
    from gallery.runtime.registry import ModelRegistry
    from gallery.server import default_cache_dir

    index = discover(args.demos_dir, args.demo_ids or None)
    if args.demo_ids and not index.entries:
        print(f"error: no demo matches {' '.join(args.demo_ids)}", file=sys.stderr)
        return 2
    registry = ModelRegistry(cache_dir=args.cache_dir or default_cache_dir())
    failed = 0
    for entry in index.entries:
        if entry.manifest is None:
            print(f"{entry.id}: skipped, invalid manifest: {entry.error}")
            continue
        for name, spec in entry.manifest.models.items():
            print(f"{entry.id}: {name}: pulling…", flush=True)
            try:
                registry.pull(entry.id, name, spec, entry.path, progress=lambda msg: print(f"  {msg}", flush=True))
            # One model failing to pull must not stop the others; the error is reported and counted.
            except Exception as exc:  # noqa: BLE001
                failed += 1
                print(f"{entry.id}: {name}: FAILED: {exc}")
            else:
                print(f"{entry.id}: {name}: ready")
    return 1 if failed else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    """Export or summarise the feedback database."""
    from gallery.feedback.export import cmd_feedback as run_feedback

    return run_feedback(args)


def cmd_space(args: argparse.Namespace) -> int:
    """Write a Hugging Face Docker Space."""
    from gallery.space import cmd_space as run_space

    return run_space(args)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the latency benchmark."""
    from benchmarks.latency import main as bench_main

    return bench_main(args.args)


COMMANDS = {"run": cmd_run, "mcp": cmd_mcp, "list": cmd_list, "check": cmd_check, "new": cmd_new,
            "doctor": cmd_doctor, "pull": cmd_pull, "bench": cmd_bench, "feedback": cmd_feedback, "cache": cmd_cache,
            "space": cmd_space}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gallery` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return COMMANDS[args.command](args)
