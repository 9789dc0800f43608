"""One demo's panel: summary, the form (gallery/ui/form.py) or the demo's own `build`, link, API code, card."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from gallery.discovery import DemoEntry
from gallery.feedback.ui import feedback_control
from gallery.manifest import Manifest
from gallery.service import GalleryService
from gallery.snippets import Endpoints, demo_snippets
from gallery.ui.form import run_for_ui, standard_ui
from gallery.ui.i18n import demo_key

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


def build_panel(service: GalleryService, entry: DemoEntry, i18n: gr.I18n, lang: gr.Radio) -> PanelHandles | None:
    """Lay out one demo in the current Blocks; return its deep link and snippets (None when it is unavailable).

    `lang` is the page's language switch: its value picks the language results are rendered in."""
    if entry.id in service.code and service.status(entry.id).state != "unavailable":
        with gr.Column() as column:
            try:
                return _build_available(service, entry, i18n, lang)
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


def _build_available(service: GalleryService, entry: DemoEntry, i18n: gr.I18n, lang: gr.Radio) -> PanelHandles:
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
        inputs, raw_json = standard_ui(service, entry, manifest, i18n, lang)
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


