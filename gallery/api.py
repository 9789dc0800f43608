"""Plain JSON API beside the Gradio UI: the demo index, one demo's manifest and status, and predict."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from gallery.describe import (describe, display, multipart_schema, request_example, request_schema, result_description,
                              result_schema)
from gallery.errors import (BadRequest, DemoNotFound, GalleryError, InputError, RequestTooLarge, UnsupportedMediaType,
                            answer)
from gallery.iotypes import input_type
from gallery.manifest import Manifest
from gallery.metrics import counted
from gallery.presentation import accept_language
from gallery.service import GalleryService

logger = logging.getLogger(__name__)

Guard = Callable[[Request], Awaitable[None]]


class ErrorDetail(BaseModel):
    """Why a request was refused: one readable sentence, naming the input when one is at fault."""

    detail: str


# The refusals every demo operation can answer, documented once (OpenAPI) and answered by run_demo below.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "Malformed body: not valid JSON, or a broken multipart form."},
    401: {"model": ErrorDetail, "description": "Authentication required (only when the server runs with --auth "
                                               "or --api-token)."},
    413: {"model": ErrorDetail, "description": "The request body is larger than the server's limit."},
    415: {"model": ErrorDetail, "description": "Not JSON, multipart or a urlencoded form."},
    422: {"model": ErrorDetail, "description": "Invalid input; the reason names the input, e.g. "
                                               "`message: is empty; please enter some text`."},
    429: {"model": ErrorDetail, "description": "Rate limit exceeded; retry after the Retry-After header's seconds.",
          "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}},
    500: {"model": ErrorDetail, "description": "The demo failed on this input (the reason is safe to show)."},
    503: {"model": ErrorDetail, "description": "The demo or its model is unavailable; the reason says why. Or the "
                                               "demo is busy (its queue is full, or the wait would be longer than "
                                               "the server allows): retry after the Retry-After header's seconds; "
                                               "the body then also has `demo`, `reason` and `retry_after`.",
          "headers": {"Retry-After": {"description": "seconds to wait (busy only)", "schema": {"type": "integer"}}}},
}


def error_response(exc: GalleryError, demo_id: str | None = None) -> JSONResponse:
    """Answer a refused or failed request with the error's status, reason and headers (gallery.errors)."""
    reply = answer(exc, demo_id)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


async def _gallery_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GalleryError)
    return error_response(exc)


def install_error_answers(app: FastAPI) -> None:
    """Answer every GalleryError raised by a route (its body, its queue, its demo) as error_response does."""
    app.add_exception_handler(GalleryError, _gallery_error_handler)


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"request body is larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _capped(request: Request, limit: int) -> Request:
    """Return the request reading its body through a counter that refuses (413) past `limit` bytes."""
    size = 0

    async def receive() -> Any:
        nonlocal size
        message = await request.receive()
        size += len(message.get("body", b""))
        if size > limit:  # a chunked body has no Content-Length to check up front
            raise RequestTooLarge(f"request body is larger than the limit of {limit:,} bytes")
        return message

    return Request(request.scope, receive)


async def _raw_inputs(request: Request, manifest: Manifest, limit: int) -> dict[str, Any]:
    """Parse a JSON, multipart or urlencoded request into raw inputs by name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes")
        specs = {s.name: s for s in manifest.inputs}
        raw: dict[str, Any] = {}
        try:
            # `async with` closes (and so deletes) the spooled temporary files of the uploads.
            async with _capped(request, limit).form(max_files=8, max_fields=64, max_part_size=limit) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        raw[key] = await value.read()
                    elif key in specs:  # a field's text, as its input type reads it (a checkbox's "on")
                        raw[key] = input_type(specs[key].type).from_form(specs[key], value)
                    else:
                        raw[key] = value
        except GalleryError:
            raise
        except Exception as exc:  # noqa: BLE001  (python-multipart raises several unrelated types)
            raise BadRequest(f"malformed multipart body: {exc}") from None
        return raw
    if content_type not in ("application/json", ""):
        raise UnsupportedMediaType("send application/json, multipart/form-data or a urlencoded form")
    body = await read_body(request, limit)
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object of inputs by name")
    return data


def build_api(service: GalleryService, guard: Guard | None = None) -> APIRouter:
    """Return the /api router; `guard` (auth, rate limit) runs before every request."""

    async def checked(request: Request) -> None:
        if guard is not None:
            await guard(request)

    router = APIRouter(prefix="/api", tags=["demos"])

    @router.get("/demos", summary="List every demo with its status")
    async def list_demos(request: Request) -> list[dict[str, Any]]:
        await checked(request)
        return [describe(service, e, full=False) for e in service.index.entries]

    @router.get("/demos/{sector}/{slug}", summary="One demo's manifest, status and request schema")
    async def get_demo(sector: str, slug: str, request: Request) -> dict[str, Any]:
        await checked(request)
        entry = service.index.get(f"{sector}/{slug}")
        if entry is None:
            raise DemoNotFound(f"{sector}/{slug}")
        return describe(service, entry, full=True)

    async def run_demo(sector: str, slug: str, request: Request) -> JSONResponse:
        await checked(request)
        demo_id = f"{sector}/{slug}"
        manifest = service.runnable(demo_id)  # DemoNotFound (404), DemoUnavailable (503)
        raw = await _raw_inputs(request, manifest, service.limits.request_bytes)
        started = time.perf_counter()
        try:
            with counted(service, demo_id, "api"):
                result = await run_in_threadpool(service.run, demo_id, raw)
        except GalleryError as exc:
            return error_response(exc, demo_id)
        elapsed = (time.perf_counter() - started) * 1000
        logger.info("demo %s: API request %d bytes in, %.1f ms", demo_id, int(request.headers.get("content-length") or 0), elapsed)
        asked = request.query_params.get("lang") or accept_language(request.headers.get("accept-language"))
        if asked:  # people text in the language asked for, beside the language-neutral fields
            result = {**result, "display": await run_in_threadpool(display, service, demo_id, result, raw, asked)}
        return JSONResponse(result, headers={"X-Inference-Ms": f"{elapsed:.1f}"})

    for entry in service.index.entries:
        if entry.manifest is None:
            continue
        manifest = entry.manifest
        json_body: dict[str, Any] = {"schema": request_schema(manifest, service.limits)}
        example = request_example(manifest)
        if example is not None:
            json_body["example"] = example
        body = {
            "required": True,
            "content": {
                "application/json": json_body,
                "multipart/form-data": {"schema": multipart_schema(manifest, service.limits)},
            },
        }
        ok = {"description": result_description(manifest),
              "headers": {"X-Inference-Ms": {"description": "time spent in the demo, in milliseconds",
                                             "schema": {"type": "string"}}},
              "content": {"application/json": {"schema": result_schema(manifest, with_display=True)}}}
        router.add_api_route(
            f"/demos/{entry.id}",
            _bind(run_demo, entry.sector, entry.slug),
            methods=["POST"],
            summary=f"Run {entry.id}: {manifest.title.en}",
            description=manifest.summary.en + (f"\n\n**Disclaimer:** {manifest.disclaimer.en}"
                                               if manifest.disclaimer else ""),
            operation_id=f"run_{manifest.api_name.replace('-', '_')}",
            openapi_extra={"requestBody": body},
            responses={200: ok, **ERROR_RESPONSES},
            response_class=JSONResponse,
        )

    @router.post("/demos/{sector}/{slug}", include_in_schema=False)
    async def run_unknown(sector: str, slug: str, request: Request) -> JSONResponse:
        return await run_demo(sector, slug, request)

    return router


def _bind(handler: Callable[..., Awaitable[JSONResponse]], sector: str, slug: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        return await handler(sector, slug, request)

    endpoint.__name__ = f"run_{sector}_{slug}".replace("-", "_")
    return endpoint
