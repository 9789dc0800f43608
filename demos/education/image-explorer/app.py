"""What is in this picture? The top-5 ImageNet labels of a photo, from EfficientNet-Lite0."""

from __future__ import annotations

import logging
from typing import Any

from PIL import Image

from gallery.context import DemoContext
from shared.imagenet import classify, imagenet_labels, top_k

logger = logging.getLogger(__name__)

TOP_K = 5


def predict(ctx: DemoContext, image: Image.Image) -> dict[str, Any]:
    """Return the five most likely ImageNet labels of the image, best first, with softmax probabilities."""
    probs = classify(ctx.model("classifier"), image)
    labels = top_k(probs, TOP_K, imagenet_labels())
    logger.debug("%s: top label %s (%.2f)", ctx.id, labels[0]["label"], labels[0]["score"])
    return {"labels": labels}


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the labels as confidence bars."""
    return {"labels": {item["label"]: item["score"] for item in result["labels"]}}
