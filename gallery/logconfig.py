"""What may reach the logs: demo ids, sizes and timings; request content only when the operator asks."""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any

_FLAG = "OPENMODELS_LOG_INPUTS"
_state = {"log_inputs": os.environ.get(_FLAG, "").strip().lower() in ("1", "true", "yes", "on")}
PREVIEW_CHARS = 300


def set_log_inputs(enabled: bool) -> None:
    """Turn logging of request content (inputs, failure messages) on or off for this process."""
    _state["log_inputs"] = enabled


def log_inputs_enabled() -> bool:
    """Return whether request content may be logged (`--log-inputs` or OPENMODELS_LOG_INPUTS=1)."""
    return _state["log_inputs"]


def preview(raw: dict[str, Any]) -> str:
    """Return a short one-line view of raw inputs, for `--log-inputs` only."""
    parts = []
    for name, value in raw.items():
        shown = f"<{len(value):,} bytes>" if isinstance(value, (bytes, bytearray)) else repr(value)
        parts.append(f"{name}={shown[:PREVIEW_CHARS]}")
    return ", ".join(parts)


def log_failure(logger: logging.Logger, demo_id: str, what: str, exc: BaseException) -> None:
    """Log a demo's failure with its traceback; the exception's message (which may quote the input) only
    when request content may be logged."""
    if log_inputs_enabled():
        logger.error("demo %s: %s", demo_id, what, exc_info=exc)
        return
    frames = "".join(traceback.format_tb(exc.__traceback__))
    chain, cause = [], exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 5:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    caused = f" (after {' <- '.join(chain)})" if chain else ""
    logger.error("demo %s: %s: %s%s; message hidden (start with --log-inputs to log it)\nTraceback:\n%s",
                 demo_id, what, type(exc).__name__, caused, frames.rstrip())


class AccessLogQueryFilter(logging.Filter):
    """Drop the query string from uvicorn access-log lines: it may carry request data."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, path?query, version, status).
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            path, _, _query = args[2].partition("?")
            record.args = (args[0], args[1], f"{path}?<query hidden>", args[3], args[4])
        return True


PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


class ProbeAccessFilter(logging.Filter):
    """Log the operations endpoints' access lines at DEBUG: probes and scrapes every few seconds would drown the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].partition("?")[0]
            if path.endswith(PROBE_PATHS):
                if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
                    return False
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def install_access_log_filter() -> None:
    """Attach the access-log filters to uvicorn's access logger (idempotent): probes at DEBUG, and
    AccessLogQueryFilter unless content logging is on."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, ProbeAccessFilter) for f in access.filters):
        access.addFilter(ProbeAccessFilter())
    if log_inputs_enabled():
        return
    if not any(isinstance(f, AccessLogQueryFilter) for f in access.filters):
        access.addFilter(AccessLogQueryFilter())
