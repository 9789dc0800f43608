"""The front ends `create_app` mounts, in order: each is one function over the same service.

A new front end is one function here (or in its own module, imported lazily inside its function) and one line in
FRONT_ENDS. Each reaches demos only through the GalleryService and answers errors through gallery.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

if TYPE_CHECKING:
    from gallery.ratelimit import RateLimiter
    from gallery.server import ServeConfig
    from gallery.service import GalleryService


@dataclass
class Mounting:
    """What every front end is mounted with: the app, the service, the options and what they share."""

    app: FastAPI
    service: GalleryService
    config: ServeConfig
    limiter: RateLimiter | None  # one set of per-client buckets for the JSON API and MCP tool calls
    gradio_options: dict[str, Any] = field(default_factory=dict)  # what every Gradio page is mounted with

    def guard(self) -> Any:
        """Return the rate-limit check the HTTP routes run first (None when there is no limit)."""
        from gallery.ratelimit import rate_limit_guard

        return rate_limit_guard(self.limiter) if self.limiter else None


def mount_json_api(m: Mounting) -> None:
    """Mount the JSON API under /api (the demos, their OpenAPI schemas, the error answers)."""
    from gallery.api import build_api, install_error_answers

    install_error_answers(m.app)
    m.app.include_router(build_api(m.service, m.guard()))


def mount_feedback_api(m: Mounting) -> None:
    """Mount POST /api/feedback/<sector>/<slug>."""
    from gallery.feedback.api import build_feedback_api

    assert m.service.feedback is not None
    m.app.include_router(build_feedback_api(m.service, m.service.feedback, m.guard()))


def mount_mcp_server(m: Mounting) -> None:
    """Mount the MCP server for AI agents at /mcp and /mcp/<sector> (unless --no-mcp)."""
    if not m.config.mcp:
        return
    from gallery.mcp_server import mount_mcp  # imports the MCP SDK only when it is served

    mount_mcp(m.app, m.service, m.limiter)


def mount_standalone_pages(m: Mounting) -> None:
    """Mount /demo/<sector>/<slug>/: one demo's page alone, built on first visit (unless --no-standalone-pages)."""
    if not m.config.standalone_pages:
        return
    from gallery.ui.standalone import add_standalone_pages

    add_standalone_pages(m.app, m.service, m.gradio_options)


def mount_gallery_page(m: Mounting) -> None:
    """Mount the gallery itself (Home and every demo's tab) at "/"."""
    import gradio as gr

    from gallery.ui.layout import build_gallery

    blocks, i18n = build_gallery(m.service)
    gr.mount_gradio_app(m.app, blocks, path="/", i18n=i18n, **m.gradio_options)


FrontEnd = Callable[[Mounting], None]

# In mounting order: a mount at "/" catches every path below it, so the gallery page comes last. The Ray engine
# is not here: it sits behind the service (`--engine ray`), so every front end reaches Ray the same way.
FRONT_ENDS: tuple[FrontEnd, ...] = (
    mount_json_api,
    mount_feedback_api,
    mount_mcp_server,
    mount_standalone_pages,
    mount_gallery_page,
)
