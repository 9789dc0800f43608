"""The input and output type registries: every type has every part, and JSON requests take natural JSON types."""

from __future__ import annotations

import re
from typing import Any

import gradio as gr
import jsonschema
import pytest

from gallery.describe import input_schema, request_schema
from gallery.errors import InputError
from gallery.inputs import coerce_one
from gallery.iotypes import FILE_TYPES, INPUT_TYPES, OUTPUT_TYPES, InputType, OutputType, input_type
from gallery.limits import Limits
from gallery.manifest import InputSpec, OutputSpec
from gallery.ui.components import INPUT_COMPONENTS, OUTPUT_COMPONENTS, input_component, output_component
from tests.conftest import ROOT

LABEL = {"en": "Field", "zh": "字段"}
# What a manifest must give for some types to be valid at all (a choice needs its choices).
NEEDS: dict[str, dict[str, Any]] = {"choice": {"choices": ["a", "b"]}}


def spec_of(type_name: str, **fields: Any) -> InputSpec:
    """Return a minimal valid input of `type_name`."""
    return InputSpec(name="field", type=type_name, label=LABEL, **{**NEEDS.get(type_name, {}), **fields})


def test_the_manifest_accepts_exactly_the_registered_types() -> None:
    assert InputSpec.model_json_schema()["properties"]["type"]["enum"] == list(INPUT_TYPES)
    assert OutputSpec.model_json_schema()["properties"]["type"]["enum"] == list(OUTPUT_TYPES)


def test_every_registered_type_has_a_ui_component_and_no_component_lacks_a_type() -> None:
    assert set(INPUT_COMPONENTS) == set(INPUT_TYPES), "gallery/ui/components.py: INPUT_COMPONENTS"
    assert set(OUTPUT_COMPONENTS) == set(OUTPUT_TYPES), "gallery/ui/components.py: OUTPUT_COMPONENTS"


@pytest.mark.parametrize("name", list(INPUT_TYPES))
def test_every_input_type_has_every_part(name: str) -> None:
    kind = INPUT_TYPES[name]
    assert isinstance(kind, InputType) and kind.receives, f"{name}: say what predict receives"
    spec = spec_of(name)
    # Its JSON schema is a valid schema, for JSON requests, MCP over stdio, and multipart forms.
    for schema in (input_schema(spec), input_schema(spec, local_paths=True), kind.form_schema(spec, Limits())):
        jsonschema.Draft202012Validator.check_schema(schema)
    # A snippet's stand-in value is one the schema allows, and (for all but uploads) one coercion accepts.
    placeholder = kind.placeholder(spec)
    jsonschema.validate(placeholder, input_schema(spec))
    if name not in FILE_TYPES:
        coerce_one(spec, placeholder)
    # A value of the wrong shape is refused with a reason naming the input, never a crash.
    with pytest.raises(InputError, match=r"^must be|^value|^is"):
        coerce_one(spec, {"a": 1})
    with gr.Blocks():
        assert isinstance(input_component("x/y", spec, gr.I18n(en={}, zh={})), gr.components.Component)


@pytest.mark.parametrize("name", list(OUTPUT_TYPES))
def test_every_output_type_has_every_part(name: str) -> None:
    kind = OUTPUT_TYPES[name]
    assert isinstance(kind, OutputType) and kind.shows, f"{name}: say what the view shows"
    view = kind.view_schema()
    assert (view is not None) == kind.text_view, f"{name}: a text view has a `display` schema, a picture none"
    if view is not None:
        jsonschema.Draft202012Validator.check_schema(view)
        jsonschema.validate(kind.display_value(None), view)
    with gr.Blocks():
        spec = OutputSpec(name="view", type=name, label=LABEL)
        assert isinstance(output_component("x/y", spec, gr.I18n(en={}, zh={})), gr.components.Component)


@pytest.mark.parametrize("guide", ["CONTRIBUTING.md", "CONTRIBUTING.zh.md"])
def test_the_guides_list_every_type(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    for heading, names in (("`InputSpec.type`", INPUT_TYPES), ("`OutputSpec.type`", OUTPUT_TYPES)):
        match = re.search(rf"^#+ [^\n]*{re.escape(heading)}[^\n]*\n(?P<body>.*?)(?=^#+ |\Z)", text, flags=re.M | re.S)
        assert match, f"{guide}: no section headed {heading}"
        assert set(re.findall(r"^\|\s*`(\w+)`\s*\|", match["body"], flags=re.M)) == set(names), f"{guide}: {heading}"


def test_type_rules_live_with_the_type() -> None:
    with pytest.raises(ValueError, match="needs `choices`"):
        InputSpec(name="c", type="choice", label=LABEL)
    with pytest.raises(ValueError, match="minimum is greater than maximum"):
        spec_of("number", minimum=3, maximum=1)
    with pytest.raises(ValueError, match="columns is only for table outputs, not label"):
        OutputSpec(name="v", type="label", label=LABEL, columns=["a"])


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("series", [5200, 5397.5, -3, 1e16], "5200, 5397.5, -3, 1e+16"),
    ("series", "1 2 3", "1 2 3"),
    ("number", 2.5, 2.5),
    ("integer", 4.0, 4),
    ("checkbox", True, True),
])
def test_json_takes_natural_types_as_well_as_text(name: str, value: Any, expected: Any) -> None:
    result = coerce_one(spec_of(name), value)
    assert result == expected and type(result) is type(expected)
    jsonschema.validate(value, input_schema(spec_of(name)))  # and the schema says so


def test_a_number_too_big_for_a_float_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="must be a finite number"):
        coerce_one(spec_of("number"), 10**400)


def test_numbers_still_take_their_text() -> None:
    # A form field and a Gradio number box give text; the schema documents the natural JSON type only.
    assert coerce_one(spec_of("number"), "2.5") == 2.5 and coerce_one(spec_of("integer"), "3") == 3


@pytest.mark.parametrize(("value", "reason"), [
    ([1, True, 3], "field: value 2 must be a number, got bool"),
    ([1, "2"], "field: value 2 must be a number, got str"),
    ([1, float("nan")], "field: value 2 must be a finite number, got nan"),
    ([1, 10**400, "x"], "field: value 3 must be a number, got str"),  # a huge int is a number (the demo judges it)
    ([], "field: is empty; give some numbers"),
    (list(range(21)), "field: has 21 values; the limit is 20"),
    ({"values": [1]}, "field: must be text or an array of numbers, got dict"),
])
def test_a_series_array_is_refused_with_the_value_at_fault(value: Any, reason: str) -> None:
    with pytest.raises(InputError) as info:
        coerce_one(spec_of("series", max_items=20), value)
    assert info.value.message == reason


def test_a_series_array_limit_never_passes_the_gallery_limit() -> None:
    spec = spec_of("series", max_items=50)
    assert input_schema(spec, Limits(series_items=10))["anyOf"][0]["maxItems"] == 10
    with pytest.raises(InputError, match="has 11 values; the limit is 10"):
        coerce_one(spec, list(range(11)), Limits(series_items=10))


def test_form_fields_are_read_by_their_type() -> None:
    checkbox = spec_of("checkbox")
    assert [input_type("checkbox").from_form(checkbox, t) for t in ("on", "True", " 1 ", "no", "")] == [
        True, True, True, False, False]
    assert input_type("series").from_form(spec_of("series"), "1,2,3") == "1,2,3"


def test_the_ridership_demo_documents_arrays_in_its_request_schema() -> None:
    from gallery.manifest import load_manifest

    manifest = load_manifest(ROOT / "demos/transport/ridership-forecast/demo.yaml")
    schema = request_schema(manifest)
    jsonschema.validate({"series": [5200, 5397, 5355], "horizon": 7}, schema)
    jsonschema.validate({"series": "5200, 5397, 5355", "horizon": 7}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"series": [5200, "x"]}, schema)
    assert schema["properties"]["series"]["anyOf"][0]["maxItems"] == 10_000
