"""Image preprocessing that several demos share: CNN input tensors."""

from __future__ import annotations

import numpy as np
from PIL import Image


def center_crop_tensor(image: Image.Image, *, short_side: int = 256, crop: int = 224, mean: float = 127.0,
                       scale: float = 128.0) -> np.ndarray:
    """Return a (1, 3, crop, crop) float32 array: short side resized, centre cropped, `(x - mean) / scale`.

    The defaults are EfficientNet-Lite's preprocessing (not the ImageNet mean/std of other CNNs).
    """
    image = image.convert("RGB")
    width, height = image.size
    factor = short_side / min(width, height)
    # Never let rounding take a side below the crop.
    size = (max(crop, round(width * factor)), max(crop, round(height * factor)))
    resized = image.resize(size, Image.Resampling.BILINEAR)
    left, top = (size[0] - crop) // 2, (size[1] - crop) // 2
    pixels = np.asarray(resized.crop((left, top, left + crop, top + crop)), dtype=np.float32)
    return ((pixels - mean) / scale).transpose(2, 0, 1)[None].copy()
