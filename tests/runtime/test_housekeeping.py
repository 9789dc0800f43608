"""`gallery cache`: the cache records each entry's last use; list shows it, prune removes what went unused."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from gallery.cli import main
from gallery.runtime import cache
from gallery.runtime.housekeeping import DAY, list_entries, prune
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import make_spec
from tests.runtime.tinymodels import tiny_bert


def _entry(cache_dir: Path, area: str, group: str, key: str, size: int, source: str | None = None) -> Path:
    """Build one entry through the cache's own build_once; return its folder."""
    entry = cache_dir / area / group / key

    def build(tmp: Path) -> dict:
        (tmp / "weights.bin").write_bytes(b"\0" * size)
        return {"source": source, "task": "feature-extraction"} if source else {"recipe": "pcmm1"}

    cache.build_once(entry, build)
    return entry


def _age_by(entry: Path, days: float) -> None:
    """Pretend the entry was last used (and built) `days` ago."""
    then = time.time() - days * DAY
    for path in (entry / cache.USED, entry / cache.META):
        os.utime(path, (then, then))


def test_build_and_every_later_use_mark_the_entry_used(tmp_path: Path) -> None:
    entry = _entry(tmp_path, "exports", "ORTModelForFeatureExtraction", "aaa", 10, "package:x:1")
    assert cache.last_used(entry) == pytest.approx(time.time(), abs=5)
    _age_by(entry, 40)
    assert cache.last_used(entry) < time.time() - 39 * DAY
    cache.build_once(entry, lambda tmp: pytest.fail("a cached entry must not be built again"))
    assert cache.last_used(entry) == pytest.approx(time.time(), abs=5)


def test_list_shows_area_group_size_and_source_least_recently_used_first(tmp_path: Path) -> None:
    fp32 = _entry(tmp_path, "exports", "ORTModelForFeatureExtraction", "aaa", 1000, "package:x:1")
    int8 = _entry(tmp_path, "exports", "ORTModelForFeatureExtraction", "aaa-int8-avx2-pcmm1", 300)
    converted = _entry(tmp_path, "converted", "whisper-ct2", "bbb", 50, "package:y:2")
    _age_by(converted, 3)
    # A build in progress and a folder without meta.json are not entries yet.
    (tmp_path / "exports" / "ORTModelForFeatureExtraction" / ".ccc.1234.tmp").mkdir()
    (tmp_path / "exports" / "ORTModelForFeatureExtraction" / ".ccc.1234.tmp" / cache.META).write_text("{}")
    (tmp_path / "exports" / "ORTModelForFeatureExtraction" / "ddd").mkdir()
    entries = list_entries(tmp_path)
    assert [e.path for e in entries][0] == converted and {e.path for e in entries} == {fp32, int8, converted}
    by_key = {e.key: e for e in entries}
    assert by_key["aaa"].area == "exports" and by_key["aaa"].group == "ORTModelForFeatureExtraction"
    assert by_key["aaa"].bytes >= 1000 and by_key["aaa"].source == "package:x:1"
    assert by_key["aaa-int8-avx2-pcmm1"].source == "int8 (pcmm1) of aaa"


def test_prune_removes_only_what_went_unused_and_dry_run_removes_nothing(tmp_path: Path) -> None:
    old = _entry(tmp_path, "exports", "ORTModelForSpeechSeq2Seq", "old", 100, "converted:whisper-ct2:1")
    recent = _entry(tmp_path, "exports", "ORTModelForSpeechSeq2Seq", "recent", 100, "converted:whisper-ct2:1")
    _age_by(old, 45)
    _age_by(recent, 5)
    assert [e.path for e in prune(tmp_path, 30, dry_run=True)] == [old]
    assert old.exists() and recent.exists()
    assert [e.path for e in prune(tmp_path, 30)] == [old]
    assert not old.exists() and recent.exists()
    assert [e.path for e in list_entries(tmp_path)] == [recent]
    # A pruned entry is simply built again when a demo needs it.
    cache.build_once(old, lambda tmp: {"source": "converted:whisper-ct2:1"})
    assert cache.read_meta(old) == {"source": "converted:whisper-ct2:1"}


def test_a_warm_registry_load_marks_its_export_used(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tiny_bert(demo / "model", seed=0)
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="none")
    ModelRegistry(tmp_path / "cache").get("x/e", "m", spec, demo)
    (export,) = [e for e in list_entries(tmp_path / "cache") if e.area == "exports"]
    _age_by(export.path, 60)
    assert prune(tmp_path / "cache", 30, dry_run=True)
    warm = ModelRegistry(tmp_path / "cache")
    warm.get("x/e", "m", spec, demo)
    assert warm.counters["exports"] == 0
    assert prune(tmp_path / "cache", 30, dry_run=True) == []


def test_cli_lists_and_prunes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _entry(tmp_path, "exports", "ORTModelForFeatureExtraction", "old", 2048, "package:x:1")
    _entry(tmp_path, "exports", "ORTModelForFeatureExtraction", "new", 1024, "package:x:2")
    _age_by(old, 90)
    assert main(["cache", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "exports/ORTModelForFeatureExtraction/old" in out and "90 days ago" in out and "package:x:2" in out
    assert "2 entries" in out
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--dry-run"]) == 0
    assert "would remove 1 entries" in capsys.readouterr().out and old.exists()
    assert main(["cache", "prune", "--cache-dir", str(tmp_path), "--json"]) == 0
    assert [e["key"] for e in json.loads(capsys.readouterr().out)] == ["old"] and not old.exists()
    assert main(["cache", "list", "--json", "--cache-dir", str(tmp_path)]) == 0
    assert [e["key"] for e in json.loads(capsys.readouterr().out)] == ["new"]
    assert main(["cache", "prune", "--unused-days", "-1", "--cache-dir", str(tmp_path)]) == 2
    assert "0 or more" in capsys.readouterr().err
