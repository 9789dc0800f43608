"""Every error a front end can answer, each with its HTTP status, a bilingual title and its metrics outcome.

Front ends (JSON API, UI, MCP, the Ray ingress) never map exceptions themselves: they call `answer(exc)` and get
the status, the reason, the headers and the title in the visitor's language from one place. A new error is one
class here; a new front end needs no table of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class GalleryError(Exception):
    """An error whose message is safe to show to whoever sent the request."""

    status: ClassVar[int] = 500
    title: ClassVar[dict[str, str]] = {"en": "Error", "zh": "出错了"}
    outcome: ClassVar[str] = "error"  # the `status` label of openmodels_requests_total
    kind: ClassVar[str] = "failure"  # how the Ray engine's envelopes name it (see `to_envelope`)

    @property
    def message(self) -> str:
        """Return the reason as shown to people."""
        return str(self)

    def headers(self) -> dict[str, str]:
        """Return the HTTP headers that go with the answer."""
        return {}

    def body(self) -> dict[str, Any]:
        """Return the JSON body of the HTTP answer."""
        return {"detail": self.message}

    def to_envelope(self) -> dict[str, Any]:
        """Return the error as plain data, to cross a process boundary (a Ray replica's answer)."""
        return {"kind": self.kind, "message": str(self)}


class BadRequest(GalleryError, ValueError):
    """The request body cannot be read: not valid JSON, a broken multipart form, not an object."""

    status = 400
    title = {"en": "Malformed request", "zh": "请求格式有误"}
    outcome = "invalid"


class RequestTooLarge(GalleryError, ValueError):
    """The request body is larger than the server's limit."""

    status = 413
    title = {"en": "Request too large", "zh": "请求过大"}
    outcome = "invalid"


class UnsupportedMediaType(GalleryError, ValueError):
    """The request body is in a format the API does not read."""

    status = 415
    title = {"en": "Unsupported format", "zh": "不支持的格式"}
    outcome = "invalid"


class InputError(GalleryError, ValueError):
    """The user's input is unusable; the message is shown to them as it is (UI) or sent with a 4xx (API)."""

    status = 422
    title = {"en": "Invalid input", "zh": "输入无效"}
    outcome = "invalid"
    kind = "input"

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    @property
    def message(self) -> str:
        """Return the reason, prefixed with the field when known."""
        text = str(self)
        return f"{self.field}: {text}" if self.field else text

    def to_envelope(self) -> dict[str, Any]:
        """Return the error as plain data, with the input at fault."""
        return {**super().to_envelope(), "field": self.field}


class DemoNotFound(GalleryError, LookupError):
    """No demo with that id is served."""

    status = 404
    title = {"en": "No such demo", "zh": "没有这个演示"}
    outcome = "unavailable"

    def __init__(self, demo_id: str) -> None:
        self.demo_id = demo_id
        super().__init__(f"no demo {demo_id}")


class DemoUnavailable(GalleryError, RuntimeError):
    """The demo exists but cannot run (bad manifest, import error, disabled, missing model)."""

    status = 503
    title = {"en": "Demo unavailable", "zh": "演示不可用"}
    outcome = "unavailable"
    kind = "model"


class ModelUnavailableError(DemoUnavailable):
    """A demo's model cannot be found, converted or loaded; the message says how to fix it."""


class DemoFailure(GalleryError, RuntimeError):
    """The demo's own code failed on valid input; the message is safe to show."""

    status = 500
    title = {"en": "Demo error", "zh": "演示出错"}


class Busy(GalleryError, RuntimeError):
    """A demo's queue is full or the wait would be too long: refused at once, retry after `retry_after` seconds."""

    status = 503
    title = {"en": "Busy, try again soon", "zh": "繁忙，请稍后再试"}
    outcome = "busy"
    kind = "busy"

    def __init__(self, demo_id: str, retry_after: int, reason: str) -> None:
        self.demo_id = demo_id
        self.retry_after = retry_after
        self.reason = reason  # why, in a few words: "the queue is full (8 waiting)", "the wait would be about 75 s"
        super().__init__(f"demo {demo_id} is busy: {reason}; try again in {retry_after} s")

    def headers(self) -> dict[str, str]:
        """Tell HTTP clients when to come back."""
        return {"Retry-After": str(self.retry_after)}

    def body(self) -> dict[str, Any]:
        """Name the demo, the reason and the wait beside the sentence, for clients that retry."""
        return {"detail": self.message, "demo": self.demo_id, "reason": self.reason,
                "retry_after": self.retry_after}

    def to_envelope(self) -> dict[str, Any]:
        """Return the refusal as plain data."""
        return {**super().to_envelope(), "demo": self.demo_id, "retry_after": self.retry_after,
                "reason": self.reason}


class StoreUnavailable(GalleryError, RuntimeError):
    """Something the gallery stores (feedback) cannot be written now; nothing was lost that the client still has."""

    status = 503
    title = {"en": "Not saved, try again soon", "zh": "未能保存，请稍后再试"}
    outcome = "unavailable"

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        """Tell HTTP clients when to come back."""
        return {"Retry-After": str(self.retry_after)}


# The translation of a refusal's reason where people see it in Chinese: the reasons themselves are English.
_BUSY_ZH = "此演示正忙，请在 {seconds} 秒后重试。"


@dataclass(frozen=True)
class Answer:
    """What a front end sends back for an error: status, title and reason in one language, headers, JSON body."""

    status: int
    title: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


def answer(exc: GalleryError, demo_id: str | None = None, lang: str = "en") -> Answer:
    """Return how every front end answers `exc`; `demo_id` names the demo where the reason does not."""
    message = exc.message
    if isinstance(exc, Busy) and lang == "zh":
        message = _BUSY_ZH.format(seconds=exc.retry_after)
    elif isinstance(exc, DemoUnavailable) and demo_id and not message.startswith(f"demo {demo_id}"):
        message = f"demo {demo_id} is unavailable: {message}"
    body = exc.body()
    if isinstance(exc, DemoUnavailable):
        body = {**body, "detail": message}
    title = exc.title.get(lang, exc.title["en"])
    return Answer(exc.status, title, message, exc.headers(), body)


def outcome(exc: BaseException | None) -> str:
    """Return the metrics status of a request that ended with `exc` (None: it succeeded)."""
    if exc is None:
        return "ok"
    return exc.outcome if isinstance(exc, GalleryError) else "error"


_KINDS: dict[str, type[GalleryError]] = {"input": InputError, "model": ModelUnavailableError, "failure": DemoFailure,
                                         "busy": Busy}


def from_envelope(error: dict[str, Any]) -> GalleryError:
    """Return the error that `GalleryError.to_envelope` turned into plain data."""
    kind, message = error.get("kind"), str(error.get("message") or "unknown error")
    if kind == "input":
        return InputError(message, error.get("field"))
    if kind == "busy":
        return Busy(str(error.get("demo")), int(error.get("retry_after") or 1), str(error.get("reason") or message))
    return _KINDS.get(str(kind), DemoFailure)(message)


def status_of(error: dict[str, Any]) -> int:
    """Return the HTTP status of an error envelope."""
    return _KINDS.get(str(error.get("kind")), DemoFailure).status
