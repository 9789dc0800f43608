"""Operations endpoints (`/healthz`, `/readyz`, `/metrics`) and the JSON API's answer to a busy demo.

The endpoints are answered by a small ASGI middleware before routing, so the rate limit never counts them and
Gradio never sees them. Probes from Kubernetes or Docker cannot send credentials, so `/healthz` and `/readyz`
sit outside `--auth`/`--api-token` (they tell nothing beyond demo ids and model states); `/metrics` sits behind
them unless `--metrics-public`.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from gallery.metrics import GalleryMetrics

if TYPE_CHECKING:
    from gallery.server import ServeConfig
    from gallery.service import GalleryService

logger = logging.getLogger(__name__)


HEALTH, READY, METRICS = "/healthz", "/readyz", "/metrics"
PATHS = (HEALTH, READY, METRICS)


class Operations:
    """What the operations endpoints report: liveness, readiness (demos, models, preload, stopping), metrics."""

    def __init__(self, service: GalleryService, preload: bool = False, metrics: bool = True,
                 metrics_public: bool = False, auth: bool = False) -> None:
        self.service = service
        self.preload_wanted = preload
        self.preload: threading.Thread | None = None  # the preload thread, once `serve` has started it
        self.stopping = False  # set on SIGTERM: readiness turns 503 so load balancers stop sending traffic
        self.metrics = GalleryMetrics(service) if metrics else None
        service.metrics = self.metrics
        # Which paths are served in front of --auth (open) and which behind it.
        self.open_paths = {HEALTH, READY}
        self.protected_paths: set[str] = set()
        if self.metrics is not None:
            (self.open_paths if metrics_public or not auth else self.protected_paths).add(METRICS)

    def health(self) -> tuple[int, dict[str, Any]]:
        """Return 200 while the process serves."""
        return 200, {"status": "ok"}

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """Return 200 with demos and model states when the gallery can take traffic, else 503 with what is missing."""
        service = self.service
        engine = dict(service.engine.describe())
        missing: list[str] = list(engine.pop("missing", []))
        models: dict[str, str] = {}
        for entry in service.index.available:
            # On another engine the models load in its replicas, not here: its own report stands for them.
            if entry.id not in service.code or entry.manifest is None or service.engine.name != "local":
                continue
            for name, spec in entry.manifest.models.items():
                models[f"{entry.id}/{name}"] = service.registry.status(entry.id, name, spec, entry.path).state
        body: dict[str, Any] = {**engine, "demos": len(service.code), "models": models}
        if self.stopping:
            missing.append("the server is stopping")
        if self.preload_wanted and (self.preload is None or self.preload.is_alive()):
            # A model that failed to preload stays listed as unavailable but does not hold readiness back:
            # it would never become ready, and every other demo serves.
            missing += [f"model {key} is {state}" for key, state in models.items()
                        if state in ("not-loaded", "loading")] or ["the preload has not finished"]
        failed = [key for key, state in models.items() if state == "unavailable"]
        if failed:
            body["unavailable"] = failed
        if missing:
            body["missing"] = missing
            return 503, body
        return 200, body

    def paths(self, public: bool) -> set[str]:
        """Return the paths served in front of the auth middleware (`public`) or behind it."""
        return self.open_paths if public else self.protected_paths


class OperationsMiddleware:
    """Answer the operations paths it owns (GET, HEAD); pass everything else on."""

    def __init__(self, app: ASGIApp, operations: Operations, public: bool) -> None:
        self.app = app
        self.operations = operations
        self.owned = operations.paths(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # uvicorn puts --root-path in front of the path; a proxy may not
            path = path[len(root):]
        if path not in self.owned:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _send(send, scope, 405, _json({"detail": "use GET"}), "application/json", [(b"allow", b"GET, HEAD")])
            return
        ops = self.operations
        if path == METRICS:
            assert ops.metrics is not None
            body, content_type = ops.metrics.exposition()
            await _send(send, scope, 200, body, content_type)
            return
        status, content = ops.health() if path == HEALTH else ops.readiness()
        await _send(send, scope, status, _json(content), "application/json",
                    [(b"cache-control", b"no-store")])


def _json(content: dict[str, Any]) -> bytes:
    """Return content as UTF-8 JSON."""
    return json.dumps(content, ensure_ascii=False).encode("utf-8")


async def _send(send: Send, scope: Scope, status: int, body: bytes, content_type: str,
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send one whole response (no body for HEAD)."""
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def install_operations(app: FastAPI, service: GalleryService, config: ServeConfig) -> Operations:
    """Size the demos' queues from the options and set up metrics; return the Operations.

    The caller adds `OperationsMiddleware` twice, around the auth middleware: `public=False` inside it,
    `public=True` outside it.
    """
    from gallery.admission import Admission

    service.admission = Admission(config.max_queue, config.max_wait)
    return Operations(service, preload=config.preload, metrics=config.metrics, metrics_public=config.metrics_public,
                      auth=bool(config.auth or config.api_token))
