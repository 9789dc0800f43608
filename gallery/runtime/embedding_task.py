"""feature-extraction: sentence embeddings, served by a TextEmbedder over the backend's session."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gallery.runtime import quantize as q
from gallery.runtime.models import Guarded, TextEmbedder, TorchTextEmbedder
from gallery.runtime.spec import ModelSpec
from gallery.runtime.tasks import TaskHandler

if TYPE_CHECKING:
    from gallery.runtime.backends import Sessions


class EmbeddingHandler(TaskHandler):
    """feature-extraction: ONNX Runtime session + `tokenizers` at run time (no torch, no optimum import)."""

    ort_class = "ORTModelForFeatureExtraction"
    export_extras = ("fast_tokenizer", "sentence_max_length")

    def _embedder(self, session: Any, folder: Path, spec: ModelSpec, meta: dict[str, Any], backend: str,
                  variant: str, max_concurrency: int) -> TextEmbedder:
        """Wrap a session and the folder's tokenizer.json as a TextEmbedder."""
        from tokenizers import Tokenizer

        options = {**self._options(spec, int(meta.get("max_length", 256))), "max_concurrency": max_concurrency}
        return TextEmbedder(session, Tokenizer.from_file(str(folder / "tokenizer.json")),
                            batch=spec.typed_options().batch, batch_wait_ms=spec.typed_options().batch_wait_ms,
                            backend=backend, variant=variant, **options)

    def _options(self, spec: ModelSpec, default_max: int) -> dict[str, Any]:
        opts = spec.typed_options()  # EmbeddingOptions
        return {
            "pooling": opts.pooling,
            "normalize": opts.normalize,
            "max_length": opts.max_length or default_max,
            "batch_size": opts.batch_size,
            "max_concurrency": spec.max_concurrency,
        }

    def serve(self, folder: Path, sessions: Sessions, spec: ModelSpec, meta: dict[str, Any],
              variant: str) -> Guarded:
        """Open model.onnx with the backend's sessions; tokenize with `tokenizers` (no torch, no optimum import)."""
        session = sessions.open(folder / "model.onnx")
        return self._embedder(session, folder, spec, meta, sessions.label(session.get_providers()), variant,
                              sessions.concurrency(spec))

    def load_torch(self, src: Path, spec: ModelSpec) -> Guarded:
        """Load AutoModel + AutoTokenizer with the same pooling (the baseline)."""
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(str(src)).eval()
        from gallery.runtime.exporter.steps import sentence_max_length

        opts = self._options(spec, sentence_max_length(src))
        opts.pop("max_concurrency")
        return TorchTextEmbedder(model, AutoTokenizer.from_pretrained(str(src)), max_concurrency=spec.max_concurrency,
                                 **opts)

    def check(self, fp32: Any, int8: Any, calibration: list[Any]) -> dict[str, Any]:
        """Cosine of int8 vs fp32 embeddings on every calibration text."""
        return q.embedding_check(fp32.embed(calibration), int8.embed(calibration))
