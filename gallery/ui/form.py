"""A demo's generated form: inputs holding its first example, Run, example buttons, and the rendered result.

Run is the demo's Gradio API endpoint and returns the JSON result; a chained private event renders it for
people through `present(result, inputs, lang)`, in the language the page's switch shows.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, Iterator

import gradio as gr

from gallery.discovery import DemoEntry
from gallery.errors import GalleryError, answer
from gallery.iotypes import output_type
from gallery.manifest import Manifest
from gallery.metrics import counted
from gallery.presentation import accept_language, language, render
from gallery.service import GalleryService
from gallery.ui.components import input_component, output_component
from gallery.ui.i18n import demo_key, text

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
# Example buttons keep their caption on one line and wrap as a row of chips; thumbnails stay small.
FORM_CSS = """
.om-examples { flex-wrap: wrap !important; gap: 6px !important; align-items: center; }
.om-examples > .om-example { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important;
  white-space: nowrap; }
.om-example img { width: 28px !important; height: 28px !important; object-fit: cover; border-radius: 4px; }
.om-ran { opacity: 0.8; }
/* Result tables hold sentences (answers, notes): Gradio sizes each column to its longest cell on one line in a
   monospace font, so a long column ran off the table's right edge. Let the columns share the width and wrap
   (on a phone a table wider than the screen scrolls sideways inside its own box). */
.om-out-table table { width: 100% !important; }
.om-out-table th, .om-out-table td { width: auto !important; min-width: 7em !important; max-width: none !important; }
.om-out-table td, .om-out-table td .cell-wrap { white-space: normal !important; overflow-wrap: break-word; }
.om-out-table *, .om-out-label * { font-family: var(--font) !important; }
/* The chart takes its block's height but starts below the block's label, so the legend under it stuck out of
   the block's bottom and was cut off: let it show, with room below it. */
.om-out-plot.block { overflow: visible !important; margin-bottom: 40px; }
"""


def run_for_ui(service: GalleryService, demo_id: str, raw: dict[str, Any], progress: Any = None,
               lang: str = "en") -> dict[str, Any]:
    """Run a demo for the UI and Gradio API; bad input and failures become readable gr.Error messages.

    Progress and error titles are in `lang`; the reasons stay as the service gives them (in English)."""
    try:
        with counted(service, demo_id, "ui"):
            if progress is not None and service.needs_load(demo_id):
                progress(0.05, desc=text("demo.loading_model", lang))
            inputs = service.decode(demo_id, raw, allow_paths=True)
            if progress is not None:
                progress(0.5, desc=text("demo.running", lang))
            return service.predict(demo_id, inputs)
    except GalleryError as exc:  # a refusal or a failure already logged where it happened: shown, not printed
        reply = answer(exc, demo_id, lang)
        raise gr.Error(reply.message, title=reply.title, print_exception=False) from None


def stream_for_ui(service: GalleryService, demo_id: str, raw: dict[str, Any], progress: Any = None,
                  lang: str = "en") -> Iterator[dict[str, Any]]:
    """Yield a streaming demo's growing results for the UI, errors becoming gr.Error messages as in run_for_ui."""
    try:
        with counted(service, demo_id, "ui"):
            if progress is not None and service.needs_load(demo_id):
                progress(0.05, desc=text("demo.loading_model", lang))
            inputs = service.decode(demo_id, raw, allow_paths=True)
            yield from service.stream(demo_id, inputs)
    except GalleryError as exc:
        reply = answer(exc, demo_id, lang)
        raise gr.Error(reply.message, title=reply.title, print_exception=False) from None


def request_language(request: gr.Request | None) -> str:
    """Return the page's language from its `om-lang` cookie (set before first paint), else from Accept-Language."""
    if request is None:
        return "en"
    cookies = getattr(request, "cookies", None) or {}
    return language(cookies.get("om-lang") or accept_language(request.headers.get("accept-language")))


def present_values(service: GalleryService, demo_id: str, result: dict[str, Any], raw: dict[str, Any],
                   lang: str = "en") -> list[Any]:
    """Map a JSON result onto the manifest's output views in `lang` (via the demo's `present` when it has one)."""
    manifest = service.entry(demo_id).manifest
    assert manifest is not None
    views = render(service.code[demo_id], demo_id, manifest, result, raw, lang)
    return [output_type(spec.type).ui_value(views.get(spec.name)) for spec in manifest.outputs]


def api_signature(manifest: Manifest) -> inspect.Signature:
    """Return a signature with one parameter per manifest input (plus Gradio's progress tracker)."""
    params = [
        inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=spec.default if spec.default is not None else inspect.Parameter.empty)
        for spec in manifest.inputs
    ]
    # Parameters with defaults cannot precede ones without; drop defaults before the last required input.
    last_required = max((i for i, p in enumerate(params) if p.default is inspect.Parameter.empty), default=-1)
    params = [p.replace(default=inspect.Parameter.empty) if i < last_required else p for i, p in enumerate(params)]
    # Gradio passes the request to a parameter typed gr.Request (run_demo's __annotations__) and keeps it out of the API.
    params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None))
    params.append(inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=gr.Progress()))
    return inspect.Signature(params)


def _example_buttons(service: GalleryService, entry: DemoEntry, manifest: Manifest,
                     i18n: gr.I18n) -> list[tuple[gr.Button, list[Any]]]:
    """Lay out one button per example: its caption (the manifest's, in the page's language) and a thumbnail."""
    buttons = []
    gr.Markdown(f"**{i18n('demo.examples')}**", elem_classes=["om-examples-title"])
    with gr.Row(elem_classes=["om-examples"]):
        for index in range(len(manifest.examples)):
            values = service.example_inputs(entry.id, index)
            caption = i18n(demo_key(entry.id, f"example.{index}"))  # the manifest's caption, or the example's text
            icon = next((v for s in manifest.inputs if s.type == "image"
                         and isinstance(v := values.get(s.name), str) and v.lower().endswith(IMAGE_SUFFIXES)), None)
            button = gr.Button(caption, icon=icon, size="sm", variant="secondary", min_width=0, scale=0,
                               elem_classes=["om-example", f"om-example-{index}"])
            buttons.append((button, [values.get(s.name) for s in manifest.inputs]))
    return buttons


def standard_ui(service: GalleryService, entry: DemoEntry, manifest: Manifest, i18n: gr.I18n,
                lang: gr.Radio) -> tuple[list[gr.components.Component], gr.JSON]:
    """Lay out the generated form and wire Run, the example buttons and the rendering; return inputs and JSON."""
    names = [spec.name for spec in manifest.inputs]
    first = service.example_inputs(entry.id, 0) if manifest.examples else {}
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            # The first example is in the form already, so Run with nothing typed shows what the demo does.
            inputs = [input_component(entry.id, spec, i18n, first.get(spec.name)) for spec in manifest.inputs]
            run = gr.Button(i18n("demo.run"), variant="primary", elem_classes=["om-run"])
            buttons = _example_buttons(service, entry, manifest, i18n) if manifest.examples else []
        with gr.Column(scale=1):
            views = [output_component(entry.id, spec, i18n) for spec in manifest.outputs]
            ran = gr.Markdown(elem_classes=["om-ran"])
    with gr.Accordion(i18n("demo.result_json"), open=False):
        raw_json = gr.JSON(label="JSON")
    run_info = gr.State(None)  # what ran and how long it took; a State is not part of the API's result
    demo_id = entry.id

    def run_demo(*values: Any, progress: gr.Progress = gr.Progress()) -> tuple[dict[str, Any], dict[str, Any]]:
        # Gradio puts the request after the inputs (the `request` parameter of the signature below).
        request = values[len(names)] if len(values) > len(names) else None
        return run_with_info(service, demo_id, dict(zip(names, values)), progress, request_language(request))

    def run_demo_live(*values: Any, progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, Any]]:
        # A streaming demo: Gradio sends each growing result to the page; gradio_client returns the last.
        request = values[len(names)] if len(values) > len(names) else None
        yield from stream_with_info(service, demo_id, dict(zip(names, values)), progress, request_language(request))

    streaming = service.streams(demo_id)
    runner: Callable[..., Any] = run_demo_live if streaming else run_demo
    # gradio_client maps keyword arguments by the function's parameter names: give it the input names.
    runner.__signature__ = api_signature(manifest)  # type: ignore[attr-defined]
    runner.__annotations__ = {"request": gr.Request}

    def show(result: dict[str, Any], info: dict[str, Any] | None, shown_lang: str | None, *values: Any) -> list[Any]:
        lang_code = language(shown_lang)
        return [*present_values(service, demo_id, result, dict(zip(names, values)), lang_code),
                ran_line(info, lang_code)]

    # No Gradio limit: every call goes straight to the service's admission (gallery/admission.py), which runs
    # the demo's concurrency, queues a bounded number and refuses the rest at once; Gradio's own queue would
    # hold them where admission cannot see, count or refuse them.
    # The progress (model loading, running) shows over the result views, not the collapsed JSON.
    event = run.click(runner, inputs=inputs, outputs=[raw_json, run_info], api_name=manifest.api_name,
                      concurrency_limit=None, concurrency_id=demo_id, show_progress="full", show_progress_on=views)
    event.success(show, inputs=[raw_json, run_info, lang, *inputs], outputs=[*views, ran],
                  api_visibility="private", queue=False)
    for button, example in buttons:
        # One click fills the form with the example and runs it, as Run would.
        filled = button.click(_constant(example), inputs=None, outputs=inputs, api_visibility="private", queue=False)
        ran_example = filled.then(runner, inputs=inputs, outputs=[raw_json, run_info], api_visibility="private",
                                  concurrency_limit=None, concurrency_id=demo_id, show_progress="full",
                                  show_progress_on=views)
        ran_example.success(show, inputs=[raw_json, run_info, lang, *inputs], outputs=[*views, ran],
                            api_visibility="private", queue=False)
    if streaming:
        # Each growing result lands in the JSON view: render it as it comes (the last one again on success,
        # with the line saying what ran). "always_last" drops renders that a faster stream has overtaken.
        raw_json.change(show, inputs=[raw_json, run_info, lang, *inputs], outputs=[*views, ran],
                        api_visibility="private", queue=False, trigger_mode="always_last", show_progress="hidden")
    tables = [(view, spec) for view, spec in zip(views, manifest.outputs) if output_type(spec.type).has_columns and spec.columns]
    if tables:
        # The page's language is known once it has loaded (the switch is set then): head the empty tables in it.
        # An empty table as the value: a headers-only update is not applied by the browser.
        def headed(shown: str | None) -> Any:
            empty = [{"headers": spec.column_names(language(shown)), "data": []} for _, spec in tables]
            return empty if len(empty) > 1 else empty[0]

        lang.change(headed, inputs=lang, outputs=[view for view, _ in tables], api_visibility="private", queue=False)
    return inputs, raw_json


def _constant(values: list[Any]) -> Callable[[], Any]:
    return lambda: values if len(values) > 1 else values[0]


def run_with_info(service: GalleryService, demo_id: str, raw: dict[str, Any], progress: Any = None,
                  lang: str = "en") -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a demo for the UI and return its result with what ran: the time, backend, variant and any model load."""
    cold = service.needs_load(demo_id)
    started = time.perf_counter()
    result = run_for_ui(service, demo_id, raw, progress, lang)
    return result, _ran(service, demo_id, cold, started)


def _ran(service: GalleryService, demo_id: str, cold: bool, started: float) -> dict[str, Any]:
    """Return what ran since `started`: the time less any model load, the backend and the variant."""
    seconds = time.perf_counter() - started
    status = service.status(demo_id)
    loads = [m.get("load_seconds") for m in status.models.values() if m.get("load_seconds")]
    load = sum(loads) if cold and loads else None
    return {"ms": (seconds - (load or 0.0)) * 1000, "backend": status.backend, "variant": status.variant,
            "load_s": load}


def stream_with_info(service: GalleryService, demo_id: str, raw: dict[str, Any], progress: Any = None,
                     lang: str = "en") -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Yield a streaming demo's growing results, the last with what ran (as run_with_info gives it)."""
    cold = service.needs_load(demo_id)
    started = time.perf_counter()
    result: dict[str, Any] | None = None
    for result in stream_for_ui(service, demo_id, raw, progress, lang):
        yield result, None  # no "what ran" line until the end
    assert result is not None  # the service yields at least one result or raises
    yield result, _ran(service, demo_id, cold, started)


# Product names, the same in both languages.
BACKEND_NAMES = {"onnxruntime-cpu": "ONNX Runtime CPU", "onnxruntime-cuda": "ONNX Runtime CUDA",
                 "onnxruntime-openvino": "ONNX Runtime OpenVINO", "openvino": "OpenVINO", "torch-cpu": "PyTorch CPU"}


def ran_line(info: dict[str, Any] | None, lang: str) -> str:
    """Return the line under a result that says what ran: "412 ms · ONNX Runtime CPU · int8" (and any load)."""
    if not info:
        return ""
    backend = info.get("backend")
    parts = [f"{info['ms']:.0f} ms" if info["ms"] >= 10 else f"{info['ms']:.1f} ms"]
    if backend:
        parts.append(BACKEND_NAMES.get(backend, backend))
    if info.get("variant"):
        parts.append(str(info["variant"]))
    line = " · ".join(parts)
    if info.get("load_s"):
        line += " · " + text("demo.first_run", lang).format(seconds=f"{info['load_s']:.1f}")
    return f"<small>{text('demo.ran', lang)}{'：' if lang == 'zh' else ': '}{line}</small>"
