"""The Gradio component of each input and output type, registered by the type names of `gallery.iotypes`.

Add a type: one factory here and its line in `INPUT_COMPONENTS` or `OUTPUT_COMPONENTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import gradio as gr

from gallery.manifest import InputSpec, OutputSpec
from gallery.ui.i18n import demo_key

Spec = TypeVar("Spec", InputSpec, OutputSpec)
Component = gr.components.Component


@dataclass(frozen=True)
class Slot(Generic[Spec]):
    """Where a component goes: the demo, its manifest entry, the page's translations, its first value."""

    demo_id: str
    spec: Spec
    i18n: gr.I18n
    value: Any = None

    def text(self, part: str) -> Any:
        """Return the translated text of one of the demo's i18n parts (e.g. `in.<name>.choice.<value>`)."""
        return self.i18n(demo_key(self.demo_id, part))

    @property
    def label(self) -> Any:
        """Return the component's translated label."""
        kind = "in" if isinstance(self.spec, InputSpec) else "out"
        return self.text(f"{kind}.{self.spec.name}")

    @property
    def classes(self) -> list[str]:
        """Return the CSS classes the page's styles and the browser tests find the component by."""
        if isinstance(self.spec, InputSpec):
            return ["om-input", f"om-in-{self.spec.type}", f"om-in-name-{self.spec.name}"]
        return ["om-output", f"om-out-{self.spec.type}"]


InputSlot = Slot[InputSpec]
OutputSlot = Slot[OutputSpec]


def text_box(slot: InputSlot) -> Component:
    """Return a text box `lines` high (a series is pasted text too)."""
    lines = slot.spec.lines
    return gr.Textbox(label=slot.label, lines=lines, max_lines=max(lines, 20), value=slot.value,
                      elem_classes=slot.classes)


def number_field(slot: InputSlot) -> Component:
    """Return a slider for a small bounded range, else a number box."""
    spec = slot.spec
    integer = spec.type == "integer"
    if spec.minimum is not None and spec.maximum is not None and (spec.maximum - spec.minimum) <= 400:
        return gr.Slider(minimum=spec.minimum, maximum=spec.maximum, value=slot.value,
                         step=spec.step or (1 if integer else None), label=slot.label, elem_classes=slot.classes)
    return gr.Number(label=slot.label, value=slot.value, minimum=spec.minimum, maximum=spec.maximum,
                     precision=0 if integer else None, elem_classes=slot.classes)


def dropdown(slot: InputSlot) -> Component:
    """Return a dropdown of the choices, each shown by its label in the page's language where it has one."""
    labels = slot.spec.choice_labels or {}
    # (shown, value) pairs: Gradio 6.19+ translates the shown names again when the language changes.
    choices = [(slot.text(f"in.{slot.spec.name}.choice.{c}"), c) if c in labels else (c, c)
               for c in slot.spec.choices or []]
    return gr.Dropdown(choices=choices, value=slot.value, label=slot.label, elem_classes=slot.classes)


def checkbox(slot: InputSlot) -> Component:
    """Return a checkbox."""
    return gr.Checkbox(value=bool(slot.value), label=slot.label, elem_classes=slot.classes)


def image_upload(slot: InputSlot) -> Component:
    """Return an image upload (file, webcam, clipboard) that hands over a path."""
    return gr.Image(type="filepath", label=slot.label, sources=["upload", "webcam", "clipboard"], value=slot.value,
                    elem_classes=slot.classes)


def audio_upload(slot: InputSlot) -> Component:
    """Return an audio upload or microphone recording that hands over a path."""
    return gr.Audio(type="filepath", label=slot.label, sources=["upload", "microphone"], value=slot.value,
                    elem_classes=slot.classes)


def file_upload(slot: InputSlot) -> Component:
    """Return a file upload limited to the manifest's `accept` extensions."""
    return gr.File(type="filepath", label=slot.label, file_types=slot.spec.accept, value=slot.value,
                   elem_classes=slot.classes)


INPUT_COMPONENTS: dict[str, Callable[[InputSlot], Component]] = {
    "text": text_box,
    "number": number_field,
    "integer": number_field,
    "choice": dropdown,
    "checkbox": checkbox,
    "image": image_upload,
    "audio": audio_upload,
    "file": file_upload,
    "series": text_box,
}

OUTPUT_COMPONENTS: dict[str, Callable[[OutputSlot], Component]] = {
    "text": lambda s: gr.Textbox(label=s.label, interactive=False, lines=4, buttons=["copy"], elem_classes=s.classes),
    "label": lambda s: gr.Label(label=s.label, num_top_classes=10, elem_classes=s.classes),
    # Without headers an empty table shows "1 2 3" until the first result arrives.
    "table": lambda s: gr.Dataframe(label=s.label, interactive=False, wrap=True, elem_classes=s.classes,
                                    headers=s.spec.column_names("en")),
    "highlight": lambda s: gr.HighlightedText(label=s.label, combine_adjacent=False, show_legend=True,
                                              elem_classes=s.classes),
    "plot": lambda s: gr.LinePlot(label=s.label, x="t", y="value", color="series", height=320, elem_classes=s.classes),
    "json": lambda s: gr.JSON(label=s.label, elem_classes=s.classes),
    "markdown": lambda s: gr.Markdown(label=s.label, elem_classes=s.classes),
    "image": lambda s: gr.Image(label=s.label, interactive=False, elem_classes=s.classes),
}


def input_component(demo_id: str, spec: InputSpec, i18n: gr.I18n, value: Any = None) -> Component:
    """Return the Gradio input component for one manifest input, holding `value` (else the manifest default)."""
    return INPUT_COMPONENTS[spec.type](Slot(demo_id, spec, i18n, spec.default if value is None else value))


def output_component(demo_id: str, spec: OutputSpec, i18n: gr.I18n) -> Component:
    """Return the Gradio component that renders one view of the result."""
    return OUTPUT_COMPONENTS[spec.type](Slot(demo_id, spec, i18n))
