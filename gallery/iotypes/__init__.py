"""Input and output types: one class per manifest `type`, registered here by name.

Each input type owns its coercion (JSON, form fields, the UI), its JSON Schema (OpenAPI and MCP) and its
limits; each output type its value for the UI and for the JSON API's `display`. The UI's components are
registered by the same names in `gallery.ui.components`; `tests/core/test_iotypes.py` fails when the
registries differ. Add a type: a class in a module here, one line below, one line in `gallery/ui/components.py`.
"""

from __future__ import annotations

from gallery.iotypes.base import InputType, JsonSchema, OutputType
from gallery.iotypes.choices import CheckboxInput, ChoiceInput
from gallery.iotypes.files import AudioInput, FileInput, ImageInput
from gallery.iotypes.numbers import IntegerInput, NumberInput
from gallery.iotypes.outputs import (HighlightOutput, ImageOutput, JsonOutput, LabelOutput, MarkdownOutput, PlotOutput,
                                     TableOutput, TextOutput)
from gallery.iotypes.series import SeriesInput
from gallery.iotypes.text import TextInput

__all__ = ["FILE_TYPES", "INPUT_TYPES", "OUTPUT_TYPES", "InputType", "JsonSchema", "OutputType", "input_type",
           "output_type"]

INPUT_TYPES: dict[str, InputType] = {
    "text": TextInput(),
    "number": NumberInput(),
    "integer": IntegerInput(),
    "choice": ChoiceInput(),
    "checkbox": CheckboxInput(),
    "image": ImageInput(),
    "audio": AudioInput(),
    "file": FileInput(),
    "series": SeriesInput(),
}

OUTPUT_TYPES: dict[str, OutputType] = {
    "text": TextOutput(),
    "label": LabelOutput(),
    "table": TableOutput(),
    "highlight": HighlightOutput(),
    "plot": PlotOutput(),
    "json": JsonOutput(),
    "markdown": MarkdownOutput(),
    "image": ImageOutput(),
}

# The input types that are uploads (data URLs in JSON, file parts in a form, paths from the UI).
FILE_TYPES: tuple[str, ...] = tuple(name for name, kind in INPUT_TYPES.items() if kind.is_file)


def input_type(name: str) -> InputType:
    """Return the input type registered as `name` (the manifest has checked that it is one)."""
    return INPUT_TYPES[name]


def output_type(name: str) -> OutputType:
    """Return the output type registered as `name`."""
    return OUTPUT_TYPES[name]
