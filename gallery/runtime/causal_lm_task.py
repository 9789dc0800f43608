"""text-generation: a causal LM exported with ORTModelForCausalLM, served by a streamed decoding loop."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, TaskModel
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler

if TYPE_CHECKING:
    from gallery.runtime.backends import Sessions
    from gallery.runtime.causal_lm_onnx import Step

logger = logging.getLogger(__name__)


class CausalLMModel(TaskModel):
    """A causal LM engine behind the concurrency guard; `stream` holds its slot until the last token."""

    def __init__(self, engine: Any, *, max_concurrency: int, backend: str, variant: str | None,
                 max_new_tokens: int) -> None:
        super().__init__(engine, task="text-generation", max_concurrency=max_concurrency, backend=backend,
                         variant=variant)
        self.max_new_tokens = max_new_tokens  # the spec's cap on what one call may ask for

    def stream(self, prompt: Any, max_new_tokens: int, temperature: float = 0.0, seed: int | None = None,
               top_k: int = 5) -> Iterator[Step]:
        """Yield the engine's steps inside one slot (a plain proxy call would give the slot back at once)."""
        limit = min(int(max_new_tokens), self.max_new_tokens)
        with self.slot():
            yield from self.target.stream(prompt, limit, temperature, seed, top_k)

    def generate(self, prompt: str, max_new_tokens: int = 32, temperature: float = 0.0,
                 seed: int | None = None) -> str:
        """Return the generated text without streaming."""
        steps = list(self.stream(prompt, max_new_tokens, temperature, seed))
        return str(self.target.decode([s.token for s in steps]))

    def __call__(self, prompt: str, max_new_tokens: int = 32, **kwargs: Any) -> list[dict[str, str]]:
        """Answer like transformers' text-generation pipeline: [{"generated_text": prompt + continuation}]."""
        temperature = float(kwargs.get("temperature", 0.0)) if kwargs.get("do_sample") else 0.0
        return [{"generated_text": prompt + self.generate(prompt, max_new_tokens, temperature, kwargs.get("seed"))}]


class CausalLMHandler(TaskHandler):
    """text-generation: greedy tokens of the calibration prompts must not change under int8 (or WER <= 1 point)."""

    ort_class = "ORTModelForCausalLM"
    # Each step is one short run between numpy work on the logits, as in Whisper's loop (asr.py).
    sleeping_threads = True
    export_extras = ("fast_tokenizer",)

    def serve(self, folder: Path, sessions: Sessions, spec: ModelSpec, meta: dict[str, Any],
              variant: str) -> Guarded:
        """Open `model.onnx` with the backend's sessions into the torch-free decoding loop."""
        from gallery.runtime.causal_lm_onnx import OnnxCausalLM

        engine = OnnxCausalLM(folder, sessions.open)
        return CausalLMModel(engine, max_concurrency=sessions.concurrency(spec),
                             backend=sessions.label(engine.providers), variant=variant,
                             max_new_tokens=spec.typed_options().max_new_tokens)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the PyTorch model (eager fp32) under the same loop: the baseline."""
        from gallery.runtime.torch_baselines import TorchCausalLM

        return CausalLMModel(TorchCausalLM(src), max_concurrency=spec.max_concurrency, backend="torch-cpu",
                             variant="fp32", max_new_tokens=spec.typed_options().max_new_tokens)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy continuations of the calibration prompts token by token."""
        ref = [fp32.generate_ids(str(text), 24) for text in calibration]
        cand = [int8.generate_ids(str(text), 24) for text in calibration]
        return q.sequence_check(ref, cand)
