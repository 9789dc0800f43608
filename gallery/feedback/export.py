"""`gallery feedback export|stats`: dump the feedback database as CSV, or count it per demo."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from gallery.feedback.database import DatabaseURLError, resolve_url, shown
from gallery.feedback.store import COLUMNS, FeedbackStore, FeedbackStoreError, default_data_dir

# A cell that starts with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write rows (COLUMNS) as CSV with a header; return how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
        count += 1
    return count


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `feedback export` and `feedback stats` to the `gallery` command."""
    feedback = sub.add_parser("feedback", help="export or summarise the feedback users left on demos")
    actions = feedback.add_subparsers(dest="feedback_command", required=True)
    export = actions.add_parser("export", help="dump every feedback record")
    export.add_argument("--csv", action="store_true", help="CSV with a header row (the only format, the default)")
    export.add_argument("--output", "-o", type=Path, help="write to this file (default: standard output)")
    export.add_argument("--demo", metavar="SECTOR/SLUG", help="only this demo's feedback")
    stats = actions.add_parser("stats", help="counts per demo")
    stats.add_argument("--json", action="store_true", help="print JSON")
    for parser in (export, stats):
        parser.add_argument("--data-dir", type=Path,
                            help="where the gallery keeps its data (default $OPENMODELS_DATA or the user data dir)")
        parser.add_argument("--database-url", metavar="URL",
                            help="the feedback database, as for `gallery run` (env OPENMODELS_DATABASE_URL; "
                                 "default the SQLite file in --data-dir)")


def cmd_feedback(args: argparse.Namespace) -> int:
    """Run `gallery feedback export` or `gallery feedback stats`."""
    try:
        url = resolve_url(args.database_url, args.data_dir or default_data_dir())
    except DatabaseURLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    store = None
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        # Reading must not create an empty database (and its folder) where none was.
        print(f"note: no feedback recorded yet ({shown(url)} does not exist)", file=sys.stderr)
    else:
        store = FeedbackStore(url)
    try:
        if args.feedback_command == "stats":
            table = store.stats() if store else []
            if args.json:
                print(json.dumps(table, ensure_ascii=False, indent=2))
            else:
                print(f"{'demo':<36} {'total':>6} {'up':>6} {'down':>6} {'comments':>9} {'with io':>8}  last")
                for r in table:
                    print(f"{r['demo_id']:<36} {r['total']:>6} {r['up']:>6} {r['down']:>6} {r['comments']:>9} "
                          f"{r['with_io']:>8}  {r['last']}")
            return 0
        source = store.rows(args.demo) if store else rows
        if args.output:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = write_csv(source, out)
            print(f"wrote {count} feedback record(s) to {args.output}", file=sys.stderr)
        else:
            write_csv(source, sys.stdout)
        return 0
    except FeedbackStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if store:
            store.close()
