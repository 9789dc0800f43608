"""`gallery space export`: a Docker Space whose card the Hub accepts, with the image's sources and the chosen demos."""

from __future__ import annotations

import filecmp
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml
from huggingface_hub import SpaceCard

from gallery.cli import main
from gallery.discovery import default_demos_dir, discover
from gallery.space import SOURCE_ROOT

# Every field of https://huggingface.co/docs/hub/spaces-config-reference (the README front matter of a Space).
DOCUMENTED = {
    "title", "emoji", "colorFrom", "colorTo", "sdk", "python_version", "sdk_version", "suggested_hardware",
    "suggested_storage", "app_file", "app_port", "base_path", "fullWidth", "header", "short_description", "models",
    "datasets", "tags", "thumbnail", "pinned", "hf_oauth", "hf_oauth_scopes", "hf_oauth_expiration_minutes",
    "disable_embedding", "startup_duration_timeout", "custom_headers", "preload_from_hub", "license",
}
COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def check_front_matter(readme: Path) -> dict[str, object]:
    """Parse a Space README the way the Hub's own library does and check each field against the reference."""
    data = SpaceCard.load(readme).data.to_dict()
    assert set(data) <= DOCUMENTED, f"undocumented fields: {set(data) - DOCUMENTED}"
    assert data["sdk"] == "docker" and data["app_port"] == 7860 and isinstance(data["app_port"], int)
    assert data["colorFrom"] in COLOURS and data["colorTo"] in COLOURS
    assert isinstance(data["title"], str) and data["title"].strip()
    assert data["emoji"] and all(unicodedata.category(c) in ("So", "Sk", "Mn", "Cf") for c in data["emoji"])
    assert isinstance(data["short_description"], str) and 0 < len(data["short_description"]) <= 60
    assert all(isinstance(t, str) and t == t.lower() and " " not in t for t in data["tags"])
    assert all(HUB_ID.match(m) for m in data.get("models", []))
    assert isinstance(data["pinned"], bool)
    return data


def test_export_of_every_demo_is_a_docker_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "space"
    assert main(["space", "export", str(target)]) == 0
    count = len(discover(default_demos_dir()).entries)
    assert count >= 12 and f"wrote a Docker Space with {count} demo(s)" in capsys.readouterr().out
    data = check_front_matter(target / "README.md")
    assert data["title"] == "OpenModels Gallery"
    assert {"healthcare", "education", "finance", "transport", "automatic-speech-recognition"} <= set(data["tags"])
    assert "models" not in data  # the default demos' models come from pip packages, not Hub ids
    # The Space's Dockerfile is the project's, at the root, which Spaces build with the root as the context.
    assert filecmp.cmp(target / "Dockerfile", SOURCE_ROOT / "deploy" / "docker" / "Dockerfile", shallow=False)
    dockerfile = (target / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER\s+(1000|\S+:1000|1000:\S+)\s*$", dockerfile, re.M) or "--uid 1000" in dockerfile
    assert "EXPOSE 7860" in dockerfile
    for needed in ("pyproject.toml", "gallery/cli.py", "shared/fewshot.py", "deploy/install_requirements.py",
                   "deploy/exporter/requirements.txt", ".dockerignore"):
        assert (target / needed).is_file(), needed
    assert not list(target.rglob("__pycache__"))
    exported = discover(target / "demos")
    assert [e.id for e in exported.entries] == [e.id for e in discover(default_demos_dir()).entries]
    assert all(e.manifest is not None for e in exported.entries)
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert "OPENMODELS_DATABASE_URL" in readme and "/data" in readme and "`healthcare/clinical-dictation`" in readme


def test_export_of_one_demo_carries_only_it_and_its_title(tmp_path: Path) -> None:
    target = tmp_path / "faq"
    assert main(["space", "export", str(target), "--demo", "healthcare/health-faq", "--emoji", "🩺"]) == 0
    data = check_front_matter(target / "README.md")
    assert data["emoji"] == "🩺" and data["title"].startswith("Health") and "OpenModels" in data["title"]
    assert [e.id for e in discover(target / "demos").entries] == ["healthcare/health-faq"]
    assert (target / "demos" / "healthcare" / "health-faq" / "faq.yaml").is_file()  # its data comes along


def test_hub_models_are_listed_and_a_long_summary_is_cut_to_the_hub_limit(tmp_path: Path) -> None:
    demos = tmp_path / "demos"
    shutil.copytree(default_demos_dir() / "finance" / "banking-intent", demos / "finance" / "banking-intent")
    manifest = demos / "finance" / "banking-intent" / "demo.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    # The named MiniLM spec (demos/_models.yaml), with a Hub source of the demo's own.
    data["models"]["encoder"] = {"use": "minilm-l6",
                                 "source": {"hub": "sentence-transformers/all-MiniLM-L6-v2", "revision": "c" * 40}}
    assert len(data["summary"]["en"]) > 60
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    target = tmp_path / "space"
    assert main(["space", "export", str(target), "--demos-dir", str(demos)]) == 0
    data = check_front_matter(target / "README.md")
    assert data["models"] == ["sentence-transformers/all-MiniLM-L6-v2"]
    assert len(data["short_description"]) == 60 and data["short_description"].endswith("…")


def test_export_refuses_to_overwrite_or_to_guess(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["space", "export", str(target)]) == 2
    assert "is not empty" in capsys.readouterr().err and (target / "mine.txt").exists()
    assert main(["space", "export", str(tmp_path / "x"), "--demo", "healthcare/no-such-demo"]) == 2
    assert "no demo or sector matches healthcare/no-such-demo" in capsys.readouterr().err
    assert main(["space", "export", str(target), "--force", "--demo", "finance/banking-intent"]) == 0
    assert not (target / "mine.txt").exists() and (target / "Dockerfile").exists()
