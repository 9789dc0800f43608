"""image-classification: PIL preprocessing as the model's processor does, then the classifier graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from gallery.runtime import quantize as q
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler


class ImageHandler(TaskHandler):
    """image-classification: top-1 class unchanged on the demo's example images."""

    ort_class = "ORTModelForImageClassification"
    auto_quantize = False  # convolutional backbones gain little from dynamic int8; ask with `dynamic-int8`
    export_extras = ()  # an image model has no tokenizer; its preprocessor_config.json comes with the export

    def engine(self, folder: Path, session: Callable[[Path], Any], spec: ModelSpec) -> Any:
        """Return the image classifier engine (image_engine): PIL preprocessing as the model's processor does."""
        from gallery.runtime.image_engine import ImageClassifier

        return ImageClassifier(folder, session)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Compare arg-max class per image."""
        ref = [np.asarray(fp32.image_logits(path)) for path in calibration]
        cand = [np.asarray(int8.image_logits(path)) for path in calibration]
        return q.top1_check(ref, cand)
