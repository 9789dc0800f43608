"""Every task of the task table on every backend: the answer equals the PyTorch baseline's.

One row per (task, backend) of `task_table.TASKS` x `backends.BACKENDS`, on tiny models the test builds itself.
A task or a backend added without a case here fails `test_the_matrix_covers_every_task_and_backend`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gallery.runtime.backends import BACKENDS
from gallery.runtime.hardware import detect
from gallery.runtime.registry import ModelRegistry
from gallery.runtime.spec import ModelSpec
from gallery.runtime.task_table import TASKS
from tests.runtime.conftest import make_spec
from tests.runtime.test_asr import FP32 as WHISPER_FP32
from tests.runtime.test_asr import _demo as whisper_demo
from tests.runtime.test_module_custom_onnx import MODULE_CODE
from tests.runtime.tinymodels import tiny_bert, tiny_llama, tiny_t5, tiny_vit

# What `OPENMODELS_BACKEND` / force_backend calls each planned backend.
ASKED = {"onnxruntime-cpu": "onnxruntime", "onnxruntime-cuda": "onnxruntime", "openvino-cpu": "openvino",
         "torch": "torch"}
TEXTS = ["the train to the city was late again", "great service at the bank"]


def _image() -> Any:
    from PIL import Image

    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8))


def _tone(root: Path) -> Any:
    from gallery.runtime.asr import load_audio

    return load_audio(root / "a.wav")


def _scores(items: list[dict[str, Any]]) -> list[float]:
    return [float(x["score"]) for x in items]


# task -> (demo folder under the module root, spec fields, run(model, root) -> (exact part, numbers part))
Case = tuple[str, dict[str, Any], Callable[[Any, Path], tuple[Any, list[float]]]]
CASES: dict[str, Case] = {
    "feature-extraction": ("emb", {"source": {"path": "model"}},
                           lambda m, r: (None, m.embed(TEXTS).ravel().tolist())),
    "text-classification": ("seq", {"source": {"path": "model"}},
                            lambda m, r: ([[x["label"] for x in g] for g in m(TEXTS, top_k=None)],
                                          [s for g in m(TEXTS, top_k=None) for s in _scores(g)])),
    "token-classification": ("tok", {"source": {"path": "model"}},
                             lambda m, r: ([(x["word"], x["entity"]) for x in m(TEXTS[0])], _scores(m(TEXTS[0])))),
    "question-answering": ("qa", {"source": {"path": "model"}},
                           lambda m, r: ((a := m(question="where is the bus", context=TEXTS[0]))["answer"],
                                         [a["score"]])),
    "text2text-generation": ("t5", {"source": {"path": "model"}},
                             lambda m, r: (m(TEXTS[0], max_new_tokens=8, do_sample=False), [])),
    "translation": ("t5", {"source": {"path": "model"}},
                    lambda m, r: (m(TEXTS[0], max_new_tokens=8, do_sample=False), [])),
    "summarization": ("t5", {"source": {"path": "model"}},
                      lambda m, r: (m(TEXTS[0], max_new_tokens=8, do_sample=False), [])),
    # Greedy tokens must be the same, and the next-token logits after the prompt within 1e-3.
    "text-generation": ("lm", {"source": {"path": "model"}},
                        lambda m, r: (m.generate_ids(TEXTS[0], 12), m.logits(TEXTS[0]).tolist())),
    "image-classification": ("vit", {"source": {"path": "model"}},
                             lambda m, r: ([x["label"] for x in m(_image())], _scores(m(_image())))),
    "automatic-speech-recognition": ("asr", WHISPER_FP32.model_dump(exclude={"task"}),
                                     lambda m, r: (m.transcribe(_tone(r / "asr")), [])),
    "onnx": ("onnx", {"source": {"path": "pkg"}},
             lambda m, r: (None, m.run({"x": np.array([[-1.0, 0.5, 2.0]], np.float32)})[0].ravel().tolist())),
    "torch-module": ("module", {"source": {"path": "weights"}, "factory": "tinynet_matrix:build",
                                "options": {"input_shape": [1, 3, 16, 16]}},
                     lambda m, r: (None, m.run({"input": np.ones((2, 3, 16, 16), np.float32)})[0].ravel().tolist())),
    "custom": ("module", {"source": {"path": "weights"}, "factory": "tinynet_matrix:make_counter",
                          "options": {"factor": 3}},
               lambda m, r: (m.predict(2), [])),
}
# The backend each (task, backend) really runs on where it is not the backend asked for.
RUNS_ON = {("onnx", "torch"): "onnxruntime-cpu"}  # a shipped ONNX file has no PyTorch form


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build one tiny model per case folder once for the module."""
    import onnx
    import torch
    from onnx import TensorProto, helper

    base = tmp_path_factory.mktemp("matrix")
    tiny_bert(base / "emb" / "model", head="base", seed=11)
    tiny_bert(base / "seq" / "model", head="seq", seed=12)
    tiny_bert(base / "tok" / "model", head="tok", seed=13)
    tiny_bert(base / "qa" / "model", head="qa", seed=14)
    tiny_t5(base / "t5" / "model", seed=15)
    tiny_vit(base / "vit" / "model", seed=16)
    tiny_llama(base / "lm" / "model", seed=17)
    whisper_demo(base / "asr")
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])])
    (base / "onnx" / "pkg").mkdir(parents=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              base / "onnx" / "pkg" / "model.onnx")
    (base / "code").mkdir()
    (base / "code" / "tinynet_matrix.py").write_text(MODULE_CODE, encoding="utf-8")
    sys.path.insert(0, str(base / "code"))
    (base / "module" / "weights").mkdir(parents=True)
    torch.manual_seed(0)
    exec(compile(MODULE_CODE, "tinynet", "exec"), namespace := {})
    torch.save(namespace["TinyNet"]().state_dict(), base / "module" / "weights" / "weights.pt")
    yield base
    sys.path.remove(str(base / "code"))


def _load(root: Path, task: str, backend: str) -> Any:
    folder, fields, _ = CASES[task]
    spec: ModelSpec = make_spec(task, **{"quantize": "none", **fields})
    registry = ModelRegistry(root / "cache", force_backend=ASKED[backend])
    assert registry.backend_for(spec) == backend, f"{backend} is not planned here"
    return registry.get(f"matrix/{folder}", "m", spec, root / folder)


def test_the_matrix_covers_every_task_and_backend() -> None:
    assert set(CASES) == set(TASKS), "a task of the task table has no case in this matrix (or a case no task)"
    assert set(ASKED) == set(BACKENDS), "a backend has no way to be asked for here"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_answers_like_pytorch_on_every_backend(root: Path, task: str, backend: str) -> None:
    if backend == "onnxruntime-cuda" and not detect().cuda:
        pytest.skip("no CUDA device on this machine (the device check runs this row on a GPU)")
    if backend == "openvino-cpu" and not detect().openvino:
        pytest.skip("OpenVINO is not installed")
    model = _load(root, task, backend)
    baseline = _load(root, task, "torch")
    if task != "custom":  # a factory's object runs where its factory put it
        assert model.backend == RUNS_ON.get((task, backend), backend if backend != "torch" else "torch-cpu")
    run = CASES[task][2]
    (exact, numbers), (want_exact, want_numbers) = run(model, root), run(baseline, root)
    assert exact == want_exact
    np.testing.assert_allclose(numbers, want_numbers, atol=1e-3)
