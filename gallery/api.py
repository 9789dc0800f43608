"""Plain JSON API beside the Gradio UI: the demo index, one demo's manifest and status, and predict."""

from __future__ import annotations

import json
import logging
import mimetypes
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from gallery.discovery import DemoEntry
from gallery.errors import InputError, ModelUnavailableError
from gallery.limits import LIMITS, Limits
from gallery.manifest import InputSpec, Manifest
from gallery.metrics import counted
from gallery.presentation import accept_language, language, people_text, render
from gallery.service import DemoFailure, DemoNotFound, DemoUnavailable, GalleryService

logger = logging.getLogger(__name__)

Guard = Callable[[Request], Awaitable[None]]


FILE_TYPES = ("image", "audio", "file")
_FILE_WHAT = {"image": "An image", "audio": "An audio recording", "file": "A file"}


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


def _input_schema(spec: InputSpec, limits: Limits, local_paths: bool) -> dict[str, Any]:
    """Return the JSON schema of one input as the API (and MCP, with `local_paths` over stdio) accepts it."""
    schema: dict[str, Any]
    if spec.type == "text":
        schema = {"type": "string", "maxLength": min(spec.max_chars or limits.text_chars, limits.text_chars)}
    elif spec.type in ("number", "integer"):
        schema = {"type": spec.type}
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = spec.maximum
    elif spec.type == "choice":
        schema = {"type": "string", "enum": list(spec.choices or [])}
        if spec.choice_labels:
            shown = ", ".join(f"{c} ({spec.choice_labels[c].en})" if c in spec.choice_labels else c
                              for c in spec.choices or [])
            schema["description"] = f"One of: {shown}."
    elif spec.type == "checkbox":
        schema = {"type": "boolean"}
    else:
        accepted = f" ({', '.join(spec.accept)})" if spec.accept else ""
        how = "a base64 data URL (data:<mime>;base64,...)" + (" or the path of a local file" if local_paths else "")
        limit = min(spec.max_bytes or limits.upload_bytes, limits.upload_bytes)
        schema = {"type": "string", "description": f"{_FILE_WHAT[spec.type]}{accepted} as {how}; at most "
                                                   f"{limit:,} bytes. URLs are not fetched."}
    schema["title"] = spec.label.en
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def request_schema(manifest: Manifest, limits: Limits = LIMITS, local_paths: bool = False) -> dict[str, Any]:
    """Return the JSON schema of a demo's inputs: the JSON API's request body and the MCP tool's input schema."""
    required = [s.name for s in manifest.inputs if s.required and s.default is None]
    return {
        "type": "object",
        "properties": {s.name: _input_schema(s, limits, local_paths) for s in manifest.inputs},
        "required": required,
        "additionalProperties": False,
    }


def multipart_schema(manifest: Manifest, limits: Limits = LIMITS) -> dict[str, Any]:
    """Return the multipart form's schema: the JSON schema with uploads as binary parts."""
    schema = request_schema(manifest, limits)
    for spec in manifest.inputs:
        if spec.type in FILE_TYPES:
            schema["properties"][spec.name] = {"type": "string", "format": "binary", "title": spec.label.en}
    return schema


def result_description(manifest: Manifest) -> str:
    """Return what a demo's JSON result holds, in words, from the manifest's output views."""
    views = "; ".join(f"{o.label.en} ({o.type})" for o in manifest.outputs)
    return (f"The demo's result as a JSON object, the same through the JSON API, gradio_client and MCP. "
            f"The gallery shows it as: {views}. Ask for a language (`?lang=en` or `zh`, or an Accept-Language "
            "header) and the result adds `display`: `{lang, views}`, the text views as the page shows them.")


def result_schema(manifest: Manifest) -> dict[str, Any]:
    """Return the JSON schema of a demo's result (an object; its fields are the demo's own)."""
    return {"type": "object", "title": f"{manifest.title.en}: result", "additionalProperties": True,
            "description": result_description(manifest)}


def request_example(manifest: Manifest) -> dict[str, Any] | None:
    """Return the first manifest example as a JSON request, each file shown as a data URL to fill in."""
    if not manifest.examples:
        return None
    example = manifest.example_values(0)
    for spec in manifest.inputs:
        value = example.get(spec.name)
        if spec.type in FILE_TYPES and isinstance(value, str):
            mime = mimetypes.guess_type(value)[0] or "application/octet-stream"
            example[spec.name] = f"data:{mime};base64,<the base64 of {Path(value).name}>"
    return example


def describe(service: GalleryService, entry: DemoEntry, full: bool) -> dict[str, Any]:
    """Return a demo's public description: summary fields, status, and with `full` its manifest."""
    status = service.status(entry.id)
    data: dict[str, Any] = {
        "id": entry.id,
        "sector": entry.sector,
        "status": status.state,
        "reason": status.reason,
        "backend": status.backend,
        "variant": status.variant,
        "queue": service.admission.state(entry.id, service.engine.concurrency(entry.manifest)).as_dict(),  # waiting + running
        "url": f"/?demo={entry.id}",
        "api": f"/api/demos/{entry.id}",
    }
    manifest = entry.manifest
    if manifest is not None:
        data.update(
            title=manifest.title.model_dump(),
            summary=manifest.summary.model_dump(),
            task=manifest.task,
            license=manifest.license,
            models={n: {"task": s.task, "licence": s.licence} for n, s in manifest.models.items()},
            api_name=manifest.api_name,
        )
        if full:
            data["manifest"] = manifest.model_dump(mode="json")
            data["models_status"] = status.models
            data["request_schema"] = request_schema(manifest, service.limits)
    if entry.error and full:
        data["path"] = str(entry.path)
    return data


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body is larger than the limit of {limit:,} bytes")
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
            raise HTTPException(413, f"request body is larger than the limit of {limit:,} bytes")
        return message

    return Request(request.scope, receive)


async def _raw_inputs(request: Request, manifest: Manifest, limit: int) -> dict[str, Any]:
    """Parse a JSON, multipart or urlencoded request into raw inputs by name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"request body is {int(declared):,} bytes; the limit is {limit:,} bytes")
        types = {s.name: s.type for s in manifest.inputs}
        raw: dict[str, Any] = {}
        try:
            # `async with` closes (and so deletes) the spooled temporary files of the uploads.
            async with _capped(request, limit).form(max_files=8, max_fields=64, max_part_size=limit) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        raw[key] = await value.read()
                    elif types.get(key) == "checkbox":
                        raw[key] = value.strip().lower() in ("1", "true", "yes", "on")
                    else:
                        raw[key] = value
        except HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001  (python-multipart raises several unrelated types)
            raise HTTPException(400, f"malformed multipart body: {exc}") from None
        return raw
    if content_type not in ("application/json", ""):
        raise HTTPException(415, "send application/json, multipart/form-data or a urlencoded form")
    body = await read_body(request, limit)
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "the body must be a JSON object of inputs by name")
    return data


def display(service: GalleryService, demo_id: str, result: dict[str, Any], raw: dict[str, Any],
            lang: str) -> dict[str, Any]:
    """Return the JSON API's `display`: the text views the page shows for this result, in `lang`."""
    manifest = service.entry(demo_id).manifest
    assert manifest is not None
    # present() reads text inputs (pasted notes, a series); an upload is not a path here, so it gets None.
    inputs = {s.name: None if s.type in FILE_TYPES else raw.get(s.name) for s in manifest.inputs}
    views = render(service.code[demo_id], demo_id, manifest, result, inputs, language(lang))
    return people_text(manifest, views, lang)


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
            raise HTTPException(404, f"no demo {sector}/{slug}")
        return describe(service, entry, full=True)

    async def run_demo(sector: str, slug: str, request: Request) -> JSONResponse:
        await checked(request)
        demo_id = f"{sector}/{slug}"
        try:
            entry = service.entry(demo_id)
        except DemoNotFound:
            raise HTTPException(404, f"no demo {demo_id}") from None
        if entry.manifest is None or demo_id not in service.code:
            raise HTTPException(503, f"demo {demo_id} is unavailable: {service.status(demo_id).reason}")
        raw = await _raw_inputs(request, entry.manifest, service.limits.request_bytes)
        started = time.perf_counter()
        try:
            with counted(service, demo_id, "api"):  # a Busy refusal goes on to operations.busy_response
                result = await run_in_threadpool(service.run, demo_id, raw)
        except InputError as exc:
            raise HTTPException(422, exc.message) from None
        except (DemoUnavailable, ModelUnavailableError) as exc:
            raise HTTPException(503, f"demo {demo_id} is unavailable: {exc}") from None
        except DemoFailure as exc:
            raise HTTPException(500, str(exc)) from None
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
              "content": {"application/json": {"schema": result_schema(manifest)}}}
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
