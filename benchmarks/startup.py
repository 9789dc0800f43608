"""Start-up benchmark: time from `gallery run` to a home page that answers, by number of demos.

Generates N small demo folders (a word-count demo with no model, so only the gallery's own work is timed),
starts the real server as a subprocess for each N, and measures the wall time until `GET /` answers 200,
then the time of that first page. The real `demos/` tree is measured the same way (no model loads at
start-up, so its figure shows discovery, imports and UI building for the shipped demos).

Run: `python -m benchmarks.startup [--counts 1 10 50 100] [--repeats 2] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import httpx

from gallery.devserver import free_port

ROOT = Path(__file__).resolve().parent.parent
SECTORS = ("healthcare", "education", "finance", "transport")

MANIFEST = """\
id: {id}
sector: {sector}
title: {{en: "Word count {n}", zh: "词数统计 {n}"}}
summary: {{en: "Counts the words in a text.", zh: "统计文本中的词数。"}}
disclaimer: {{en: "A demonstration, not advice of any kind.", zh: "仅为演示，不构成任何建议。"}}
task: text-statistics
license: Apache-2.0
owners: ["@openmodels/maintainers"]
tags: [benchmark]
languages: [en]
models: {{}}
inputs:
  - {{name: text, type: text, label: {{en: Text, zh: 文本}}}}
outputs:
  - {{name: words, type: json, label: {{en: Words, zh: 词数}}}}
examples:
  - {{text: "one two three"}}
"""
APP = '''"""Count words (a start-up benchmark demo)."""


def predict(ctx, text: str) -> dict:
    """Return the number of words."""
    return {"words": len(text.split())}
'''


def generate(root: Path, count: int) -> None:
    """Write `count` small demos under root, spread over the four sectors."""
    for n in range(count):
        sector = SECTORS[n % len(SECTORS)]
        folder = root / sector / f"bench-{n:03d}"
        folder.mkdir(parents=True)
        (folder / "demo.yaml").write_text(MANIFEST.format(id=f"{sector}/bench-{n:03d}", sector=sector, n=n),
                                          encoding="utf-8")
        (folder / "app.py").write_text(APP, encoding="utf-8")


def time_startup(demos_dir: Path, timeout: float = 600.0) -> dict[str, float]:
    """Start `gallery run` on demos_dir; return seconds to the first 200 on `/` and that request's time."""
    port = free_port()
    env = {**os.environ, "OPENMODELS_DATA": tempfile.mkdtemp(prefix="openmodels-startup-")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "gallery", "run", "--demos-dir", str(demos_dir),
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"gallery exited with {process.returncode} on {demos_dir}")
            try:
                before = time.perf_counter()
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200:
                    return {"ready_s": round(time.perf_counter() - started, 2),
                            "home_page_s": round(time.perf_counter() - before, 3)}
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"gallery did not answer within {timeout} s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure start-up for each demo count and the real demos tree; print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50, 100])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    trees: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            root = Path(tmp) / f"demos-{count}"
            generate(root, count)
            trees.append((f"{count} generated", root))
        trees.append(("the real demos/", ROOT / "demos"))
        for label, root in trees:
            runs = [time_startup(root) for _ in range(args.repeats)]
            rows.append({"tree": label, "ready_s": statistics.median(r["ready_s"] for r in runs),
                         "home_page_s": statistics.median(r["home_page_s"] for r in runs)})
            print(f"{label:>16}: ready in {rows[-1]['ready_s']} s, home page {rows[-1]['home_page_s']} s", flush=True)
    print("\n| demos | `gallery run` to home page 200 (s) | home page request (s) |\n|---|---|---|")
    for row in rows:
        print(f"| {row['tree']} | {row['ready_s']} | {row['home_page_s']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
