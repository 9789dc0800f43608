"""{{title}}: a few-shot classifier (a small head on sentence embeddings) trained from examples.csv."""

from __future__ import annotations

from typing import Any

from gallery.context import DemoContext
from gallery.errors import InputError
from shared.fewshot import classify_demo, present_classification
from shared.text import require_english

# Nothing runs at import time: the gallery imports every app.py when it starts. The model loads, and the
# classifier head trains (then is cached), the first time predict runs.


# The Chinese name of each label in examples.csv (the English name is the label in words).
LABELS_ZH = {
    "complaint": "投诉",
    "praise": "表扬",
    "question": "提问",
    "suggestion": "建议",
}


def predict(ctx: DemoContext, text: str) -> dict[str, Any]:
    """Return the category of the text, its confidence and every category's probability.

    The parameters after `ctx` are the manifest's inputs, in order, already checked against demo.yaml
    (a required text is never empty here). Raise InputError for anything else wrong with the input:
    the user sees the message. Return a JSON-serialisable dict: the UI, the Gradio API and the JSON API
    all show this same result.
    """
    require_english(text, "text")
    if len(text.split()) < 2:
        raise InputError("write at least a few words", "text")
    return classify_demo(ctx, text, label_field="label", input_name="text")


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Map the result onto the manifest's outputs: the `label` output shows every category's probability.

    `lang` is the visitor's language, "en" or "zh": every text you return for people (sentences, table
    headers, notes) must be in that one language. The JSON result of predict stays language-neutral.
    """
    return present_classification(result, "label", lang, LABELS_ZH)


# Optional: lay out your own UI instead of the one generated from demo.yaml. Uncomment and adapt;
# `ui.run(raw_inputs)` validates the inputs and calls predict, `ui.label(...)` gives translated labels.
#
# def build(ui: Any) -> None:
#     """Lay out the demo's own Gradio UI inside the gallery tab."""
#     import gradio as gr
#
#     text = gr.Textbox(label=ui.label("in.text"), lines=3)
#     out = gr.Label(label=ui.label("out.label"))
#     gr.Button("Classify").click(lambda t: ui.run({"text": t})["scores"], text, out, api_name=ui.api_name)
