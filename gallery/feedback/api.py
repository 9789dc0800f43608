"""`POST /api/demos/<sector>/<slug>/feedback`: store a rating, answered 201 only once it is durable."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gallery.api import Guard, read_body
from gallery.errors import BadRequest, DemoNotFound, InputError, StoreUnavailable, UnsupportedMediaType
from gallery.feedback.store import (
    COMMENT_CHARS,
    IO_BYTES,
    Feedback,
    FeedbackError,
    FeedbackStore,
    FeedbackStoreError,
)
from gallery.service import GalleryService

logger = logging.getLogger(__name__)

# Room for a full comment plus input and output at their limits, and the JSON around them.
BODY_BYTES = 2 * IO_BYTES + 4 * COMMENT_CHARS + 4096
RETRY_AFTER_S = 30  # a database that is down (restarting, failing over) is usually back within this

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rating": {"type": "string", "enum": ["up", "down"]},
        "comment": {"type": "string", "maxLength": COMMENT_CHARS},
        "include_io": {"type": "boolean", "default": False,
                       "description": "store input and output too (only when the user agreed)"},
        "input": {"description": f"the inputs as JSON, at most {IO_BYTES:,} bytes; needs include_io"},
        "output": {"description": f"the result as JSON, at most {IO_BYTES:,} bytes; needs include_io"},
    },
    "required": ["rating"],
    "additionalProperties": False,
}


def build_feedback_api(service: GalleryService, store: FeedbackStore, guard: Guard | None = None) -> APIRouter:
    """Return the router of the feedback endpoint; `guard` (rate limit) runs first."""
    router = APIRouter(prefix="/api", tags=["feedback"])

    @router.post(
        "/demos/{sector}/{slug}/feedback",
        summary="Record feedback on a demo (rating, optional comment, optional input and output)",
        status_code=201,
        openapi_extra={"requestBody": {"required": True,
                                       "content": {"application/json": {"schema": REQUEST_SCHEMA}}}},
        response_class=JSONResponse,
    )
    async def post_feedback(sector: str, slug: str, request: Request) -> JSONResponse:
        if guard is not None:
            await guard(request)
        demo_id = f"{sector}/{slug}"
        if service.index.get(demo_id) is None:
            raise DemoNotFound(demo_id)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("application/json", ""):
            raise UnsupportedMediaType("send the feedback as application/json")
        body = await read_body(request, BODY_BYTES)
        try:
            feedback = Feedback.parse(demo_id, json.loads(body or b"null"), source="api")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        except FeedbackError as exc:
            raise InputError(str(exc)) from None
        try:
            feedback_id, created = await run_in_threadpool(store.add, feedback)
        except FeedbackStoreError as exc:
            logger.error("demo %s: %s", demo_id, exc)
            # The reason stays in the log: it names the database's host, which is not the visitor's business.
            raise StoreUnavailable("the feedback database is unavailable right now, so this feedback was not "
                                   f"stored; please try again in {RETRY_AFTER_S} s", RETRY_AFTER_S) from None
        return JSONResponse({"id": feedback_id, "demo_id": demo_id, "created_at": created}, status_code=201)

    return router
