"""text-/token-classification and question-answering: engines that answer like the transformers pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, TaskModel
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler


class LogitsHandler(TaskHandler):
    """text-/token-classification and question-answering: arg-max of the raw logits must not move under int8."""

    ENGINES = {"text-classification": ("ORTModelForSequenceClassification", "TextClassifier"),
               "token-classification": ("ORTModelForTokenClassification", "TokenClassifier"),
               "question-answering": ("ORTModelForQuestionAnswering", "QuestionAnswerer")}

    def __init__(self, task: str) -> None:
        super().__init__(task)
        self.ort_class, self.engine_class = self.ENGINES[task]

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the text engine of the task (text_engines), which answers like the transformers pipeline."""
        from gallery.runtime import text_engines

        return getattr(text_engines, self.engine_class)(folder, session)

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load the baseline: the transformers pipeline, or (question answering, which transformers 5 dropped)
        the PyTorch model under the engine's own pre- and post-processing."""
        if self.task != "question-answering":
            return super().load_torch(src, spec)
        from gallery.runtime.torch_baselines import question_answerer

        return TaskModel(question_answerer(src), task=self.task, max_concurrency=spec.max_concurrency,
                         backend="torch-cpu", variant="fp32")

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max per example (or per token / per span position) on the calibration texts."""
        ref, cand = [], []
        for text in calibration:
            a, b = fp32.logits(text), int8.logits(text)  # question answering: the text as question and context
            ref += [np.asarray(a[k]) for k in sorted(a)]
            cand += [np.asarray(b[k]) for k in sorted(a)]
        return q.top1_check(ref, cand)
