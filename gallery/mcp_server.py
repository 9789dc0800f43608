"""MCP front end: every available demo as a tool for AI agents, over streamable HTTP (`/mcp`) and stdio.

Built on the official MCP Python SDK's low-level `Server`, because the tools are data (one per demo, their
schemas from the manifests), not Python functions. Each tool call goes through `GalleryService.run`, the same
path as the JSON API and the UI, so inputs, limits, results and refusals are the same everywhere:
`structuredContent` is the dict the JSON API returns, and a bad input's tool error carries the JSON API's 422
reason. Over HTTP, files come only as base64 data URLs (a path or any URL is refused: the server never reads
its own files or fetches anything for a caller); over stdio, the local user may also give a file path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.lowlevel.server import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gallery import __version__
from gallery.describe import request_schema, result_description, result_schema
from gallery.discovery import DemoEntry
from gallery.errors import GalleryError, InputError, answer
from gallery.iotypes import FILE_TYPES
from gallery.iotypes.files import file_bytes
from gallery.limits import Limits
from gallery.logconfig import log_failure
from gallery.manifest import SECTORS, Manifest
from gallery.metrics import counted
from gallery.ratelimit import RateLimiter, client_key, refusal
from gallery.service import GalleryService

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
SERVER_NAME = "openmodels-gallery"
CARD_URI = "openmodels://demos/{demo_id}/card"
_CARD_URI = re.compile(r"^openmodels://demos/(?P<id>[a-z]+/[a-z0-9-]+)/card$")
JSON_TEXT_LIMIT = 20_000  # a result's JSON is repeated as text (for clients that ignore structuredContent) up to this
PATH_CHARS = 4096  # longer strings are never taken for a local path (stdio)
INSTRUCTIONS = (
    "OpenModels Gallery: each tool runs one demo on an open model, on the gallery's own machine. Tools take "
    "the demo's inputs by name (images and audio as base64 data URLs) and return its JSON result. Results are "
    "demonstrations: never medical, financial or legal advice. Each demo's model card is a resource."
)

Context = ServerRequestContext[Any, Any]


def card_uri(demo_id: str) -> str:
    """Return the resource URI of a demo's model card."""
    return CARD_URI.format(demo_id=demo_id)


def describe_tool(entry: DemoEntry) -> str:
    """Return a tool's description: the English summary, the disclaimer where there is one, and the output."""
    manifest = entry.manifest
    assert manifest is not None
    parts = [f"{manifest.title.en}. {manifest.summary.en}"]
    if manifest.disclaimer is not None:
        parts.append(f"Disclaimer: {manifest.disclaimer.en}")
    parts.append(f"{result_description(manifest)} Model card: {card_uri(entry.id)}.")
    return "\n\n".join(parts)


def _number(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _brief(value: Any) -> str:
    """Return one short line showing a result field."""
    if isinstance(value, str):
        lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
        text = " / ".join(lines[:3]) + (" / …" if len(lines) > 3 else "")
        return text if len(text) <= 300 else text[:299] + "…"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dict) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in value.values()):
        ranked = sorted(value.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {_number(v)}" for k, v in ranked[:5])
        return shown + (", …" if len(ranked) > 5 else "")
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, list):
        items = [json.dumps(v, ensure_ascii=False, separators=(",", ":"))[:120] for v in value[:3]]
        return f"{len(value)} item(s)" + (": " + "; ".join(items) if items else "") + ("; …" if len(value) > 3 else "")
    return compact if len(compact) <= 300 else compact[:299] + "…"


def render_text(result: dict[str, Any]) -> str:
    """Return a short plain-text view of a result: one line per field (top scores, first lines, counts)."""
    lines = [f"{key}: {_brief(value)}" for key, value in list(result.items())[:12]]
    if len(result) > 12:
        lines.append(f"… and {len(result) - 12} more field(s)")
    return "\n".join(lines) or "(empty result)"


def _tool_result(result: dict[str, Any]) -> types.CallToolResult:
    content = [types.TextContent(type="text", text=render_text(result))]
    as_json = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    if len(as_json) <= JSON_TEXT_LIMIT:
        content.append(types.TextContent(type="text", text=as_json))
    else:
        content.append(types.TextContent(type="text", text=f"(the full result, {len(as_json):,} characters of "
                                                            "JSON, is in structuredContent)"))
    return types.CallToolResult(content=content, structured_content=result)


def _tool_error(reason: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=reason)], is_error=True)


def _may_be_path(value: str) -> bool:
    """Return whether a string may name a local file rather than hold base64 (which has no '.' or '~')."""
    return len(value) < PATH_CHARS and (value.startswith(("~", "./", "../")) or "." in Path(value).name)


def read_local_files(manifest: Manifest, raw: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Replace file inputs given as local paths by the files' bytes (stdio only: the local user's own files)."""
    raw = dict(raw)
    for spec in manifest.inputs:
        value = raw.get(spec.name)
        if spec.type not in FILE_TYPES or not isinstance(value, str) or value.strip().startswith("data:"):
            continue
        text = value.strip()
        try:
            path = Path(text).expanduser().resolve() if len(text) < PATH_CHARS else None
            found = path is not None and path.is_file()
        except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, a symlink loop
            path, found = None, False
        if found and path is not None:
            raw[spec.name] = file_bytes(spec, str(path), limits, allow_paths=True)  # size checked before reading
        elif _may_be_path(text) and "://" not in text:
            raise InputError(f"no readable local file {text[:200]!r}; give the path of a file or a base64 data "
                             "URL (data:<type>;base64,...)", spec.name)
    return raw


class GalleryTools:
    """The demos of one scope (every demo, or one sector) as MCP tools and model-card resources."""

    def __init__(self, service: GalleryService, sector: str | None = None, limiter: RateLimiter | None = None,
                 local_files: bool = False) -> None:
        self.service = service
        self.sector = sector
        self.limiter = limiter
        self.local_files = local_files

    def entries(self) -> list[DemoEntry]:
        """Return the demos in scope that have a valid manifest (available or not)."""
        return [e for e in self.service.index.entries
                if e.manifest is not None and (self.sector is None or e.sector == self.sector)]

    def available(self) -> list[DemoEntry]:
        """Return the demos in scope that can run now: the ones listed as tools."""
        return [e for e in self.entries()
                if e.id in self.service.code and e.available and self.service.status(e.id).state != "unavailable"]

    def tool(self, entry: DemoEntry) -> types.Tool:
        """Return a demo's tool: name, description, input schema from the manifest, output schema."""
        manifest = entry.manifest
        assert manifest is not None
        return types.Tool(
            name=manifest.tool_name,
            title=manifest.title.en,
            description=describe_tool(entry),
            input_schema=request_schema(manifest, self.service.limits, local_paths=self.local_files),
            output_schema=result_schema(manifest),
            annotations=types.ToolAnnotations(title=manifest.title.en, read_only_hint=True, destructive_hint=False,
                                              idempotent_hint=True, open_world_hint=False),
        )

    async def list_tools(self, ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        """List one tool per demo that can run now."""
        return types.ListToolsResult(tools=[self.tool(e) for e in self.available()])

    async def call_tool(self, ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        """Run a demo through the gallery service; every refusal is a tool error with a readable reason."""
        entry = next((e for e in self.entries() if e.manifest is not None and e.manifest.tool_name == params.name),
                     None)
        if entry is None:
            return _tool_error(f"no tool {params.name[:100]!r} here; list the tools to see what this server offers")
        demo_id = entry.id
        request = ctx.request if isinstance(ctx.request, Request) else None
        if self.limiter is not None and request is not None:
            wait = self.limiter.acquire(client_key(request))
            if wait > 0:
                logger.info("demo %s: MCP tool call refused by the rate limit", demo_id)
                return _tool_error(refusal(self.limiter, wait)[1])
        started = time.perf_counter()
        try:
            with counted(self.service, demo_id, "mcp"):
                raw = dict(params.arguments or {})
                if self.local_files:
                    assert entry.manifest is not None
                    raw = read_local_files(entry.manifest, raw, self.service.limits)
                result = await anyio.to_thread.run_sync(self.service.run, demo_id, raw)
        except GalleryError as exc:  # the JSON API's reason (a busy demo's says when to retry)
            return _tool_error(answer(exc, demo_id).message)
        # Whatever else goes wrong stays on this side: the log gets the trace, the caller a plain reason.
        except Exception as exc:  # noqa: BLE001
            log_failure(logger, demo_id, "MCP tool call failed", exc)
            return _tool_error(f"the demo failed on this input ({type(exc).__name__})")
        logger.info("demo %s: MCP tool call, %.1f ms", demo_id, (time.perf_counter() - started) * 1000)
        return _tool_result(result)

    async def list_resources(self, ctx: Context,
                             params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        """List the model card of every demo in scope."""
        resources = []
        for entry in self.entries():
            readme = entry.path / "README.md"
            if entry.manifest is None or not readme.is_file():
                continue
            resources.append(types.Resource(
                uri=card_uri(entry.id), name=f"{entry.manifest.tool_name}_card",
                title=f"{entry.manifest.title.en}: model card", description=f"Model card of the {entry.id} demo (models, data, licence, limits).",
                mime_type="text/markdown", size=readme.stat().st_size))
        return types.ListResourcesResult(resources=resources)

    async def read_resource(self, ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        """Return a demo's model card (its README.md) as markdown."""
        uri = str(params.uri)
        match = _CARD_URI.match(uri)
        entry = next((e for e in self.entries() if match and e.id == match["id"]), None)
        readme = entry.path / "README.md" if entry is not None else None
        if readme is None or not readme.is_file():
            raise MCPError(code=types.INVALID_PARAMS, message="Resource not found", data={"uri": uri[:300]})
        return types.ReadResourceResult(contents=[
            types.TextResourceContents(uri=uri, mime_type="text/markdown", text=readme.read_text(encoding="utf-8"))])


def build_server(service: GalleryService, sector: str | None = None, limiter: RateLimiter | None = None,
                 local_files: bool = False) -> Server[Any]:
    """Return an MCP server whose tools are the demos of `sector` (None: every demo)."""
    tools = GalleryTools(service, sector, limiter, local_files)
    name = SERVER_NAME if sector is None else f"{SERVER_NAME}-{sector}"
    return Server(name, version=__version__, title="OpenModels Gallery" + (f" ({sector})" if sector else ""),
                  instructions=INSTRUCTIONS, on_list_tools=tools.list_tools, on_call_tool=tools.call_tool,
                  on_list_resources=tools.list_resources, on_read_resource=tools.read_resource)


class McpEndpoints:
    """The ASGI app behind `/mcp` (every demo) and `/mcp/<sector>`: one MCP server and session manager each."""

    def __init__(self, servers: dict[str | None, Server[Any]], request_bytes: int) -> None:
        self.servers = servers
        self.request_bytes = request_bytes
        self.managers: dict[str | None, StreamableHTTPSessionManager] = {}

    def _manager(self, server: Server[Any]) -> StreamableHTTPSessionManager:
        return StreamableHTTPSessionManager(
            app=server,
            # Stateless JSON answers: nothing to resume or expire, and they pass any proxy or share tunnel.
            stateless=True, json_response=True,
            # The gallery answers under any host name (a proxy, the share tunnel, --host 0.0.0.0), like its JSON
            # API, which runs the same demos; --auth and --api-token are what restrict who may call them.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=self.request_bytes,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run one session manager per scope for one lifespan of the app (a manager can run only once)."""
        managers = {scope: self._manager(server) for scope, server in self.servers.items()}
        async with contextlib.AsyncExitStack() as stack:
            for manager in managers.values():
                await stack.enter_async_context(manager.run())
            self.managers = managers
            try:
                yield
            finally:
                self.managers = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to its scope's session manager; 404 for a sector that does not exist."""
        sector = scope.get("path_params", {}).get("sector")
        if sector not in self.servers:
            sectors = ", ".join(f"{MCP_PATH}/{s}" for s in self.servers if s)
            await JSONResponse({"detail": f"no MCP endpoint for {str(sector)[:40]!r}; try {MCP_PATH} or {sectors}"},
                               status_code=404)(scope, receive, send)
            return
        manager = self.managers.get(sector)
        if manager is None:  # served without running the app's lifespan
            await JSONResponse({"detail": "the MCP server is not running (the app's lifespan has not started)"},
                               status_code=503)(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)


def mount_mcp(app: FastAPI, service: GalleryService, limiter: RateLimiter | None = None) -> McpEndpoints:
    """Serve the MCP endpoints on `app` and run their session managers for each of the app's lifespans."""
    servers = {sector: build_server(service, sector, limiter) for sector in (None, *SECTORS)}
    endpoints = McpEndpoints(servers, service.limits.request_bytes)
    for path in (MCP_PATH, MCP_PATH + "/", MCP_PATH + "/{sector}", MCP_PATH + "/{sector}/"):
        app.add_route(path, endpoints, include_in_schema=False)  # type: ignore[arg-type]
    previous: Callable[[FastAPI], Any] = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        # A mounted MCP app's own lifespan never runs: the host app must run the session managers.
        async with endpoints.running(), previous(parent) as state:
            yield state

    app.router.lifespan_context = lifespan  # type: ignore[assignment]
    return endpoints


async def serve_stdio(make_service: Callable[[], GalleryService]) -> None:
    """Serve every demo of the service over stdin/stdout until the client closes the stream."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        # Built inside the transport, which points fd 1 at stderr: nothing a demo prints can corrupt the wire.
        service = make_service()
        server = build_server(service, local_files=True)
        logger.info("MCP over stdio: %d demos", len(GalleryTools(service).available()))
        await server.run(read_stream, write_stream, server.create_initialization_options())
