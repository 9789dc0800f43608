"""Shared fixtures of the runtime tests: tiny models built once per session, specs, fresh registries."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gallery.runtime.spec import ModelSpec
from tests.runtime.tinymodels import tiny_bert

os.environ["HF_HUB_OFFLINE"] = "1"

CALIBRATION = ["hello world", "my card was late", "the train is delayed", "how can i reset my pin please",
               "the doctor said the fever is good news", "stock market rose"]


def make_spec(task: str, source: dict[str, Any], **extra: Any) -> ModelSpec:
    """Return a validated ModelSpec."""
    return ModelSpec.model_validate({"task": task, "source": source, "licence": "MIT", **extra})


@pytest.fixture(scope="session")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding the tiny models (one demo-like folder per model)."""
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def bert_demo(models_root: Path) -> Path:
    """Return a demo-like folder whose `model/` is a tiny random BERT with a WordPiece vocab."""
    demo = models_root / "bert-demo"
    tiny_bert(demo / "model", head="base", seed=0)
    return demo
