"""The inference tier on Ray Serve: one deployment per heavy demo, one multiplexed deployment for the light ones.

Why this split: a heavy model (Whisper, OCR) holds a core for a second or more per call, so it gets replicas of its
own that autoscale on its queue and never make a light call wait; light encoders answer in milliseconds and are
small, so one pool of replicas serves all of them (`@serve.multiplexed` keeps the most used ones loaded per
replica) instead of a cluster starting a replica for each. Replicas run the demos' own code through
`gallery.engine.envelope`, the local engine's failure boundary, and return plain data, so results and errors are
the local engine's. Each replica sizes its model budget from the memory Ray reserved for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from gallery.context import DemoContext
from gallery.discovery import discover
from gallery.engine import envelope
from gallery.loader import DemoCode, import_demo
from gallery.runtime.registry import ModelRegistry

logger = logging.getLogger(__name__)

GIB = 1 << 30


@dataclass
class LoadedDemo:
    """One demo's code and context inside a replica."""

    demo_id: str
    code: DemoCode
    context: DemoContext

    def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run predict and return its envelope."""
        return envelope(self.demo_id, self.code, self.context, inputs)


class DemoHost:
    """The demos one replica serves, on one model registry whose budget is the replica's memory."""

    def __init__(self, demos_dir: str, cache_dir: str, memory_bytes: int) -> None:
        self.demos_dir = Path(demos_dir)
        self.cache_dir = Path(cache_dir)
        # 80 %: the replica's own Python, Ray's worker and the demos' buffers need the rest.
        self.registry = ModelRegistry(self.cache_dir, memory_budget_bytes=int(memory_bytes * 0.8))

    def load(self, demo_id: str) -> LoadedDemo:
        """Import one demo's code (its models load on first use); raise LookupError if it cannot run here."""
        entry = discover(self.demos_dir, [demo_id]).get(demo_id)
        if entry is None or entry.manifest is None or not entry.available:
            reason = entry.error if entry is not None else "not found"
            raise LookupError(f"demo {demo_id} cannot run on this replica: {reason}")
        code = import_demo(entry)
        logger.info("demo %s: loaded on Ray replica (pid %d)", demo_id, os.getpid())
        return LoadedDemo(demo_id, code, DemoContext(entry.manifest, entry.path, self.registry, self.cache_dir))


def _unavailable(demo_id: str, exc: Exception) -> dict[str, Any]:
    return {"error": {"kind": "model", "message": f"{exc}"}}


@serve.deployment
class HeavyDemo:
    """Replicas of one heavy demo."""

    def __init__(self, demo_id: str, demos_dir: str, cache_dir: str, memory_bytes: int) -> None:
        self.demo_id = demo_id
        self.host = DemoHost(demos_dir, cache_dir, memory_bytes)
        self.demo: LoadedDemo | None = None
        self.error: Exception | None = None
        try:
            self.demo = self.host.load(demo_id)
        # A demo that cannot be imported answers every call with its reason instead of failing the replica
        # (Serve would restart it in a loop): the same per-demo boundary as the local engine's.
        except Exception as exc:  # noqa: BLE001
            logger.error("demo %s: cannot be served on Ray: %s", demo_id, exc)
            self.error = exc

    async def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the demo on validated inputs; return the outcome envelope."""
        if self.demo is None:
            return _unavailable(self.demo_id, self.error or RuntimeError("not loaded"))
        # predict is blocking (ONNX Runtime, numpy): off the replica's event loop, so health checks still answer.
        return await asyncio.to_thread(self.demo.run, inputs)


@serve.deployment
class LightDemos:
    """A pool of replicas, each keeping the most used light demos loaded (multiplexed by demo id)."""

    def __init__(self, demos_dir: str, cache_dir: str, memory_bytes: int) -> None:
        self.host = DemoHost(demos_dir, cache_dir, memory_bytes)

    @serve.multiplexed(max_num_models_per_replica=8)
    async def demo(self, demo_id: str) -> LoadedDemo:
        """Load a demo into this replica (Serve evicts the least recently used past 8)."""
        return await asyncio.to_thread(self.host.load, demo_id)

    async def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run the demo named by the request's multiplexed model id; return the outcome envelope."""
        demo_id = serve.get_multiplexed_model_id()
        try:
            demo = await self.demo(demo_id)
        # As in HeavyDemo: one demo that cannot load must not take the shared replicas down.
        except Exception as exc:  # noqa: BLE001
            logger.error("demo %s: cannot be served on Ray: %s", demo_id, exc)
            return _unavailable(demo_id, exc)
        return await asyncio.to_thread(demo.run, inputs)


@serve.deployment
class DemoRouter:
    """The application's ingress: sends each call to its demo's deployment (Python handles and HTTP)."""

    def __init__(self, heavy: dict[str, DeploymentHandle], light: DeploymentHandle | None, demos_dir: str) -> None:
        self.heavy = heavy
        self.light = light
        self.demos_dir = Path(demos_dir)

    async def run(self, demo_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run one demo on validated inputs; return the outcome envelope."""
        if demo_id in self.heavy:
            return await self.heavy[demo_id].remote(inputs)
        if self.light is None:
            return {"error": {"kind": "model", "message": f"demo {demo_id} is not deployed in this application"}}
        return await self.light.options(multiplexed_model_id=demo_id).remote(inputs)

    async def __call__(self, request: Any) -> Any:
        """Serve `POST /<sector>/<slug>` with the JSON API's body (for a cluster without the gallery's UI)."""
        from starlette.responses import JSONResponse

        from gallery.errors import BadRequest, GalleryError, InputError, answer, from_envelope
        from gallery.inputs import coerce_inputs
        from gallery.limits import LIMITS

        parts = [part for part in request.url.path.split("/") if part]
        demo_id = "/".join(parts[-2:])  # the last two segments, whatever route prefix the operator chose
        entry = discover(self.demos_dir, [demo_id]).get(demo_id) if len(parts) >= 2 else None
        if request.method != "POST" or entry is None or entry.manifest is None:
            return JSONResponse({"detail": f"POST a demo's inputs as JSON to /<sector>/<slug>; no demo {demo_id}"},
                                status_code=404)
        try:
            try:
                raw = await request.json()
            except ValueError as exc:
                raise BadRequest(f"body is not valid JSON: {exc}") from None
            if not isinstance(raw, dict):
                raise InputError("the body must be a JSON object of inputs")
            inputs = coerce_inputs(entry.manifest, raw, LIMITS)
            outcome = await self.run(demo_id, inputs)
            if "ok" in outcome:
                return JSONResponse(outcome["ok"])
            raise from_envelope(outcome["error"])
        except GalleryError as exc:  # the same status, reason and headers as the gallery's own JSON API
            reply = answer(exc, demo_id)
            return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def heavy_name(demo_id: str) -> str:
    """Return the deployment name of a heavy demo (Serve names allow no '/')."""
    return "demo-" + demo_id.replace("/", "--")
