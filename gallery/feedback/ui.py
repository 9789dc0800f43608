"""The "Was this useful? 👍 👎" control under a demo: rating, optional comment, optional input and output."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import gradio as gr

from gallery.feedback.store import (
    COMMENT_CHARS,
    IO_BYTES,
    Feedback,
    FeedbackError,
    FeedbackStore,
    FeedbackStoreError,
)

logger = logging.getLogger(__name__)


def _json_value(value: Any) -> Any:
    """Return a UI value fit for the feedback record: uploads become a size note, never a server path."""
    path = value.get("path") if isinstance(value, dict) else value
    if isinstance(path, str) and os.path.isabs(path) and os.path.isfile(path):
        return f"<file, {os.path.getsize(path):,} bytes>"
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, "to_dict"):  # a pandas DataFrame from a table component
        return _json_value(value.to_dict(orient="split"))
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return f"<{type(value).__name__}>"
    return value


def _bounded(value: Any) -> Any:
    """Return value, or a note in its place when it is larger than the stored limit."""
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return value if size <= IO_BYTES else {"omitted": f"{size:,} bytes as JSON, over the {IO_BYTES:,}-byte limit"}


def submission(rating: str, comment: str | None, include: bool, result: Any, names: list[str],
               values: tuple[Any, ...]) -> dict[str, Any]:
    """Return the feedback body the UI submits (input and output only when the user ticked the box)."""
    data: dict[str, Any] = {"rating": rating, "comment": (comment or "").strip()[:COMMENT_CHARS] or None}
    if include:
        data["include_io"] = True
        data["input"] = _bounded({name: _json_value(v) for name, v in zip(names, values)}) if names else None
        data["output"] = _bounded(_json_value(result)) if result not in (None, {}, "") else None
    return data


def feedback_control(store: FeedbackStore, demo_id: str, i18n: gr.I18n, inputs: list[Any] | None = None,
                     result: Any = None, names: list[str] | None = None) -> None:
    """Lay out the control in the current Blocks; `inputs` and `result` are offered when given."""
    offer_io = bool(inputs) or result is not None
    names = names or [getattr(c, "elem_id", None) or f"input_{i}" for i, c in enumerate(inputs or [])]
    with gr.Group(elem_classes=["om-feedback"]):
        gr.Markdown(f"**{i18n('feedback.question')}**")
        with gr.Row():
            up = gr.Button(i18n("feedback.up"), size="sm", elem_classes=["om-feedback-up"])
            down = gr.Button(i18n("feedback.down"), size="sm", elem_classes=["om-feedback-down"])
        comment = gr.Textbox(label=i18n("feedback.comment"), lines=2, max_length=COMMENT_CHARS,
                             elem_classes=["om-feedback-comment"])
        include = gr.Checkbox(label=i18n("feedback.include_io"), value=False, visible=offer_io,
                              elem_classes=["om-feedback-include"])
        thanks = gr.Markdown(i18n("feedback.thanks"), visible=False, elem_classes=["om-feedback-thanks"])
    extra = ([result] if result is not None else []) + list(inputs or [])

    def handler(rating: str) -> Callable[..., Any]:
        def submit(text: str | None, tick: bool, *values: Any) -> tuple[Any, Any]:
            output, given = (values[0], values[1:]) if result is not None else (None, values)
            data = submission(rating, text, bool(tick) and offer_io, output, names, given)
            try:
                store.add(Feedback.parse(demo_id, data, source="ui"))
            except FeedbackError as exc:
                raise gr.Error(str(exc), title="Feedback not saved / 反馈未保存") from None
            except FeedbackStoreError as exc:
                logger.error("demo %s: %s", demo_id, exc)
                raise gr.Error("Please try again later. / 请稍后再试。", title="Feedback not saved / 反馈未保存") from None
            return gr.Markdown(visible=True), gr.Textbox(value="")

        return submit

    for button, rating in ((up, "up"), (down, "down")):
        button.click(handler(rating), inputs=[comment, include, *extra], outputs=[thanks, comment],
                     api_visibility="private", queue=False)
