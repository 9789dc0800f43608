"""Graceful stop: on SIGTERM (or Ctrl-C) stop accepting, let running requests finish up to a deadline, close the
feedback database and exit with status 0.

uvicorn does most of it (`timeout_graceful_shutdown`); this module adds what the gallery needs around it:
readiness turns 503 at once, Gradio's idle heartbeat streams (one per open browser tab) are ended so they do
not hold the stop until the deadline, and the signal is not raised again after the stop (uvicorn would, which
makes the exit status 143 instead of 0).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gallery.operations import Operations
    from gallery.server import ServeConfig
    from gallery.service import GalleryService

logger = logging.getLogger(__name__)

STARTUP_FAILURE = 3  # uvicorn's exit status when the server could not start (e.g. the port is taken)


def gradio_apps(app: Any, depth: int = 0) -> Iterable[Any]:
    """Yield the Gradio apps mounted in `app`: the gallery page and every standalone page built so far."""
    if depth > 4:
        return
    for route in getattr(app, "routes", []):
        mounted = getattr(route, "app", None)
        if mounted is None:
            continue
        if hasattr(mounted, "stop_event") and hasattr(mounted, "get_blocks"):
            yield mounted
        for page in getattr(mounted, "pages", {}).values():  # gallery.ui.standalone.StandalonePages
            yield from gradio_apps(page, depth + 1)
        yield from gradio_apps(mounted, depth + 1)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, telling the gallery when the stop begins and exiting 0 after a handled signal."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, operations: Operations | None = None) -> None:
        super().__init__(config)
        self.app = app
        self.operations = operations

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Mark the gallery as stopping and end idle streams, then stop as uvicorn does."""
        if self.operations is not None:
            self.operations.stopping = True
            running = self.operations.service.admission.in_flight()
            logger.info("stopping: %d request(s) running or queued get up to %g s to finish",
                        running, self.config.timeout_graceful_shutdown or 0)
        for page in gradio_apps(self.app):
            page.stop_event.set()  # ends the page's heartbeat streams; running events still finish
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Handle SIGINT/SIGTERM as uvicorn does, without raising the signal again once the stop is done."""
        with super().capture_signals():
            yield
            # uvicorn re-raises the captured signals when this context exits, which kills the process with
            # them (status 143 for SIGTERM); the stop was graceful, so the process exits normally instead.
            self._captured_signals.clear()


def run_server(app: FastAPI, service: GalleryService, config: ServeConfig) -> None:
    """Serve `app` until SIGTERM or Ctrl-C, stop gracefully, close the feedback database."""
    operations: Operations | None = getattr(app.state, "operations", None)
    uv_config = uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                               root_path=config.root_path, timeout_graceful_shutdown=config.shutdown_timeout)
    server = GracefulServer(uv_config, app, operations)
    try:
        server.run()
    except KeyboardInterrupt:  # a second Ctrl-C during the stop
        pass
    finally:
        if service.feedback is not None:
            service.feedback.close()
            logger.info("feedback database closed")
        service.engine.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
    left = service.admission.in_flight()
    if left:
        # Worker threads cannot be cancelled; the interpreter would wait for them at exit, past the deadline.
        logger.warning("stopped with %d request(s) still running after the %g s deadline; they are abandoned",
                       left, config.shutdown_timeout)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    logger.info("stopped")
