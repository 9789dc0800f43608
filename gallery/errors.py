"""Errors that cross layers: bad user input and models that cannot be had."""

from __future__ import annotations


class InputError(ValueError):
    """The user's input is unusable; the message is shown to them as it is (UI) or sent with a 4xx (API)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    @property
    def message(self) -> str:
        """Return the reason, prefixed with the field when known."""
        text = str(self)
        return f"{self.field}: {text}" if self.field else text


class ModelUnavailableError(RuntimeError):
    """A demo's model cannot be found, converted or loaded; the message says how to fix it."""


class Busy(RuntimeError):
    """A demo's queue is full or the wait would be too long: refused at once, retry after `retry_after` seconds."""

    def __init__(self, demo_id: str, retry_after: int, reason: str) -> None:
        self.demo_id = demo_id
        self.retry_after = retry_after
        self.reason = reason  # why, in a few words: "the queue is full (8 waiting)", "the wait would be about 75 s"
        super().__init__(f"demo {demo_id} is busy: {reason}; try again in {retry_after} s")
