"""Standalone demo pages (`/demo/<sector>/<slug>/`), each a Gradio app built on its first request.

A mounted Gradio app registers about 80 FastAPI routes; building one per demo at start-up made start-up grow
by about 0.2 s per demo (docs/BENCHMARKS.md). Pages are built when someone first opens them instead, so
start-up costs the same however many demos the gallery has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Callable

import gradio as gr
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gallery.discovery import DemoEntry
from gallery.service import GalleryService
from gallery.ui.layout import build_single

logger = logging.getLogger(__name__)


class StandalonePages:
    """An ASGI app mounted at `/demo` that builds and mounts one demo's page the first time it is asked for."""

    def __init__(self, service: GalleryService, mount_options: dict[str, Any]) -> None:
        self.service = service
        self.mount_options = mount_options
        self.pages: dict[str, FastAPI] = {}
        self._lock = asyncio.Lock()
        self._lifespans = contextlib.AsyncExitStack()

    def _entry(self, scope: Scope) -> DemoEntry | None:
        # Starlette keeps the full path in a mounted app's scope and the mount prefix in root_path.
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        relative = path[len(root):] if root and path.startswith(root) else path
        pieces = [p for p in relative.split("/") if p]
        if len(pieces) < 2:
            return None
        return self.service.index.get(f"{pieces[0]}/{pieces[1]}")

    async def _page(self, entry: DemoEntry) -> FastAPI:
        async with self._lock:
            if entry.id not in self.pages:
                host = FastAPI()
                blocks, i18n = build_single(self.service, entry)
                gr.mount_gradio_app(host, blocks, path=f"/{entry.id}", i18n=i18n, **self.mount_options)
                # The app is already serving: run the Gradio startup (queue workers) that a lifespan would.
                await self._lifespans.enter_async_context(host.router.lifespan_context(host))
                self.pages[entry.id] = host
                logger.info("demo %s: standalone page built on first request", entry.id)
        return self.pages[entry.id]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a standalone page, building it first if needed; 404 for anything that is not a demo."""
        if scope["type"] == "lifespan":
            return
        entry = self._entry(scope)
        if entry is None:
            if scope["type"] == "http":
                await JSONResponse({"detail": "no such demo page"}, status_code=404)(scope, receive, send)
            return
        page = await self._page(entry)
        await page(scope, receive, send)

    async def close(self) -> None:
        """Stop the Gradio apps that were built."""
        await self._lifespans.aclose()


def add_standalone_pages(app: FastAPI, service: GalleryService, mount_options: dict[str, Any]) -> StandalonePages:
    """Mount the lazily built standalone pages at `/demo` and stop them when the app shuts down."""
    pages = StandalonePages(service, mount_options)
    app.mount("/demo", pages)
    previous: Callable[[FastAPI], Any] = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        async with previous(parent) as state:
            try:
                yield state
            finally:
                await pages.close()

    app.router.lifespan_context = lifespan  # type: ignore[assignment]
    return pages
