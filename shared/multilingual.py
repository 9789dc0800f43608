"""The multilingual sentence encoder (`use-multilingual` in demos/_models.yaml) behind the embedder interface.

USE-multilingual carries its SentencePiece tokenizer inside the ONNX graph: it takes the strings themselves and
returns one 512-d vector per string, Chinese and English in one space, so `shared.fewshot.embed_texts` and the
demos' similarity code use it as they use the MiniLM embedder.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


class GraphTokenizedEncoder:
    """Embed texts with an ONNX sentence encoder whose graph takes strings (`inputs`) and gives `outputs`."""

    def __init__(self, model: Any, input_name: str = "inputs", output_name: str = "outputs") -> None:
        self.model = model  # a runtime OnnxModel: its `run` takes a concurrency slot
        self.input_name = input_name
        self.output_name = output_name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 rows of unit length, one per text."""
        (vectors,) = self.model.run({self.input_name: np.array(list(texts), dtype=object)}, [self.output_name])
        vectors = np.asarray(vectors, dtype=np.float32)
        # The int8 graph's vectors are within 1e-6 of unit length; normalising makes cosine a plain dot product.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
