"""Output types: the views of a demo's result (`text`, `label`, `table`, `highlight`, `plot`, `json`, `markdown`,
`image`), each with its value for the UI and, for text views, for the JSON API's `display`."""

from __future__ import annotations

import json
from typing import Any

from gallery.iotypes.base import JsonSchema, OutputType


def _as_text(value: Any) -> Any:
    """Return a non-text value as indented JSON (a demo without `present` may map a dict onto a text view)."""
    if value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return value


class TextOutput(OutputType):
    """Plain text (copyable)."""

    shows = "plain text, with a copy button"
    text_view = True

    def ui_value(self, value: Any) -> Any:
        return _as_text(value)

    def display_value(self, value: Any) -> Any:
        return _as_text(value)

    def view_schema(self) -> JsonSchema | None:
        return {"type": ["string", "null"]}


class MarkdownOutput(TextOutput):
    """Markdown, rendered."""

    shows = "Markdown, rendered"


class LabelOutput(OutputType):
    """Scores by label (`{label: probability}`), the best first; or one label."""

    shows = "scores by label (`{label: probability}`), best first"
    text_view = True

    def view_schema(self) -> JsonSchema | None:
        return {"type": ["object", "string", "number", "null"], "additionalProperties": {"type": "number"},
                "description": "scores by label ({label: score}), or a single label"}


class TableOutput(OutputType):
    """A table: a DataFrame or a list of rows, with `columns:` as the headers before the first result."""

    shows = "a table (a DataFrame or a list of rows)"
    text_view = True
    has_columns = True

    def display_value(self, value: Any) -> Any:
        if value is not None and hasattr(value, "columns") and hasattr(value, "values"):  # a pandas DataFrame
            return {"headers": [str(c) for c in value.columns], "rows": value.values.tolist()}
        return value

    def view_schema(self) -> JsonSchema | None:
        return {"type": ["object", "array", "null"],
                "properties": {"headers": {"type": "array", "items": {"type": "string"}},
                               "rows": {"type": "array", "items": {"type": "array"}}},
                "description": "a table as {headers, rows} (or the demo's own list of rows)"}


class HighlightOutput(OutputType):
    """Text in spans, each with its category (`[(text, category or None), ...]`)."""

    shows = "text in spans, each with its category or none"
    text_view = True

    def display_value(self, value: Any) -> Any:
        if value is None:
            return None
        return [[str(text), label] for text, label in value]

    def view_schema(self) -> JsonSchema | None:
        return {"type": ["array", "null"], "items": {"type": "array", "minItems": 2, "maxItems": 2},
                "description": "[text, category or null] pairs, in reading order"}


class PictureOutput(OutputType):
    """A picture for people: the JSON API's `display` leaves it out (the result holds its data)."""

    def view_schema(self) -> JsonSchema | None:
        return None


class PlotOutput(PictureOutput):
    """A line plot of a long table (`t`, `value`, `series`)."""

    shows = "a line plot of a table with columns `t`, `value` and `series`"


class ImageOutput(PictureOutput):
    """An image (an array, a PIL image or a file path)."""

    shows = "an image"


class JsonOutput(PictureOutput):
    """The value as collapsible JSON: the result itself, so `display` does not repeat it."""

    shows = "JSON, collapsible"
