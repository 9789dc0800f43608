"""`gallery new` -> `gallery check` -> serve, in a temporary tree, with the real model: what a newcomer does first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gallery.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO_ID = "education/feedback-sorter"
EXPECTED = ["praise", "question", "complaint", "suggestion"]  # the template's examples, in order


@pytest.mark.slow
def test_new_then_check_then_serve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gallery.server import ServeConfig, create_app

    demos = tmp_path / "demos"
    demos.mkdir()
    assert main(["check", "--demos-dir", str(demos), "--fix"]) == 0  # an empty gallery, generated files written
    assert main(["new", "--demos-dir", str(demos), DEMO_ID]) == 0
    assert main(["check", "--demos-dir", str(demos)]) == 0
    assert "1 demo folder, no problems" in capsys.readouterr().err

    app, service = create_app(ServeConfig(demos_dir=demos, cache_dir=tmp_path / "cache", select=[DEMO_ID]))
    client = TestClient(app)
    listing = client.get("/api/demos").json()
    assert [d["id"] for d in listing] == [DEMO_ID]
    assert listing[0]["status"] != "unavailable", listing[0]["reason"]

    examples = service.entry(DEMO_ID).manifest.examples
    labels = []
    for example in examples:
        response = client.post(f"/api/demos/{DEMO_ID}", json=example)
        assert response.status_code == 200, response.text
        result = response.json()
        assert set(result["scores"]) == set(EXPECTED)
        assert result["confidence"] == max(result["scores"].values())
        labels.append(result["label"])
    assert labels == EXPECTED

    refused = client.post(f"/api/demos/{DEMO_ID}", json={"text": "这是一段中文反馈。"})
    assert refused.status_code == 422 and "English" in refused.json()["detail"]


@pytest.mark.slow
def test_the_scaffolded_test_file_passes(tmp_path: Path) -> None:
    demos = tmp_path / "demos"
    demos.mkdir()
    assert main(["new", "--demos-dir", str(demos), DEMO_ID]) == 0
    test_file = tmp_path / "tests" / "demos" / "test_feedback_sorter.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "7 passed" in run.stdout
