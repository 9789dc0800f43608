"""Number inputs: `number` (a float) and `integer` (an int), within the manifest's minimum and maximum."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gallery.errors import InputError
from gallery.iotypes.base import InputType, JsonSchema
from gallery.limits import Limits

if TYPE_CHECKING:
    from gallery.manifest import InputSpec


class NumberInput(InputType):
    """A number: a JSON number, or its text (a form field, a Gradio number box)."""

    receives = "`float` between `minimum` and `maximum`"
    json_type = "number"

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"must be a number, got {type(value).__name__}", spec.name)
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float (JSON allows any number of digits)
            raise InputError("must be a finite number", spec.name) from None
        except ValueError:
            raise InputError(f"must be a number, got {str(value)[:40]!r}", spec.name) from None
        if not math.isfinite(number):
            raise InputError("must be a finite number", spec.name)
        number = self.exact(spec, number)
        if spec.minimum is not None and number < spec.minimum:
            raise InputError(f"must be at least {spec.minimum:g}, got {number:g}", spec.name)
        if spec.maximum is not None and number > spec.maximum:
            raise InputError(f"must be at most {spec.maximum:g}, got {number:g}", spec.name)
        return number

    def exact(self, spec: InputSpec, number: float) -> int | float:
        """Return the number as `predict` receives it."""
        return number

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        schema: JsonSchema = {"type": self.json_type}
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = spec.maximum
        return schema

    def placeholder(self, spec: InputSpec) -> Any:
        if spec.default is not None:
            return spec.default
        return self.json_number(spec.minimum) if spec.minimum is not None else 0

    def json_number(self, number: float) -> int | float:
        """Return a manifest bound as a value of this type (a stand-in, never refused)."""
        return number


class IntegerInput(NumberInput):
    """A whole number (2.0 is taken as 2; 2.5 is refused)."""

    receives = "`int` between `minimum` and `maximum`"
    json_type = "integer"

    def exact(self, spec: InputSpec, number: float) -> int | float:
        if number != int(number):
            raise InputError(f"must be a whole number, got {number}", spec.name)
        return int(number)

    def json_number(self, number: float) -> int | float:
        return int(number)
