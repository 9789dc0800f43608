"""text2text-generation, translation and summarization: a greedy encoder-decoder engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, TaskModel
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler


class Seq2SeqHandler(TaskHandler):
    """text2text-generation / translation / summarization: greedy output tokens unchanged (or WER <= 1 point)."""

    ort_class = "ORTModelForSeq2SeqLM"
    merge_decoders = True  # one decoder graph holding the weights once (OpenVINO keeps the two: SplitDecoder)

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the greedy encoder-decoder engine (seq2seq_onnx) for this task's output key and prefix."""
        from gallery.runtime.seq2seq_onnx import OnnxSeq2Seq

        return OnnxSeq2Seq(folder, session, self.task)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the baseline: transformers' greedy `generate` in PyTorch (transformers 5 has no such pipeline)."""
        from gallery.runtime.torch_baselines import TorchSeq2Seq

        return TaskModel(TorchSeq2Seq(src, self.task), task=self.task, max_concurrency=spec.max_concurrency,
                         backend="torch-cpu", variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare greedy generations token by token."""
        ref = [fp32.generate_ids(text, max_new_tokens=32) for text in calibration]
        cand = [int8.generate_ids(text, max_new_tokens=32) for text in calibration]
        return q.sequence_check(ref, cand)
