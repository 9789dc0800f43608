"""Where a demo's `predict` runs: in this process (`local`), or on Ray Serve replicas (`ray`, gallery/rayserve/).

The service validates inputs and admits the call; the engine runs it. Both engines go through `run_predict`, the
per-demo failure boundary, so a result or an error looks the same whichever engine ran it. Across processes an
outcome travels as an envelope (`{"ok": result}` or `{"error": {...}}`) that `unwrap` turns back into the same
result or exception, because exception classes do not always survive a trip through another process intact.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from gallery.admission import demo_concurrency
from gallery.errors import DemoFailure, GalleryError, from_envelope
from gallery.logconfig import log_failure

if TYPE_CHECKING:
    from gallery.context import DemoContext
    from gallery.loader import DemoCode
    from gallery.manifest import Manifest

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")


class Engine(Protocol):
    """Run a demo's predict on validated inputs; describe the engine for /readyz."""

    name: str

    def predict(self, demo_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return the demo's JSON-safe result, or raise InputError, ModelUnavailableError, DemoFailure or Busy."""
        ...

    def concurrency(self, manifest: Manifest | None) -> int:
        """Return how many calls of a demo may run at once (the admission queue's width)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Return what /readyz shows about the engine; `missing` lists what keeps it from being ready."""
        ...

    def close(self) -> None:
        """Release what the engine holds (Ray: the Serve application)."""
        ...


def json_safe(value: Any) -> Any:
    """Return value with NaN/inf floats replaced by None so every result is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    return value


def run_predict(demo_id: str, code: DemoCode, context: DemoContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run one demo's predict inside its failure boundary and return its JSON-safe result."""
    started = time.perf_counter()
    try:
        result = code.predict(context, **inputs)
    except GalleryError:  # a refusal the demo meant (InputError) or a model it cannot have: said as it is
        raise
    # A demo's own bug must not take down the worker; the user gets a plain reason, the log the trace.
    except Exception as exc:  # noqa: BLE001
        log_failure(logger, demo_id, "predict failed", exc)
        raise DemoFailure(f"the demo failed on this input ({type(exc).__name__})") from exc
    if not isinstance(result, dict):
        logger.error("demo %s: predict returned %s, not a dict", demo_id, type(result).__name__)
        raise DemoFailure("the demo returned an invalid result")
    logger.info("demo %s: predict took %.1f ms", demo_id, (time.perf_counter() - started) * 1000)
    return json_safe(result)


def run_stream(demo_id: str, code: DemoCode, context: DemoContext, inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a demo's growing results from its `stream` (else predict's one result) inside its failure boundary."""
    if code.stream is None:
        yield run_predict(demo_id, code, context, inputs)
        return
    started = time.perf_counter()
    count = 0
    try:
        for result in code.stream(context, **inputs):
            if not isinstance(result, dict):
                logger.error("demo %s: stream yielded %s, not a dict", demo_id, type(result).__name__)
                raise DemoFailure("the demo returned an invalid result")
            count += 1
            yield json_safe(result)
    except GalleryError:
        raise
    except Exception as exc:  # noqa: BLE001  (the same boundary as run_predict)
        log_failure(logger, demo_id, "stream failed", exc)
        raise DemoFailure(f"the demo failed on this input ({type(exc).__name__})") from exc
    if not count:
        raise DemoFailure("the demo returned no result")
    logger.info("demo %s: stream took %.1f ms (%d updates)", demo_id, (time.perf_counter() - started) * 1000, count)


def envelope(demo_id: str, code: DemoCode, context: DemoContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run predict and return its outcome as plain data: {"ok": result} or {"error": {kind, message, field}}."""
    try:
        return {"ok": run_predict(demo_id, code, context, inputs)}
    except GalleryError as exc:
        return {"error": exc.to_envelope()}


def unwrap(outcome: dict[str, Any]) -> dict[str, Any]:
    """Return the result of an envelope, or raise the exception it carries."""
    if "ok" in outcome:
        return dict(outcome["ok"])
    raise from_envelope(outcome.get("error") or {})


class LocalEngine:
    """Run predict in this process, on the service's own demo code and contexts."""

    name = "local"

    def __init__(self, code: dict[str, DemoCode], contexts: dict[str, DemoContext]) -> None:
        self.code = code
        self.contexts = contexts

    def predict(self, demo_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the demo here."""
        return run_predict(demo_id, self.code[demo_id], self.contexts[demo_id], inputs)

    def stream(self, demo_id: str, inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Run the demo here, yielding each growing result of a streaming demo."""
        return run_stream(demo_id, self.code[demo_id], self.contexts[demo_id], inputs)

    def concurrency(self, manifest: Manifest | None) -> int:
        """Return the largest `max_concurrency` of the demo's models."""
        return demo_concurrency(manifest)

    def describe(self) -> dict[str, Any]:
        """Return the engine's name (the models are listed by /readyz itself)."""
        return {"engine": self.name}

    def close(self) -> None:
        """Nothing to release: the models belong to the service's registry."""
