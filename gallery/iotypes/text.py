"""Text inputs: `text` (a string within its length limit)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gallery.errors import InputError
from gallery.iotypes.base import InputType, JsonSchema, upper_limit
from gallery.limits import Limits

if TYPE_CHECKING:
    from gallery.manifest import InputSpec

# Control characters other than tab and newlines make no sense in demo text and break some tokenizers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def char_limit(spec: InputSpec, limits: Limits) -> int:
    """Return the text length limit: the manifest's `max_chars`, never above the gallery's."""
    return upper_limit(spec.max_chars, limits.text_chars)


def clean_text(spec: InputSpec, value: Any, limits: Limits) -> str:
    """Return a string input within its length limit, control characters blanked; refuse an empty required one."""
    if not isinstance(value, str):
        raise InputError(f"must be text, got {type(value).__name__}", spec.name)
    limit = char_limit(spec, limits)
    if len(value) > limit:
        raise InputError(f"is {len(value):,} characters long; the limit is {limit:,}", spec.name)
    value = _CONTROL.sub(" ", value)
    if spec.required and not value.strip():
        raise InputError("is empty; please enter some text", spec.name)
    return value


class TextInput(InputType):
    """Text typed or pasted by the user."""

    receives = "`str`, within `max_chars` (and not blank when required)"
    empty_is_missing = False
    typed_text = True

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> str:
        return clean_text(spec, value, limits)

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        return {"type": "string", "maxLength": char_limit(spec, limits)}

    def placeholder(self, spec: InputSpec) -> Any:
        return spec.default if spec.default is not None else "<your text>"
