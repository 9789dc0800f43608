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
MOUNT = "/demo"  # where the standalone pages live, below the gallery's root path


class StandalonePages:
    """An ASGI app mounted at `/demo` that builds and mounts one demo's page the first time it is asked for."""

    def __init__(self, service: GalleryService, mount_options: dict[str, Any]) -> None:
        self.service = service
        self.mount_options = mount_options
        self.pages: dict[str, FastAPI] = {}
        self._lock = asyncio.Lock()
        self._lifespans = contextlib.AsyncExitStack()

    @staticmethod
    def _relative(scope: Scope) -> tuple[str, Scope]:
        """Return the path below `/demo` and a scope whose path starts with its root_path, as Starlette routes it.

        Starlette keeps the full path in a mounted app's scope and the mount prefix in root_path. Behind a proxy
        that strips `--root-path` (say /gallery), the path is `/demo/...` while root_path is `/gallery/demo`:
        the page's own routes would not match, so the scope is given the path the root_path implies.
        """
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            return path[len(root):], scope
        relative = path[len(MOUNT):] if path.startswith(MOUNT + "/") else path
        if not root:
            return relative, scope
        return relative, {**scope, "path": root + relative, "raw_path": (root + relative).encode("utf-8")}

    def _entry(self, relative: str) -> DemoEntry | None:
        pieces = [p for p in relative.split("/") if p]
        if len(pieces) < 2:
            return None
        return self.service.index.get(f"{pieces[0]}/{pieces[1]}")

    async def _page(self, entry: DemoEntry) -> FastAPI:
        async with self._lock:
            if entry.id not in self.pages:
                host = FastAPI()
                blocks, i18n = build_single(self.service, entry)
                options = dict(self.mount_options)
                if options.get("root_path"):
                    # Gradio puts its app's root_path in the scope: behind a proxy it must be the page's own.
                    options["root_path"] = f"{options['root_path']}{MOUNT}/{entry.id}"
                gr.mount_gradio_app(host, blocks, path=f"/{entry.id}", i18n=i18n, **options)
                # The app is already serving: run the Gradio startup (queue workers) that a lifespan would.
                await self._lifespans.enter_async_context(host.router.lifespan_context(host))
                self.pages[entry.id] = host
                logger.info("demo %s: standalone page built on first request", entry.id)
        return self.pages[entry.id]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a standalone page, building it first if needed; 404 for anything that is not a demo."""
        if scope["type"] == "lifespan":
            return
        relative, scope = self._relative(scope)
        entry = self._entry(relative)
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
    app.mount(MOUNT, pages)
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
