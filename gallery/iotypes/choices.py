"""Inputs that pick: `choice` (one of the manifest's choices) and `checkbox` (true or false)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gallery.errors import InputError
from gallery.iotypes.base import InputType, JsonSchema
from gallery.limits import Limits

if TYPE_CHECKING:
    from gallery.manifest import InputSpec

# What a form's checkbox field may say for "ticked" (browsers send "on"); anything else is unticked.
TICKED = ("1", "true", "yes", "on")


class ChoiceInput(InputType):
    """One of the manifest's `choices`, sent as the choice itself (`choice_labels` only change what is shown)."""

    receives = "`str`, one of `choices`"

    def check_spec(self, spec: InputSpec) -> None:
        if not spec.choices:
            raise ValueError("a `choice` input needs `choices`")
        super().check_spec(spec)

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> str:
        choices = spec.choices or []
        if not isinstance(value, str) or value not in choices:
            raise InputError(f"must be one of {', '.join(choices)}; got {str(value)[:40]!r}", spec.name)
        return value

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        schema: JsonSchema = {"type": "string", "enum": list(spec.choices or [])}
        if spec.choice_labels:
            shown = ", ".join(f"{c} ({spec.choice_labels[c].en})" if c in spec.choice_labels else c
                              for c in spec.choices or [])
            schema["description"] = f"One of: {shown}."
        return schema

    def placeholder(self, spec: InputSpec) -> Any:
        return spec.default if spec.default is not None else (spec.choices or [""])[0]


class CheckboxInput(InputType):
    """True or false: a JSON boolean, or a form field's "true"/"on"/"1"/"yes" (anything else is false)."""

    receives = "`bool`"

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"must be true or false, got {type(value).__name__}", spec.name)
        return value

    def from_form(self, spec: InputSpec, text: str) -> Any:
        return text.strip().lower() in TICKED

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        return {"type": "boolean"}

    def placeholder(self, spec: InputSpec) -> Any:
        return spec.default if spec.default is not None else False
