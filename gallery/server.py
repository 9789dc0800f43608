"""Assemble the FastAPI app (JSON API, MCP, per-demo pages, the gallery) and serve it with uvicorn."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from gallery import __version__
from gallery.auth import BasicAuthMiddleware, api_token_from_env, parse_auth
from gallery.discovery import DEFAULT_DEMOS_DIR
from gallery.feedback.database import resolve_url
from gallery.feedback.store import FeedbackStore, FeedbackStoreError, default_data_dir
from gallery.iotypes import FILE_TYPES
from gallery.logconfig import install_access_log_filter, log_inputs_enabled, set_log_inputs
from gallery.operations import OperationsMiddleware, install_operations
from gallery.frontends import FRONT_ENDS, Mounting
from gallery.ratelimit import Rate, RateLimiter, rate_from_env
from gallery.runtime.doctor import default_cache_dir
from gallery.security import SecurityHeadersMiddleware, embed_origins_from_env
from gallery.service import GalleryService
from gallery.snippets import Endpoints
from gallery.ui.bootstrap import LanguageBootstrapMiddleware
from gallery.ui.layout import APP_CSS, HEAD_JS

logger = logging.getLogger(__name__)
__all__ = ["ServeConfig", "create_app", "default_cache_dir", "default_data_dir", "parse_auth", "serve"]


@dataclass
class ServeConfig:
    """Everything `gallery run` can be told."""

    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = ""
    share: bool = False
    share_server: str | None = None
    select: list[str] = field(default_factory=list)
    auth: tuple[str, str] | None = None
    demos_dir: Path = DEFAULT_DEMOS_DIR
    cache_dir: Path = field(default_factory=default_cache_dir)
    memory_budget: int | None = None
    preload: bool = False
    standalone_pages: bool = True
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None  # feedback database; None: $OPENMODELS_DATABASE_URL, else SQLite in data_dir
    rate_limit: Rate | None = field(default_factory=rate_from_env)  # per client, JSON API and MCP calls; None: off
    log_inputs: bool = field(default_factory=log_inputs_enabled)
    embed_origins: tuple[str, ...] = field(default_factory=embed_origins_from_env)  # may frame /demo/ pages
    mcp: bool = True  # serve the MCP endpoints (/mcp, /mcp/<sector>)
    api_token: str | None = field(default_factory=api_token_from_env)  # accepted as Authorization: Bearer
    metrics: bool = True  # serve /metrics (Prometheus text format)
    metrics_public: bool = False  # /metrics without --auth/--api-token (/healthz and /readyz always are)
    max_queue: int | None = None  # requests that may wait per demo; None: 4 x its concurrency, at least 8
    max_wait: float = 60.0  # refuse a request whose expected wait is longer (seconds)
    shutdown_timeout: float = 30.0  # on SIGTERM, how long running requests get to finish (seconds)
    engine: str = "local"  # where demos run: "local" (this process) or "ray" (Ray Serve replicas)
    ray_address: str | None = None  # join this Ray cluster (--engine ray); None: start a local Ray

    def base_url(self) -> str:
        """Return the gallery's URL as seen from this machine (pages correct it from the browser's address)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{self.root_path}"


def example_files(service: GalleryService) -> list[str]:
    """Return the example files the UI may serve (and nothing else from the demo folders)."""
    files = []
    for entry in service.index.entries:
        for example in entry.manifest.examples if entry.manifest else []:
            for spec in entry.manifest.inputs:  # type: ignore[union-attr]
                value = example.get(spec.name)
                if spec.type in FILE_TYPES and isinstance(value, str):
                    path = (entry.path / value).resolve()
                    if path.is_file() and path.is_relative_to(entry.path.resolve()):
                        files.append(str(path))
    return files


def create_app(config: ServeConfig) -> tuple[FastAPI, GalleryService]:
    """Build the whole web app: open the service, then mount every front end (gallery.frontends) around it."""
    service = GalleryService.open(config.demos_dir, config.cache_dir, config.select, memory_budget=config.memory_budget)
    if config.engine == "ray":
        from gallery.rayserve.engine import RayEngine  # Ray is an optional extra: imported only when asked for

        service.engine = RayEngine(service.index, config.cache_dir, config.ray_address).start()
    # Opened on first use (serve opens it early); --database-url, else $OPENMODELS_DATABASE_URL, else data_dir.
    service.feedback = FeedbackStore(resolve_url(config.database_url, config.data_dir))
    # What the "Use via API" snippets say; the page swaps in the address the browser really used.
    service.endpoints = Endpoints(config.base_url(), mcp=config.mcp,
                                  auth="bearer" if config.api_token else "basic" if config.auth else None)
    app = FastAPI(title="OpenModels Gallery API", version=__version__, openapi_url="/api/openapi.json",
                  docs_url="/api/docs", redoc_url=None)  # the root path is uvicorn's (serve), as FastAPI asks
    # Per-demo admission (--max-queue, --max-wait), metrics, /healthz /readyz /metrics: gallery/operations.py.
    operations = install_operations(app, service, config)
    # --auth is one middleware around everything (below); the API guard is the per-client rate limit, and MCP
    # tool calls draw on the same buckets.
    mounting = Mounting(app, service, config, RateLimiter(config.rate_limit) if config.rate_limit else None,
                        dict(css=APP_CSS, head=HEAD_JS, root_path=config.root_path or None,
                             allowed_paths=example_files(service), footer_links=["api", "settings"], ssr_mode=False))
    for mount in FRONT_ENDS:
        mount(mounting)
    app.add_middleware(LanguageBootstrapMiddleware)
    app.add_middleware(OperationsMiddleware, operations=operations, public=False)  # /metrics behind --auth
    if config.auth or config.api_token:
        app.add_middleware(BasicAuthMiddleware, credentials=config.auth, token=config.api_token)
    app.add_middleware(OperationsMiddleware, operations=operations, public=True)  # probes need no credentials
    # Added last, so outermost: its headers reach every response, the 401s of --auth included.
    app.add_middleware(SecurityHeadersMiddleware, embed_origins=config.embed_origins, root_path=config.root_path)
    app.state.service = service
    app.state.operations = operations
    return app, service


def start_share_tunnel(host: str, port: int, server: str | None) -> str | None:
    """Open a Gradio share tunnel to the running server; return its URL or None, saying why in one line."""
    from gradio import networking

    try:
        url = networking.setup_tunnel(local_host=host, local_port=port, share_token=secrets.token_urlsafe(32),
                                      share_server_address=server, share_server_tls_certificate=None)
    # The tunnel has many failure modes (DNS, firewall, missing frpc binary); any of them means "local only".
    except Exception as exc:  # noqa: BLE001
        target = server or "gradio.live"
        print(f"* Share link unavailable: could not reach the share server {target} "
              f"({type(exc).__name__}); still serving locally.", flush=True)
        return None
    if server and url.startswith("https://"):
        url = "http://" + url.removeprefix("https://")
    print(f"* Public share link: {url}", flush=True)
    return url


def serve(config: ServeConfig) -> None:
    """Serve the gallery until interrupted."""
    from gallery.shutdown import run_server

    set_log_inputs(config.log_inputs)
    install_access_log_filter()
    app, service = create_app(config)
    assert service.feedback is not None
    try:
        service.feedback.open()  # create or migrate the database now, so a problem shows at start-up
        feedback_state = service.feedback.shown_url
    except FeedbackStoreError as exc:
        # Demos do not need the database: serve them, answer feedback with 503, and retry at each submission.
        logger.error("feedback: %s", exc)
        feedback_state = f"UNAVAILABLE ({exc}); demos are served, feedback answers 503 until it is back"
    shown = "localhost" if config.host in ("0.0.0.0", "127.0.0.1") else config.host
    print(f"* OpenModels Gallery: {len(service.index.available)} demos, "
          f"{len(service.index.unavailable)} unavailable", flush=True)
    for entry in service.index.unavailable:
        print(f"  - unavailable: {entry.id} ({entry.stage}): {entry.error or entry.manifest and entry.manifest.disabled}")
    print(f"* Feedback database: {feedback_state}", flush=True)
    print(f"* Running on http://{shown}:{config.port}{config.root_path}/", flush=True)
    if config.mcp:
        print(f"* MCP (streamable HTTP) for AI agents: http://{shown}:{config.port}{config.root_path}/mcp", flush=True)
    if config.share:
        threading.Thread(target=start_share_tunnel, args=(config.host, config.port, config.share_server),
                         daemon=True, name="share-tunnel").start()
    if config.preload:
        items = [(e.id, n, s, e.path) for e in service.index.available for n, s in e.manifest.models.items()]  # type: ignore[union-attr]
        app.state.operations.preload = service.registry.preload(items)  # /readyz is 503 until it ends
    run_server(app, service, config)  # uvicorn, with a graceful stop on SIGTERM (gallery/shutdown.py)
