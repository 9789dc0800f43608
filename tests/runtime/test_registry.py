"""Feature-extraction end to end through the registry: export, cache, sharing, concurrency, errors, LRU."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from gallery.errors import ModelUnavailableError
from gallery.runtime.models import TextEmbedder
from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import CALIBRATION, make_spec
from tests.runtime.tinymodels import tiny_bert

SPEC = make_spec("feature-extraction", {"path": "model"}, quantize="none")


def torch_reference(folder: Path, texts: list[str]) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings computed with plain transformers."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=1).numpy()


def test_embedder_matches_transformers_and_warm_start_skips_export(bert_demo: Path, tmp_path: Path) -> None:
    texts = ["hello world", "the train to the city was late again", "pin"]
    first = ModelRegistry(tmp_path / "cache")
    model = first.get("finance/a", "encoder", SPEC, bert_demo)
    assert isinstance(model, TextEmbedder)
    vectors = model.embed(texts)
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, torch_reference(bert_demo / "model", texts), atol=1e-5)
    assert model.backend == "onnxruntime-cpu" and model.variant == "fp32"
    assert first.counters["exports"] == 1 and first.counters["loads"] == 1

    warm = ModelRegistry(tmp_path / "cache")  # a new process would start like this
    again = warm.get("finance/a", "encoder", SPEC, bert_demo)
    assert warm.counters["exports"] == 0, "a warm start must load the cached ONNX, not export"
    np.testing.assert_allclose(again.embed(texts), vectors, atol=1e-6)
    status = warm.status("finance/a", "encoder", SPEC, bert_demo)
    assert status.state == "ready" and status.backend == "onnxruntime-cpu" and status.load_seconds is not None


def test_changed_source_invalidates_the_cache(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tiny_bert(demo / "model", seed=1)
    registry = ModelRegistry(tmp_path / "cache")
    before = registry.get("x/demo", "m", SPEC, demo).embed(["hello world"])
    registry.unload_all()
    tiny_bert(demo / "model", seed=2)  # same files, new weights
    after_registry = ModelRegistry(tmp_path / "cache")
    after = after_registry.get("x/demo", "m", SPEC, demo).embed(["hello world"])
    assert after_registry.counters["exports"] == 1, "new weights must be exported again"
    assert not np.allclose(before, after)


def test_concurrent_first_requests_load_once_and_demos_share(bert_demo: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "cache")
    results: list[object] = []
    barrier = threading.Barrier(8)

    def request(i: int) -> None:
        barrier.wait()
        results.append(registry.get(f"education/demo-{i % 3}", "encoder", SPEC, bert_demo))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert registry.counters["loads"] == 1 and registry.counters["exports"] == 1


def test_relative_path_sources_are_per_demo(tmp_path: Path, bert_demo: Path) -> None:
    other = tmp_path / "other-demo"
    shutil.copytree(bert_demo / "model", other / "model")
    registry = ModelRegistry(tmp_path / "cache")
    a = registry.get("x/a", "m", SPEC, bert_demo)
    b = registry.get("x/b", "m", SPEC, other)
    assert a is not b, "`path: model` means a different folder in each demo"


def test_concurrency_limit_holds(bert_demo: Path, tmp_path: Path) -> None:
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="none", max_concurrency=2)
    model = ModelRegistry(tmp_path / "cache").get("x/a", "m", spec, bert_demo)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert model.embed(["the train was late", "hello"]).shape == (2, 32)
        # Collected to fail the test in the main thread.
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert model.calls == 120 and 1 <= model.peak_in_flight <= 2


def test_hub_cache_layout_loads_offline(bert_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "hf" / "models--tiny--bert" / "snapshots" / revision
    shutil.copytree(bert_demo / "model", snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    spec = make_spec("feature-extraction", {"hub": "tiny/bert", "revision": revision}, quantize="none")
    registry = ModelRegistry(tmp_path / "cache")
    assert registry.availability(spec, tmp_path)[0]
    vectors = registry.get("x/hub", "m", spec, tmp_path).embed(["hello world"])
    np.testing.assert_allclose(vectors, torch_reference(bert_demo / "model", ["hello world"]), atol=1e-5)


def test_missing_model_raises_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf"))
    spec = make_spec("feature-extraction", {"hub": "nobody/nothing", "revision": "f" * 40})
    registry = ModelRegistry(tmp_path / "cache")
    ok, reason = registry.availability(spec, tmp_path)
    assert not ok and "nobody/nothing" in reason
    assert registry.status("healthcare/x", "m", spec, tmp_path).state == "not-loaded"
    with pytest.raises(ModelUnavailableError) as info:
        registry.get("healthcare/x", "encoder", spec, tmp_path)
    message = str(info.value)
    assert "healthcare/x" in message and "nobody/nothing" in message and "gallery pull healthcare/x" in message
    missing_pkg = make_spec("feature-extraction", {"package": "no-such-model-package", "path": "model"})
    with pytest.raises(ModelUnavailableError, match="pip install no-such-model-package"):
        registry.get("healthcare/x", "encoder", missing_pkg, tmp_path)


def test_lru_unloads_idle_models_under_a_small_budget(tmp_path: Path) -> None:
    demos = [tmp_path / f"d{i}" for i in range(3)]
    for i, demo in enumerate(demos):
        tiny_bert(demo / "model", seed=10 + i)
    warm = ModelRegistry(tmp_path / "cache")
    for i, demo in enumerate(demos):  # export first, so that the measured loads are the cached ones
        warm.get(f"x/d{i}", "m", SPEC, demo)
    sizes = [warm.status(f"x/d{i}", "m", SPEC, d) for i, d in enumerate(demos)]
    assert all(s.state == "ready" for s in sizes)
    warm.unload_all()

    registry = ModelRegistry(tmp_path / "cache", memory_budget_bytes=1)  # room for nothing: keep only the newest
    a = registry.get("x/d0", "m", SPEC, demos[0])
    registry.get("x/d1", "m", SPEC, demos[1])
    assert registry.status("x/d0", "m", SPEC, demos[0]).state == "not-loaded"
    assert registry.status("x/d1", "m", SPEC, demos[1]).state == "ready"
    assert registry.counters["evictions"] >= 1
    again = registry.get("x/d0", "m", SPEC, demos[0])  # comes back on its next request
    assert again is not a and registry.counters["exports"] == 0


def test_lru_spares_models_in_use(tmp_path: Path, bert_demo: Path) -> None:
    other = tmp_path / "o"
    tiny_bert(other / "model", seed=5)
    registry = ModelRegistry(tmp_path / "cache", memory_budget_bytes=1)
    a = registry.get("x/a", "m", SPEC, bert_demo)
    with a.slot():  # a request is running inside model a
        registry.get("x/b", "m", SPEC, other)
        assert registry.status("x/a", "m", SPEC, bert_demo).state == "ready"


def test_quantization_guard_keeps_int8_when_close(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tiny_bert(demo / "model", seed=0)
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="dynamic-int8",
                     options={"calibration": CALIBRATION})
    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("x/q", "m", spec, demo)
    status = registry.status("x/q", "m", spec, demo)
    assert status.variant == "int8" == model.variant
    assert status.quant_check["passed"] and status.quant_check["value"] >= 0.99
    assert status.quant_check["examples"] >= len(CALIBRATION)
    warm = ModelRegistry(tmp_path / "cache")
    assert warm.get("x/q", "m", spec, demo).variant == "int8"
    assert warm.counters["exports"] == warm.counters["quant_checks"] == warm.counters["quantizations"] == 0


def test_quantization_guard_falls_back_to_fp32(tmp_path: Path) -> None:
    # Weights that no per-channel int8 can hold: the check fails by construction on every CPU and kernel
    # (activation outliers alone depend on how each CPU's kernels quantize activations).
    from tests.runtime.tinymodels import add_weight_outliers

    demo = tmp_path / "demo"
    add_weight_outliers(tiny_bert(demo / "model", seed=0))
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="dynamic-int8",
                     options={"calibration": CALIBRATION})
    registry = ModelRegistry(tmp_path / "cache")
    model = registry.get("x/q", "m", spec, demo)
    check = registry.status("x/q", "m", spec, demo).quant_check
    assert model.variant == "fp32"
    assert check is not None and not check["passed"] and check["value"] < 0.9 and "cosine" in check["reason"]
    np.testing.assert_allclose(model.embed(["hello world"]), torch_reference(demo / "model", ["hello world"]),
                               atol=1e-4)


def test_cached_export_serves_when_the_hub_snapshot_is_gone(bert_demo: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    revision = "89abcdef0123456789abcdef0123456789abcdef"
    snapshot = tmp_path / "hf" / "models--tiny--gone" / "snapshots" / revision
    shutil.copytree(bert_demo / "model", snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    spec = make_spec("feature-extraction", {"hub": "tiny/gone", "revision": revision}, quantize="none")
    first = ModelRegistry(tmp_path / "cache").get("x/hub", "m", spec, tmp_path).embed(["hello world"])
    shutil.rmtree(tmp_path / "hf")
    registry = ModelRegistry(tmp_path / "cache")
    ok, reason = registry.availability(spec, tmp_path)
    assert ok and "export is in the cache" in reason
    np.testing.assert_allclose(registry.get("x/hub", "m", spec, tmp_path).embed(["hello world"]), first, atol=1e-6)
    assert registry.counters["exports"] == 0
