"""Every pipeline task through the registry on tiny random models: the exporter's ONNX export, the torch-free
engines on ONNX Runtime, checked against the PyTorch baselines (tests/runtime/test_engines.py goes deeper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gallery.runtime.models import TaskModel
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import CALIBRATION, make_spec
from tests.runtime.tinymodels import tiny_task_models


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the tiny models once for this module."""
    return tiny_task_models(tmp_path_factory.mktemp("pipelines"))


@pytest.fixture(scope="module")
def registries(root: Path) -> tuple[ModelRegistry, ModelRegistry]:
    """Return (optimized, torch baseline) registries sharing one cache."""
    return ModelRegistry(root / "cache"), ModelRegistry(root / "cache", force_backend="torch")


def _pair(registries: tuple[ModelRegistry, ModelRegistry], root: Path, folder: str, task: str,
          **extra: Any) -> tuple[TaskModel, Any]:
    spec = make_spec(task, {"path": "model"}, quantize="none", **extra)
    ort_reg, torch_reg = registries
    fast = ort_reg.get(f"x/{folder}", "m", spec, root / folder)
    slow = torch_reg.get(f"x/{folder}", "m", spec, root / folder)
    assert isinstance(fast, TaskModel) and fast.backend == "onnxruntime-cpu" and fast.variant == "fp32"
    assert slow.backend == "torch-cpu"
    return fast, slow


def test_text_classification(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    fast, slow = _pair(registries, root, "seq", "text-classification")
    texts = ["the train was late again", "great service at the bank"]
    got, want = fast(texts, top_k=None), slow(texts, top_k=None)
    for g, w in zip(got, want):
        assert [x["label"] for x in g] == [x["label"] for x in w]
        np.testing.assert_allclose([x["score"] for x in g], [x["score"] for x in w], atol=1e-4)
    assert {x["label"] for x in got[0]} == {"negative", "neutral", "positive"}


def test_token_classification(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    fast, slow = _pair(registries, root, "tok", "token-classification")
    got, want = fast("my card was blocked at the station"), slow("my card was blocked at the station")
    assert [(x["word"], x["entity"]) for x in got] == [(x["word"], x["entity"]) for x in want]
    np.testing.assert_allclose([x["score"] for x in got], [x["score"] for x in want], atol=1e-4)


def test_question_answering(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    fast, slow = _pair(registries, root, "qa", "question-answering")
    kwargs = {"question": "where is the bus", "context": "the bus is at the station near the school"}
    got, want = fast(**kwargs), slow(**kwargs)
    assert (got["start"], got["end"], got["answer"]) == (want["start"], want["end"], want["answer"])
    assert abs(got["score"] - want["score"]) < 1e-4


@pytest.mark.parametrize("task,key", [("text2text-generation", "generated_text"), ("summarization", "summary_text"),
                                      ("translation", "translation_text")])
def test_seq2seq_with_sentencepiece(registries: tuple[ModelRegistry, ModelRegistry], root: Path, task: str,
                                    key: str) -> None:
    fast, slow = _pair(registries, root, "t5", task)
    text = "the train to the city was late"
    got = fast(text, max_new_tokens=8, do_sample=False)
    want = slow(text, max_new_tokens=8, do_sample=False)
    assert got[0][key] == want[0][key]
    assert fast.generate_ids(text, max_new_tokens=8) == slow.generate_ids(text, max_new_tokens=8)


def test_seq2seq_tasks_share_one_export(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    ort_reg, _ = registries
    for task in ("text2text-generation", "summarization", "translation"):
        ort_reg.get("x/t5", task, make_spec(task, {"path": "model"}, quantize="none"), root / "t5")
    exports = list((root / "cache" / "exports" / "ORTModelForSeq2SeqLM").glob("*/meta.json"))
    assert len(exports) == 1


def test_image_classification(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    from PIL import Image

    fast, slow = _pair(registries, root, "vit", "image-classification")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8))
    got, want = fast(image), slow(image)
    assert [x["label"] for x in got] == [x["label"] for x in want]
    np.testing.assert_allclose([x["score"] for x in got], [x["score"] for x in want], atol=1e-4)


def test_seq2seq_int8_check_runs_on_generations(root: Path) -> None:
    spec = make_spec("text2text-generation", {"path": "model"}, quantize="dynamic-int8",
                     options={"calibration": CALIBRATION[:3]})
    registry = ModelRegistry(root / "cache")
    model = registry.get("x/t5q", "m", spec, root / "t5")
    check = registry.status("x/t5q", "m", spec, root / "t5").quant_check
    assert check is not None and check["metric"] == "token_error_rate" and check["examples"] == 3 + 8
    assert model.variant == ("int8" if check["passed"] else "fp32")
    assert registry.counters["quantizations"] == 1 and registry.counters["exports"] == 0  # reused the fp32 export
    assert model("hello world", max_new_tokens=4)[0]["generated_text"] is not None


def test_pipeline_is_safe_under_threads(registries: tuple[ModelRegistry, ModelRegistry], root: Path) -> None:
    import threading

    fast, _ = _pair(registries, root, "seq", "text-classification", max_concurrency=3)
    expected = fast("the train was late again")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                assert fast("the train was late again") == expected
        # Collected to fail the test in the main thread.
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and fast.peak_in_flight <= 3
