"""Image classification on an exported vision model with PIL and numpy: the image processor and the pipeline.

`ImagePreprocessor` applies what preprocessor_config.json describes in the order transformers' PIL image
processors apply it (resize with PIL and the configured resample filter, centre crop, rescale, normalize), and
`ImageClassifier` scores the logits as the image-classification pipeline does. Neither imports torch or
transformers; tests/runtime/test_engines.py holds them to the pipeline.
"""

from __future__ import annotations

import logging
from math import ceil
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from gallery.runtime.engine_base import Labels, SessionFactory, open_graph, read_json

logger = logging.getLogger(__name__)

IMAGENET_STANDARD = (0.5, 0.5, 0.5)  # mean and std of processors that name none (ViT's)
BILINEAR = 2  # PIL's number for the filter most processors default to
# Processors whose legacy integer `size` means the shortest edge (transformers' default_to_square=False).
_SHORTEST_EDGE_TYPES = ("ConvNext", "CLIP", "Bit", "MobileNetV1", "MobileNetV2", "Levit", "PoolFormer")


def _size_dict(size: Any, processor_type: str) -> dict[str, int]:
    """Return `size` as a dict: {"height", "width"}, {"shortest_edge"} or {"shortest_edge", "longest_edge"}."""
    if isinstance(size, Mapping):
        return {k: int(v) for k, v in size.items() if v is not None}
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return {"height": int(size[0]), "width": int(size[1])}
    if isinstance(size, (int, float)):
        if processor_type.startswith(_SHORTEST_EDGE_TYPES):
            return {"shortest_edge": int(size)}
        return {"height": int(size), "width": int(size)}
    raise ValueError(f"unsupported image processor size {size!r}")


def shortest_edge_size(height: int, width: int, shortest: int) -> tuple[int, int]:
    """Return (height, width) with the shorter side at `shortest`, keeping the aspect ratio (truncated)."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = shortest, int(shortest * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def bounded_size(height: int, width: int, shortest: int, longest: int) -> tuple[int, int]:
    """Return (height, width) for {"shortest_edge", "longest_edge"}: the shorter side at `shortest` unless
    that takes the longer side past `longest` (transformers' get_size_with_aspect_ratio)."""
    raw = None
    small, large = float(min(height, width)), float(max(height, width))
    if large / small * shortest > longest:
        raw = longest * small / large
        shortest = int(round(raw))
    if (height <= width and height == shortest) or (width <= height and width == shortest):
        return height, width
    if width < height:
        return int((raw if raw is not None else shortest) * height / width), shortest
    return shortest, int((raw if raw is not None else shortest) * width / height)


def center_crop(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop an (H, W, C) array to its centre, padding with zeros where it is smaller (transformers' center_crop)."""
    orig_h, orig_w = pixels.shape[:2]
    top, left = (orig_h - height) // 2, (orig_w - width) // 2
    if top >= 0 and left >= 0 and top + height <= orig_h and left + width <= orig_w:
        return pixels[top:top + height, left:left + width]
    new_h, new_w = max(height, orig_h), max(width, orig_w)
    canvas = np.zeros((new_h, new_w) + pixels.shape[2:], dtype=pixels.dtype)
    pad_top, pad_left = ceil((new_h - orig_h) / 2), ceil((new_w - orig_w) / 2)
    canvas[pad_top:pad_top + orig_h, pad_left:pad_left + orig_w] = pixels
    top, left = top + pad_top, left + pad_left
    return canvas[max(0, top):min(new_h, top + height), max(0, left):min(new_w, left + width)]


def load_image(image: Any) -> Any:
    """Return an RGB PIL image, upright per its EXIF tag, from a PIL image, a file path or an (H, W, C) array.

    URLs and base64 strings, which the pipeline also fetches or decodes, are refused: a served model reads
    only what the demo hands it.
    """
    from PIL import Image, ImageOps

    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            raise ValueError(f"no image file at {str(image)[:200]!r} (URLs and base64 strings are not read)")
        image = Image.open(image)
    elif isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    elif not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image, a file path or an array, got {type(image).__name__}")
    return ImageOps.exif_transpose(image).convert("RGB")


class ImagePreprocessor:
    """preprocessor_config.json applied with PIL and numpy: resize, centre crop, rescale, normalize, to CHW."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        kind = str(config.get("image_processor_type") or config.get("feature_extractor_type") or "")
        self.kind = kind
        self.do_resize = bool(config.get("do_resize", True))
        self.size = _size_dict(config.get("size", {"height": 224, "width": 224}), kind)
        self.resample = int(config.get("resample", BILINEAR))
        self.crop_pct = config.get("crop_pct") if kind.startswith("ConvNext") else None
        self.do_center_crop = bool(config.get("do_center_crop", False))
        crop = config.get("crop_size")
        self.crop_size = _size_dict(crop, "") if crop is not None else None
        if self.do_center_crop and (not self.crop_size or "height" not in self.crop_size):
            raise ValueError(f"center crop needs crop_size with height and width, got {crop!r}")
        self.do_rescale = bool(config.get("do_rescale", True))
        self.rescale_factor = float(config.get("rescale_factor", 1 / 255))
        self.do_normalize = bool(config.get("do_normalize", True))
        self.mean = np.asarray(config.get("image_mean") or IMAGENET_STANDARD, dtype=np.float32)
        self.std = np.asarray(config.get("image_std") or IMAGENET_STANDARD, dtype=np.float32)

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """Return the (height, width) an image of this size is resized to."""
        size = self.size
        if "shortest_edge" in size and "longest_edge" in size:
            return bounded_size(height, width, size["shortest_edge"], size["longest_edge"])
        if "shortest_edge" in size:
            return shortest_edge_size(height, width, size["shortest_edge"])
        if "height" in size and "width" in size:
            return size["height"], size["width"]
        raise ValueError(f"unsupported image processor size {size!r}")

    def __call__(self, image: Any) -> np.ndarray:
        """Return the model input `pixel_values` (1, 3, H, W) float32 of one image."""
        image = load_image(image)
        pixels = np.asarray(image)
        if self.do_resize:
            pixels = self._resize(image)
        if self.do_center_crop and self.crop_size:
            pixels = center_crop(pixels, self.crop_size["height"], self.crop_size["width"])
        values = pixels.astype(np.float32)
        if self.do_rescale:
            # float64 then float32, as transformers' rescale computes it.
            values = (pixels.astype(np.float64) * self.rescale_factor).astype(np.float32)
        if self.do_normalize:
            values = (values - self.mean) / self.std
        return np.ascontiguousarray(values.transpose(2, 0, 1)[None], dtype=np.float32)

    def _resize(self, image: Any) -> np.ndarray:
        """Resize with PIL; ConvNeXt processors below 384 px resize to edge / crop_pct and crop the centre."""
        width, height = image.size
        if self.crop_pct is not None and "shortest_edge" in self.size:
            edge = self.size["shortest_edge"]
            if edge < 384:
                h, w = shortest_edge_size(height, width, int(edge / float(self.crop_pct)))
                resized = np.asarray(image.resize((w, h), resample=self.resample))
                return center_crop(resized, edge, edge)
            return np.asarray(image.resize((edge, edge), resample=self.resample))
        h, w = self.target_size(height, width)
        return np.asarray(image.resize((w, h), resample=self.resample))


class ImageClassifier:
    """image-classification: the top labels of an image as {"label", "score"} dicts, best first.

    Thread-safe: the processor holds only settings, and sessions may run concurrently.
    """

    def __init__(self, folder: Path, session: SessionFactory) -> None:
        self.folder = Path(folder)
        self.graph = open_graph(self.folder, "model", session)
        self.config = read_json(self.folder / "config.json")
        self.labels = Labels.from_config(self.config)
        processor = read_json(self.folder / "preprocessor_config.json")
        if not processor:
            raise FileNotFoundError(f"{folder}: the export has no preprocessor_config.json")
        self.processor = ImagePreprocessor(processor)
        self._input = "pixel_values" if "pixel_values" in self.graph.inputs else next(iter(self.graph.inputs))
        self._logits = "logits" if "logits" in self.graph.output_names else self.graph.output_names[0]

    @property
    def providers(self) -> list[str]:
        """Return where the graph runs."""
        return self.graph.providers

    def __call__(self, images: Any, top_k: int | None = 5, function_to_apply: str | None = None) -> list[Any]:
        """Classify one image (a list of labels and scores) or a list of images (one such list each).

        At most `top_k` labels (the pipeline's default 5 when None), never more than the model has.
        """
        top_k = 5 if top_k is None else top_k
        if top_k < 1:
            raise ValueError(f"top_k should be >= 1 (got {top_k})")
        if isinstance(images, (list, tuple)):
            return [self._classify(image, top_k, function_to_apply) for image in images]
        return self._classify(images, top_k, function_to_apply)

    def image_logits(self, image: Any) -> np.ndarray:
        """Return the raw logits of one image, shape (1, labels)."""
        return self.graph.run({self._input: self.processor(image)}, [self._logits])[self._logits]

    def _classify(self, image: Any, top_k: int, function: str | None) -> list[dict[str, Any]]:
        scores = self.labels.scores(self.image_logits(image)[0], function)
        ranked = sorted(({"label": self.labels.name(i), "score": float(s)} for i, s in enumerate(scores)),
                        key=lambda x: x["score"], reverse=True)
        return ranked[:top_k]
