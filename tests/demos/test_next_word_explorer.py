"""Tests for education/next-word-explorer with the real SmolLM2-135M-Instruct: reproducible greedy text, sorted
top-5 probabilities, the token limit, streaming, refusals, and the same tokens as PyTorch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gallery.errors import InputError
from gallery.inputs import coerce_inputs
from tests.demos.harness import Demo, load_demo, run

FOLDER = Path(__file__).resolve().parents[2] / "demos" / "education" / "next-word-explorer"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Return the real demo with its own demo cache."""
    return load_demo(FOLDER, tmp_path_factory.mktemp("cache"))


def test_greedy_output_is_reproducible_and_knows_a_fact(demo: Demo) -> None:
    first = run(demo, prompt="The capital of France is", max_new_tokens=8, temperature=0)
    second = run(demo, prompt="The capital of France is", max_new_tokens=8, temperature=0)
    assert first["continuation"] == second["continuation"]
    assert [s["token"] for s in first["steps"]] == [s["token"] for s in second["steps"]]
    assert "Paris" in first["continuation"]
    assert first["text"] == "The capital of France is" + first["continuation"]


def test_each_step_has_five_sorted_probabilities_and_greedy_picks_the_first(demo: Demo) -> None:
    result = run(demo, prompt="To save money every month, you should", max_new_tokens=10, temperature=0)
    assert result["steps"]
    for step in result["steps"]:
        probs = [c["probability"] for c in step["top"]]
        assert len(probs) == 5
        assert probs == sorted(probs, reverse=True)
        assert all(0 < p <= 1 for p in probs)
        assert sum(probs) <= 1 + 1e-6
        assert step["token"] == step["top"][0]["token"]  # greedy: the most likely token
        assert step["probability"] == step["top"][0]["probability"]


def test_token_limit_is_respected(demo: Demo) -> None:
    for limit in (1, 3, 12):
        result = run(demo, prompt="Once upon a time, a little robot", max_new_tokens=limit, temperature=0.8)
        assert 1 <= result["tokens"] == len(result["steps"]) <= limit
        assert result["stopped"] in ("end", "limit")


def test_sampling_gives_a_chosen_token_from_its_distribution(demo: Demo) -> None:
    result = run(demo, prompt="Once upon a time, a little robot", max_new_tokens=16, temperature=1.2)
    for step in result["steps"]:
        assert 0 < step["probability"] <= 1
        top = [c["probability"] for c in step["top"]]
        assert top == sorted(top, reverse=True)


def test_the_model_seeded_sampling_is_reproducible(demo: Demo) -> None:
    model = demo[2].model("lm")
    one = [s.token for s in model.stream("Once upon a time", 12, temperature=0.9, seed=7)]
    two = [s.token for s in model.stream("Once upon a time", 12, temperature=0.9, seed=7)]
    assert one == two


def test_stream_grows_and_ends_with_the_predict_result(demo: Demo) -> None:
    manifest, code, ctx = demo
    inputs = coerce_inputs(manifest, {"prompt": "The capital of France is", "max_new_tokens": 6, "temperature": 0})
    updates = list(code.stream(ctx, **inputs))
    assert len(updates) >= 2
    lengths = [len(u["steps"]) for u in updates]
    assert lengths == sorted(lengths) and lengths[0] == 1
    assert all(updates[i]["text"].startswith(updates[i - 1]["text"]) for i in range(1, len(updates)))
    assert updates[-1] == code.predict(ctx, **inputs)


def test_every_example_runs(demo: Demo) -> None:
    manifest, code, _ = demo
    for example in manifest.examples:
        raw = {k: v for k, v in example.items() if k != "label"}
        result = run(demo, **raw)
        assert result["tokens"] >= 1 and result["text"].startswith(raw["prompt"].strip())
        for lang in ("en", "zh"):
            views = code.present(result, raw, lang)
            assert len(views["steps"]) == result["tokens"]


def test_the_same_tokens_as_pytorch(demo: Demo) -> None:
    # The ONNX loop against transformers' own greedy generate on the converted model.
    from gallery.runtime.torch_baselines import TorchCausalLM

    model = demo[2].model("lm")
    # The converter's output, cached beside the export: the folder the PyTorch baseline loads.
    source = sorted((Path(os.environ["OPENMODELS_CACHE"]) / "converted" / "gguf-causal-lm").glob("*/model"))
    assert source, "the converted model is not in the cache"
    torch_lm = TorchCausalLM(source[-1])
    prompt = "The capital of France is"
    assert model.generate_ids(prompt, 12) == torch_lm.hf_generate_ids(prompt, 12)


@pytest.mark.parametrize(("raw", "field"), [
    ({"prompt": "", "max_new_tokens": 5, "temperature": 0}, "prompt"),
    ({"prompt": "   ?!  ", "max_new_tokens": 5, "temperature": 0}, "prompt"),
    ({"prompt": "x" * 5000, "max_new_tokens": 5, "temperature": 0}, "prompt"),
    ({"prompt": "Hello", "max_new_tokens": 10_000, "temperature": 0}, "max_new_tokens"),
    ({"prompt": "Hello", "max_new_tokens": 0, "temperature": 0}, "max_new_tokens"),
    ({"prompt": "Hello", "max_new_tokens": 2.5, "temperature": 0}, "max_new_tokens"),
    ({"prompt": "Hello", "max_new_tokens": "many", "temperature": 0}, "max_new_tokens"),
    ({"prompt": "Hello", "max_new_tokens": 5, "temperature": -1}, "temperature"),
    ({"prompt": "Hello", "max_new_tokens": 5, "temperature": "hot"}, "temperature"),
    ({"prompt": ["Hello"], "max_new_tokens": 5, "temperature": 0}, "prompt"),
])
def test_bad_input_is_refused_with_a_clear_message(demo: Demo, raw: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        run(demo, **raw)
    assert info.value.field == field
    assert str(info.value)
