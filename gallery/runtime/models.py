"""The loaded-model objects demos receive: each bounds its own concurrency and reports its real backend."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

logger = logging.getLogger(__name__)


class Guarded:
    """Base of every loaded model: a semaphore of `max_concurrency` slots around inference, plus usage counters."""

    def __init__(self, max_concurrency: int, backend: str, variant: str | None) -> None:
        self.backend = backend
        self.variant = variant
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0  # the most calls seen running at once (tests check the limit holds)
        self.calls = 0
        self.last_used = time.monotonic()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the model's concurrency slots for the duration of a call."""
        with self._slots:
            with self._count_lock:
                self.in_flight += 1
                self.calls += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                with self._count_lock:
                    self.in_flight -= 1
                    self.last_used = time.monotonic()

    def close(self) -> None:
        """Release what the model holds (sessions are freed once no reference remains)."""


def _pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Pool token states (n, seq, dim) into one vector per text."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask[..., None].astype(hidden.dtype)
    return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


class MicroBatcher:
    """Merge texts from concurrent callers into one model run (dynamic batching)."""

    def __init__(self, run: Callable[[list[str]], np.ndarray], max_batch: int, wait_s: float) -> None:
        self._run = run
        self.max_batch = max_batch
        self.wait_s = wait_s
        self._queue: queue.Queue[tuple[list[str], dict[str, Any]]] = queue.Queue()
        self._worker = threading.Thread(target=self._loop, daemon=True, name="micro-batcher")
        self._worker.start()
        self.runs = 0  # model runs made (fewer than requests when batching helped)

    def submit(self, texts: list[str]) -> np.ndarray:
        """Queue texts and block until their vectors are ready."""
        box: dict[str, Any] = {"done": threading.Event()}
        self._queue.put((texts, box))
        box["done"].wait()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first[1].get("stop"):
                return
            batch = [first]
            size = len(first[0])
            deadline = time.monotonic() + self.wait_s
            while size < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item[1].get("stop"):
                    self._queue.put(item)
                    break
                batch.append(item)
                size += len(item[0])
            self._dispatch(batch)

    def _dispatch(self, batch: list[tuple[list[str], dict[str, Any]]]) -> None:
        texts = [t for item in batch for t in item[0]]
        try:
            vectors = self._run(texts)
            self.runs += 1
        # The error belongs to the callers: hand it to each of them instead of killing the worker.
        except Exception as exc:  # noqa: BLE001
            for _, box in batch:
                box["error"] = exc
                box["done"].set()
            return
        start = 0
        for item, box in batch:
            box["result"] = vectors[start:start + len(item)]
            start += len(item)
            box["done"].set()

    def stop(self) -> None:
        """Stop the worker thread."""
        self._queue.put(([], {"stop": True}))


class TextEmbedder(Guarded):
    """Sentence embeddings from an ONNX Runtime session: tokenizers -> model -> pooling -> L2 norm."""

    def __init__(self, session: Any, tokenizer: Any, *, pooling: str = "mean", normalize: bool = True,
                 max_length: int = 256, batch_size: int = 32, batch: bool = False, batch_wait_ms: float = 2.0,
                 max_concurrency: int = 2, backend: str = "onnxruntime-cpu", variant: str | None = "fp32") -> None:
        super().__init__(max_concurrency, backend, variant)
        self.session = session
        self.tokenizer = tokenizer  # a `tokenizers.Tokenizer` configured once here; encoding is then read-only
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self._inputs = {i.name for i in session.get_inputs()}
        pad_id = tokenizer.token_to_id("[PAD]")
        pad_id = 0 if pad_id is None else pad_id
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.enable_padding(pad_id=pad_id, pad_token=tokenizer.id_to_token(pad_id) or "[PAD]")
        self.dim = int(session.get_outputs()[0].shape[-1]) if isinstance(session.get_outputs()[0].shape[-1], int) else None
        self.batcher = MicroBatcher(self._run_batch, max_batch=batch_size, wait_s=batch_wait_ms / 1000) if batch else None

    def _run_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.asarray([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        vectors = hidden if hidden.ndim == 2 else _pool(hidden, mask, self.pooling)
        vectors = vectors.astype(np.float32, copy=False)
        return _normalise(vectors) if self.normalize else vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return one float32 vector per text, shape (n, dim)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not one string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        # Sorting by length keeps padding, and so wasted compute, small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[np.ndarray] = []
        with self.slot():
            for start in range(0, len(order), self.batch_size):
                chunk = [texts[i] for i in order[start:start + self.batch_size]]
                out.append(self.batcher.submit(chunk) if self.batcher else self._run_batch(chunk))
        vectors = np.concatenate(out)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def close(self) -> None:
        """Stop the batching worker."""
        if self.batcher:
            self.batcher.stop()


class TorchTextEmbedder(Guarded):
    """The same embeddings from the plain transformers model (PyTorch eager, fp32): the benchmark's baseline."""

    def __init__(self, model: Any, tokenizer: Any, *, pooling: str = "mean", normalize: bool = True,
                 max_length: int = 256, batch_size: int = 32, max_concurrency: int = 2) -> None:
        super().__init__(max_concurrency, "torch-cpu", "fp32")
        self.model = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self._tok_lock = threading.Lock()  # a fast tokenizer's padding settings are not safe to share across threads
        self.dim = int(model.config.hidden_size)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return one float32 vector per text, shape (n, dim)."""
        import torch

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self.slot(), torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                with self._tok_lock:
                    enc = self.tokenizer(texts[start:start + self.batch_size], padding=True, truncation=True,
                                         max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state.numpy()
                vectors = _pool(hidden, enc["attention_mask"].numpy(), self.pooling).astype(np.float32)
                out.append(_normalise(vectors) if self.normalize else vectors)
        return np.concatenate(out)


class PipelineModel(Guarded):
    """A transformers pipeline over a PyTorch model (the `torch` baselines), callable like the pipeline itself.

    Each concurrency slot gets its own pipeline (own tokenizer copy, shared model), because a fast tokenizer
    raises "Already borrowed" when two threads change its padding settings at once; ONNX Runtime sessions and
    torch modules in inference mode are safe to share.
    """

    def __init__(self, make_pipeline: Callable[[], Any], *, model: Any, max_concurrency: int, backend: str,
                 variant: str | None) -> None:
        super().__init__(max_concurrency, backend, variant)
        self.model = model
        self._make = make_pipeline
        first = make_pipeline()
        self.task = first.task
        self.tokenizer = getattr(first, "tokenizer", None)
        self.processor = getattr(first, "image_processor", None) or getattr(first, "feature_extractor", None)
        self._free: queue.LifoQueue[Any] = queue.LifoQueue()
        self._free.put(first)
        self._built = 1
        self._build_lock = threading.Lock()

    def _take(self) -> Any:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            with self._build_lock:
                self._built += 1
            return self._make()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the pipeline on the inputs and return its usual output."""
        with self.slot():
            pipe = self._take()
            try:
                return pipe(*args, **kwargs)
            finally:
                self._free.put(pipe)


class OnnxModel(Guarded):
    """A plain ONNX Runtime session with named inputs and outputs."""

    def __init__(self, session: Any, *, path: Path | None = None, max_concurrency: int = 2,
                 backend: str = "onnxruntime-cpu", variant: str | None = "fp32") -> None:
        super().__init__(max_concurrency, backend, variant)
        self.session = session
        self.path = path
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray], output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run the session on `feeds` (input name -> array) and return the outputs in order."""
        with self.slot():
            return self.session.run(list(output_names) if output_names else None, feeds)


class TorchModuleModel(Guarded):
    """A torch nn.Module behind the same `.run` API as OnnxModel (the baseline of torch-module specs)."""

    def __init__(self, module: Any, *, input_names: list[str], output_names: list[str], max_concurrency: int = 2) -> None:
        super().__init__(max_concurrency, "torch-cpu", "fp32")
        self.module = module
        self.input_names = input_names
        self.output_names = output_names

    def run(self, feeds: dict[str, np.ndarray], output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run the module on `feeds` and return its outputs as numpy arrays."""
        import torch

        with self.slot(), torch.inference_mode():
            out = self.module(*[torch.from_numpy(np.asarray(feeds[n])) for n in self.input_names])
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        arrays = [o.detach().numpy() for o in outs]
        if output_names:
            return [arrays[self.output_names.index(n)] for n in output_names]
        return arrays


class CustomModel(Guarded):
    """A proxy around a demo's own object: every method call (and calling it) takes a concurrency slot.

    Attribute reads pass through untouched; callables are wrapped so the object's own code needs no locking
    beyond `max_concurrency` (set `max_concurrency: 1` for objects that are not thread-safe).
    """

    def __init__(self, target: Any, *, max_concurrency: int, variant: str | None = None) -> None:
        super().__init__(max_concurrency, str(getattr(target, "backend", "custom")), variant)
        self.target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.__dict__["target"], name)
        if not callable(value) or isinstance(value, type):
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            with self.slot():
                return value(*args, **kwargs)

        guarded.__name__ = getattr(value, "__name__", name)
        guarded.__doc__ = getattr(value, "__doc__", None)
        return guarded

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped object inside a concurrency slot."""
        with self.slot():
            return self.target(*args, **kwargs)


class TaskModel(CustomModel):
    """A task engine (classification, question answering, images, seq2seq) behind the concurrency guard.

    Calling it, or any of its methods, takes a slot; it answers like the transformers pipeline of its task.
    """

    def __init__(self, engine: Any, *, task: str, max_concurrency: int, backend: str, variant: str | None) -> None:
        super().__init__(engine, max_concurrency=max_concurrency, variant=variant)
        self.backend = backend
        self.task = task
