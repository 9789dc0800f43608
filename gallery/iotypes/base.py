"""What every input and output type provides: the base classes the registries in `gallery.iotypes` hold."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from gallery.errors import InputError
from gallery.limits import LIMITS, Limits

if TYPE_CHECKING:  # the manifest imports the registries to know the type names
    from gallery.manifest import InputSpec, OutputSpec

JsonSchema = dict[str, Any]


class InputType(ABC):
    """One manifest input `type`: its manifest rules, coercion (JSON, form, UI) and JSON Schema."""

    # What `predict` receives, in a few words (CONTRIBUTING lists it).
    receives: ClassVar[str] = ""
    # An upload: bytes, a data URL, or (from the UI) a local path; multipart sends it as a file part.
    is_file: ClassVar[bool] = False
    # Whether "" counts as not given (a form's empty field); a text input takes "" as the text it is.
    empty_is_missing: ClassVar[bool] = True
    # Whether the value is text a person types in a text box (an example's button may quote it).
    typed_text: ClassVar[bool] = False

    def check_spec(self, spec: InputSpec) -> None:
        """Raise ValueError when the manifest's input breaks a rule of this type (the manifest names the field).

        The rules here hold for every type; a type adds its own and calls this one."""
        if spec.choice_labels is not None:
            unknown = sorted(set(spec.choice_labels) - set(spec.choices or []))
            if unknown:
                raise ValueError(f"choice_labels names values that are not choices: {', '.join(unknown)}")
        if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
            raise ValueError("minimum is greater than maximum")

    def read(self, spec: InputSpec, value: Any, limits: Limits = LIMITS, allow_paths: bool = False) -> Any:
        """Return the value `predict` receives: the default for a missing value, else the coerced value.

        `allow_paths` is the UI's case: Gradio hands over uploads as paths in its own upload folder."""
        if value is None or (self.empty_is_missing and isinstance(value, str) and value == ""):
            if spec.default is not None:
                value = spec.default
            elif spec.required:
                raise InputError("is required", spec.name)
            else:
                return None
        return self.coerce(spec, value, limits, allow_paths)

    @abstractmethod
    def coerce(self, spec: InputSpec, value: Any, limits: Limits, allow_paths: bool) -> Any:
        """Validate and decode a given (not None) value, raising InputError naming the input."""

    def from_form(self, spec: InputSpec, text: str) -> Any:
        """Return a multipart or urlencoded field's text as the raw value `coerce` takes."""
        return text

    @abstractmethod
    def json_schema(self, spec: InputSpec, limits: Limits, local_paths: bool) -> JsonSchema:
        """Return the JSON Schema of the values a JSON request (and an MCP tool call) may give."""

    def form_schema(self, spec: InputSpec, limits: Limits) -> JsonSchema:
        """Return the schema of the multipart form field (text, or a binary part for uploads)."""
        return self.json_schema(spec, limits, local_paths=False)

    def placeholder(self, spec: InputSpec) -> Any:
        """Return a value for code snippets when the manifest has no example (the default, else a stand-in)."""
        return spec.default

    def example_request(self, spec: InputSpec, value: Any) -> Any:
        """Return a manifest example's value as a JSON request shows it (OpenAPI's example)."""
        return value

    def for_present(self, spec: InputSpec, value: Any) -> Any:
        """Return a JSON request's value as the demo's `present(result, inputs, lang)` sees it."""
        return value


class OutputType(ABC):
    """One manifest output `type`: the view it is, its value for the UI and for the JSON API's `display`."""

    # What the view shows, in a few words (CONTRIBUTING lists it).
    shows: ClassVar[str] = ""
    # Whether the view is text for people, which the JSON API's `display` repeats (pictures and raw JSON are not).
    text_view: ClassVar[bool] = False
    # Whether `columns:` (headers shown before the first result) applies.
    has_columns: ClassVar[bool] = False

    def check_spec(self, spec: OutputSpec) -> None:
        """Raise ValueError when the manifest's output breaks a rule of this type."""
        if spec.columns is not None and not self.has_columns:
            raise ValueError(f"columns is only for table outputs, not {spec.type}")

    def ui_value(self, value: Any) -> Any:
        """Return a presented value as the Gradio component takes it."""
        return value

    def display_value(self, value: Any) -> Any:
        """Return a presented value as JSON for the API's `display` (text views only)."""
        return value

    @abstractmethod
    def view_schema(self) -> JsonSchema | None:
        """Return the JSON Schema of the view in the API's `display` (None when it is not a text view)."""


def upper_limit(own: int | float | None, gallery: int | float) -> Any:
    """Return the manifest's own limit where it is tighter than the gallery's (a manifest never loosens one)."""
    return min(own or gallery, gallery)
