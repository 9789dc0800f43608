"""`series`: a sequence of numbers, as text (numbers, or CSV with a timestamp and a value column) or as a JSON array.

`predict` always receives text, so a demo parses one format: a JSON array arrives as its numbers separated by
", " (the same text a person would paste), and CSV keeps its timestamps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gallery.errors import InputError
from gallery.iotypes.base import InputType, JsonSchema, upper_limit
from gallery.iotypes.text import char_limit, clean_text
from gallery.limits import Limits

if TYPE_CHECKING:
    from gallery.manifest import InputSpec


def item_limit(spec: InputSpec, limits: Limits) -> int:
    """Return how many numbers an array may hold: the manifest's `max_items`, never above the gallery's."""
    return upper_limit(spec.max_items, limits.series_items)


def _number_text(index: int, item: Any, spec: InputSpec) -> str:
    # bool is an int to Python, never a number to a caller; NaN and Infinity pass json.loads.
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        raise InputError(f"value {index} must be a number, got {type(item).__name__}", spec.name)
    if isinstance(item, float) and not math.isfinite(item):  # an int is finite (and may be too big for a float)
        raise InputError(f"value {index} must be a finite number, got {item}", spec.name)
    return repr(float(item)) if isinstance(item, float) else str(item)


def array_text(spec: InputSpec, values: list[Any] | tuple[Any, ...], limits: Limits) -> str:
    """Return a JSON array of numbers as the text `predict` receives (refusing non-numbers and long arrays)."""
    limit = item_limit(spec, limits)
    if len(values) > limit:
        raise InputError(f"has {len(values):,} values; the limit is {limit:,}", spec.name)
    if spec.required and not values:
        raise InputError("is empty; give some numbers", spec.name)
    return ", ".join(_number_text(index, item, spec) for index, item in enumerate(values, 1))


class SeriesInput(InputType):
    """Numbers in time order: pasted text (numbers or CSV) from people, a JSON array of numbers from programs."""

    receives = "`str`: the text as given, or a JSON array's numbers separated by `, `"
    empty_is_missing = False  # like text: "" is an empty series, which the demo may explain
    typed_text = True

    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> str:
        if isinstance(value, (list, tuple)):
            return array_text(spec, value, limits)
        if not isinstance(value, str):
            raise InputError(f"must be text or an array of numbers, got {type(value).__name__}", spec.name)
        return clean_text(spec, value, limits)

    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        # anyOf rather than oneOf: the branches never overlap, and more function-calling clients read anyOf.
        return {"anyOf": [
            {"type": "array", "items": {"type": "number"}, "maxItems": item_limit(spec, limits),
             "description": "the numbers, oldest first"},
            {"type": "string", "maxLength": char_limit(spec, limits),
             "description": "numbers separated by commas, spaces or new lines, or CSV text with a header"},
        ]}

    def form_schema(self, spec: InputSpec, limits: Limits) -> JsonSchema:
        return {"type": "string", "maxLength": char_limit(spec, limits)}

    def placeholder(self, spec: InputSpec) -> Any:
        # Text, which every client sends alike (gradio_client's text box too).
        return spec.default if spec.default is not None else "1, 2, 3, 4, 5, 6, 7, 8"

    def for_present(self, spec: InputSpec, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            # The run accepted the array: the same text predict received.
            return ", ".join(_number_text(index, item, spec) for index, item in enumerate(value, 1))
        return value
