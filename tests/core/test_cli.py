"""The `gallery` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gallery.cli import main


def test_list_json(demo_tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["list", "--json", "--demos-dir", str(demo_tree)]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["education/word-stats"]["status"] == "ready"
    assert rows["finance/import-error"]["status"] == "unavailable"


def test_list_text(demo_tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["list", "--demos-dir", str(demo_tree)]) == 0
    out = capsys.readouterr().out
    assert "education/word-stats" in out and "reason:" in out


def test_run_rejects_unknown_selection_and_bad_auth(demo_tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", "--demos-dir", str(demo_tree), "--demo", "education/nope"]) == 2
    assert "no demo or sector matches education/nope" in capsys.readouterr().err
    assert main(["run", "--demos-dir", str(demo_tree), "--auth", "nopassword"]) == 2
    assert "user:password" in capsys.readouterr().err
    for token in ("short", "has a space in it", "tökenwithumlaut"):
        assert main(["run", "--demos-dir", str(demo_tree), "--api-token", token]) == 2
        assert "--api-token must be at least 8 characters" in capsys.readouterr().err
    assert main(["mcp", "--demos-dir", str(demo_tree), "--sector", "space"]) == 2
    assert "no demo or sector matches space" in capsys.readouterr().err


def test_module_entry_point_prints_help() -> None:
    out = subprocess.run([sys.executable, "-m", "gallery", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("run", "mcp", "list", "check", "new", "doctor", "pull", "bench"):
        assert command in out


def test_each_server_gets_a_gradio_file_cache_of_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from gallery.cli import private_gradio_temp_dir

    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    private_gradio_temp_dir()
    first = Path(os.environ["GRADIO_TEMP_DIR"])
    assert first.is_dir() and first.name.startswith("openmodels-gradio-")
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    private_gradio_temp_dir()
    assert Path(os.environ["GRADIO_TEMP_DIR"]) != first  # another process, another folder
    # An operator's choice stands.
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    private_gradio_temp_dir()
    assert os.environ["GRADIO_TEMP_DIR"] == str(tmp_path)
