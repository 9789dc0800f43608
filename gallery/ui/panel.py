"""One demo's panel: the standard UI generated from its manifest (or the demo's own `build`)."""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from gallery.discovery import DemoEntry
from gallery.errors import Busy, InputError, ModelUnavailableError
from gallery.feedback.ui import feedback_control
from gallery.logconfig import log_failure
from gallery.manifest import InputSpec, Manifest, OutputSpec
from gallery.metrics import counted
from gallery.service import DemoFailure, DemoUnavailable, GalleryService
from gallery.snippets import Endpoints, demo_snippets
from gallery.ui.i18n import demo_key, text

logger = logging.getLogger(__name__)


@dataclass
class PanelHandles:
    """What the page fills in on load for an available demo: its deep link and its API snippets."""

    link: gr.Textbox
    snippets: list[gr.Code]


@dataclass
class PanelContext:
    """What a demo's custom `build(ui)` receives to lay out its own UI inside the gallery."""

    service: GalleryService
    demo_id: str
    manifest: Manifest
    i18n: gr.I18n
    api_name: str
    feedback_placed: bool = False

    def run(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Run the demo from UI values, turning failures into messages shown in the page."""
        return run_for_ui(self.service, self.demo_id, raw)

    def label(self, part: str) -> Any:
        """Return the translated label of a per-demo string (`title`, `in.<name>`, `out.<name>`)."""
        return self.i18n(demo_key(self.demo_id, part))

    def feedback(self, inputs: list[Any] | None = None, result: Any = None) -> None:
        """Place the "Was this useful?" control here, offering to include these inputs and result component."""
        self.feedback_placed = True
        if self.service.feedback is not None:
            feedback_control(self.service.feedback, self.demo_id, self.i18n, inputs, result)


def run_for_ui(service: GalleryService, demo_id: str, raw: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """Run a demo for the UI and Gradio API; bad input and failures become readable gr.Error messages."""
    try:
        with counted(service, demo_id, "ui"):
            if progress is not None and service.needs_load(demo_id):
                progress(0.05, desc="Loading model (first use)… / 正在加载模型（首次使用）…")
            inputs = service.decode(demo_id, raw, allow_paths=True)
            if progress is not None:
                progress(0.5, desc="Running… / 运行中…")
            return service.predict(demo_id, inputs)
    except Busy as exc:  # the JSON API's 503 reason, then the same in Chinese; a refusal, not a failure to log
        retry = text("demo.busy.retry", "zh").format(seconds=exc.retry_after)
        raise gr.Error(f"{exc} / {retry}", title=f"{text('demo.busy', 'en')} / {text('demo.busy', 'zh')}",
                       print_exception=False) from None
    except InputError as exc:
        raise gr.Error(exc.message, title="Invalid input / 输入无效") from None
    except (DemoUnavailable, ModelUnavailableError) as exc:
        raise gr.Error(str(exc), title="Demo unavailable / 演示不可用") from None
    except DemoFailure as exc:
        raise gr.Error(str(exc), title="Demo error / 演示出错") from None


def input_component(demo_id: str, spec: InputSpec, i18n: gr.I18n) -> gr.components.Component:
    """Return the Gradio input component for one manifest input."""
    label = i18n(demo_key(demo_id, f"in.{spec.name}"))
    classes = ["om-input", f"om-in-{spec.type}", f"om-in-name-{spec.name}"]
    if spec.type == "text":
        return gr.Textbox(label=label, lines=spec.lines, max_lines=max(spec.lines, 20), value=spec.default,
                          elem_classes=classes)
    if spec.type in ("number", "integer"):
        integer = spec.type == "integer"
        if spec.minimum is not None and spec.maximum is not None and (spec.maximum - spec.minimum) <= 400:
            return gr.Slider(minimum=spec.minimum, maximum=spec.maximum, value=spec.default,
                             step=spec.step or (1 if integer else None), label=label, elem_classes=classes)
        return gr.Number(label=label, value=spec.default, minimum=spec.minimum, maximum=spec.maximum,
                         precision=0 if integer else None, elem_classes=classes)
    if spec.type == "choice":
        # (shown, value) pairs: Gradio 6.19+ translates the shown names again when the language changes.
        labels = spec.choice_labels or {}
        choices = [(i18n(demo_key(demo_id, f"in.{spec.name}.choice.{c}")), c) if c in labels else (c, c)
                   for c in spec.choices or []]
        return gr.Dropdown(choices=choices, value=spec.default, label=label, elem_classes=classes)
    if spec.type == "checkbox":
        return gr.Checkbox(value=bool(spec.default), label=label, elem_classes=classes)
    if spec.type == "image":
        return gr.Image(type="filepath", label=label, sources=["upload", "webcam", "clipboard"], elem_classes=classes)
    if spec.type == "audio":
        return gr.Audio(type="filepath", label=label, sources=["upload", "microphone"], elem_classes=classes)
    return gr.File(type="filepath", label=label, file_types=spec.accept, elem_classes=classes)


def output_component(demo_id: str, spec: OutputSpec, i18n: gr.I18n) -> gr.components.Component:
    """Return the Gradio component that renders one view of the result."""
    label = i18n(demo_key(demo_id, f"out.{spec.name}"))
    classes = ["om-output", f"om-out-{spec.type}"]
    factories: dict[str, Callable[[], gr.components.Component]] = {
        "text": lambda: gr.Textbox(label=label, interactive=False, lines=4, buttons=["copy"], elem_classes=classes),
        "label": lambda: gr.Label(label=label, num_top_classes=10, elem_classes=classes),
        # Without headers an empty table shows "1 2 3" until the first result arrives.
        "table": lambda: gr.Dataframe(label=label, interactive=False, wrap=True, elem_classes=classes,
                                      headers=spec.columns),
        "highlight": lambda: gr.HighlightedText(label=label, combine_adjacent=False, show_legend=True,
                                                elem_classes=classes),
        "plot": lambda: gr.LinePlot(label=label, x="t", y="value", color="series", height=320, elem_classes=classes),
        "json": lambda: gr.JSON(label=label, elem_classes=classes),
        "markdown": lambda: gr.Markdown(label=label, elem_classes=classes),
        "image": lambda: gr.Image(label=label, interactive=False, elem_classes=classes),
    }
    return factories[spec.type]()


def present_values(service: GalleryService, demo_id: str, result: dict[str, Any], raw: dict[str, Any]) -> list[Any]:
    """Map a JSON result onto the manifest's output views (via the demo's `present` when it has one)."""
    manifest = service.entry(demo_id).manifest
    assert manifest is not None
    code = service.code[demo_id]
    if code.present is not None:
        try:
            views = code.present(result, raw)
        # A bug in a demo's renderer must not hide the result: fall back to the raw fields.
        except Exception as exc:  # noqa: BLE001
            log_failure(logger, demo_id, "present failed", exc)
            views = result
    else:
        views = result
    values = []
    for spec in manifest.outputs:
        value = views.get(spec.name)
        if spec.type in ("text", "markdown") and value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, indent=2)
        values.append(value)
    return values


def build_panel(service: GalleryService, entry: DemoEntry, i18n: gr.I18n) -> PanelHandles | None:
    """Lay out one demo in the current Blocks; return its deep link and snippets (None when it is unavailable)."""
    if entry.id in service.code and service.status(entry.id).state != "unavailable":
        with gr.Column() as column:
            try:
                return _build_available(service, entry, i18n)
            # A contributed demo's UI code may raise anything; it must only take itself down.
            except Exception as exc:  # noqa: BLE001
                service.fail(entry.id, "build", f"{type(exc).__name__}: {exc}")
                column.visible = False
    _unavailable_notice(service, entry, i18n)
    return None


def _unavailable_notice(service: GalleryService, entry: DemoEntry, i18n: gr.I18n) -> None:
    status = service.status(entry.id)
    gr.Markdown(f"### ⚠️ {i18n('demo.unavailable')}")
    gr.Markdown(f"`{entry.path}`\n\n```\n{status.reason}\n```", elem_classes=["om-reason"])


def _build_available(service: GalleryService, entry: DemoEntry, i18n: gr.I18n) -> PanelHandles:
    manifest = entry.manifest
    assert manifest is not None
    gr.Markdown(i18n(demo_key(entry.id, "summary")))
    if manifest.disclaimer is not None:
        gr.Markdown(i18n(demo_key(entry.id, "disclaimer")), elem_classes=["om-disclaimer"])
    code = service.code[entry.id]
    if code.build is not None:
        context = PanelContext(service, entry.id, manifest, i18n, manifest.api_name)
        code.build(context)
        if not context.feedback_placed:  # a custom UI that did not place it still gets a rating control
            context.feedback()
    else:
        inputs, raw_json = _standard_ui(service, entry, manifest, i18n)
        if service.feedback is not None:
            feedback_control(service.feedback, entry.id, i18n, inputs, raw_json, [s.name for s in manifest.inputs])
    with gr.Row():
        link = gr.Textbox(value=f"?demo={entry.id}", label=i18n("demo.link"), interactive=False,
                          buttons=["copy"], elem_classes=["om-deeplink"], scale=4)
        copy = gr.Button(i18n("demo.copy_link"), size="sm", scale=1, elem_classes=["om-copy-link"])
    copy.click(fn=None, inputs=None, outputs=link, js=_copy_link_js(entry.id), api_visibility="private")
    gr.HTML(f'<a href="demo/{entry.id}/" target="_blank" rel="noopener" class="om-standalone">'
            f'{i18n("demo.standalone")} ↗</a>')
    snippets = _api_accordion(service, entry.id, manifest, i18n)
    readme = entry.path / "README.md"
    if readme.is_file():
        with gr.Accordion(i18n("demo.model_card"), open=False):
            gr.Markdown(readme.read_text(encoding="utf-8"))
    return PanelHandles(link, snippets)


def _api_accordion(service: GalleryService, demo_id: str, manifest: Manifest, i18n: gr.I18n) -> list[gr.Code]:
    """Lay out the collapsed "Use via API" accordion: one tab per client, code from gallery/snippets.py."""
    snippets = demo_snippets(manifest, service.endpoints or Endpoints())
    codes = []
    with gr.Accordion(i18n("demo.api"), open=False, elem_classes=["om-api"]):
        gr.Markdown(i18n("api.intro"))
        with gr.Tabs():
            for tab in dict.fromkeys(s.tab for s in snippets):
                with gr.Tab(i18n(f"api.tab.{tab}"), id=f"api-{tab}",
                            elem_classes=["om-api-tab", f"om-api-tab-{tab}"]):
                    if tab == "mcp":
                        gr.Markdown(i18n(demo_key(demo_id, "api.tool")))
                    codes += [gr.Code(value=s.code, language=s.language, label=i18n(s.title), interactive=False,
                                      elem_classes=["om-snippet", f"om-snippet-{tab}"])
                              for s in snippets if s.tab == tab]
    return codes


def _signature(manifest: Manifest) -> inspect.Signature:
    """Return a signature with one parameter per manifest input (plus Gradio's progress tracker)."""
    params = [
        inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=spec.default if spec.default is not None else inspect.Parameter.empty)
        for spec in manifest.inputs
    ]
    # Parameters with defaults cannot precede ones without; drop defaults before the last required input.
    last_required = max((i for i, p in enumerate(params) if p.default is inspect.Parameter.empty), default=-1)
    params = [p.replace(default=inspect.Parameter.empty) if i < last_required else p for i, p in enumerate(params)]
    params.append(inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=gr.Progress()))
    return inspect.Signature(params)


# A standalone page lives at <root>/demo/<id>/; the deep link always points at the gallery page <root>/.
GALLERY_URL_JS = (
    "const galleryUrl = (id) => { const u = new URL(window.location.href); u.hash = '';"
    " u.pathname = u.pathname.replace(new RegExp('demo/' + id + '/?$'), ''); u.search = '?demo=' + id;"
    " return u.href; };"
)


def _copy_link_js(demo_id: str) -> str:
    return (
        f"() => {{ {GALLERY_URL_JS} const link = galleryUrl({json.dumps(demo_id)});"
        " if (navigator.clipboard) { navigator.clipboard.writeText(link).catch(() => {}); }"
        " return link; }"
    )


def _standard_ui(service: GalleryService, entry: DemoEntry, manifest: Manifest,
                 i18n: gr.I18n) -> tuple[list[gr.components.Component], gr.JSON]:
    names = [spec.name for spec in manifest.inputs]
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            inputs = [input_component(entry.id, spec, i18n) for spec in manifest.inputs]
            run = gr.Button(i18n("demo.run"), variant="primary", elem_classes=["om-run"])
        with gr.Column(scale=1):
            views = [output_component(entry.id, spec, i18n) for spec in manifest.outputs]
    with gr.Accordion(i18n("demo.result_json"), open=False):
        raw_json = gr.JSON(label="JSON")
    if manifest.examples:
        rows = [[service.example_inputs(entry.id, i).get(n) for n in names] for i in range(len(manifest.examples))]
        examples = gr.Examples(examples=rows, inputs=inputs, label=i18n("demo.examples"), cache_examples=False)
        # The examples table does not translate I18n keys in its column headers: show both languages.
        labels = {id(c): f"{spec.label.en} / {spec.label.zh}" for c, spec in zip(inputs, manifest.inputs)}
        examples.dataset.headers = [labels.get(id(c), "") for c in examples.dataset._components]
        # Nor does it translate a choice's display name (it would print the I18n key): it shows the value.
        for props in examples.dataset.component_props:
            if isinstance(props.get("choices"), list):
                props["choices"] = [(value, value) for _, value in props["choices"]]
    demo_id = entry.id

    def run_demo(*values: Any, progress: gr.Progress = gr.Progress()) -> dict[str, Any]:
        return run_for_ui(service, demo_id, dict(zip(names, values)), progress)

    # gradio_client maps keyword arguments by the function's parameter names: give it the input names.
    run_demo.__signature__ = _signature(manifest)  # type: ignore[attr-defined]

    def show(result: dict[str, Any], *values: Any) -> Any:
        rendered = present_values(service, demo_id, result, dict(zip(names, values)))
        # Gradio expects a bare value, not a one-item list, when an event has a single output.
        return rendered[0] if len(rendered) == 1 else rendered

    # No Gradio limit: every call goes straight to the service's admission (gallery/admission.py), which runs
    # the demo's concurrency, queues a bounded number and refuses the rest at once; Gradio's own queue would
    # hold them where admission cannot see, count or refuse them.
    event = run.click(run_demo, inputs=inputs, outputs=raw_json, api_name=manifest.api_name,
                      concurrency_limit=None, concurrency_id=demo_id, show_progress="full")
    event.success(show, inputs=[raw_json, *inputs], outputs=views, api_visibility="private", queue=False)
    return inputs, raw_json
