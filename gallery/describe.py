"""What every front end says about a demo: request and result schemas, an example request, `describe` and `display`.

The JSON API (OpenAPI and `/api/demos`), the MCP server (tool schemas), the CLI (`gallery list`) and the UI
read them here, so a demo is described the same way everywhere; each input's and output's part comes from
its type (`gallery/iotypes/`).
"""

from __future__ import annotations

from typing import Any

from gallery.discovery import DemoEntry
from gallery.iotypes import JsonSchema, input_type, output_type
from gallery.limits import LIMITS, Limits
from gallery.manifest import InputSpec, Manifest
from gallery.presentation import LANGS, language, people_text, render
from gallery.service import GalleryService


def input_schema(spec: InputSpec, limits: Limits = LIMITS, local_paths: bool = False) -> JsonSchema:
    """Return the JSON schema of one input as the API (and MCP, with `local_paths` over stdio) accepts it."""
    schema = input_type(spec.type).json_schema(spec, limits, local_paths)
    schema["title"] = spec.label.en
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def request_schema(manifest: Manifest, limits: Limits = LIMITS, local_paths: bool = False) -> JsonSchema:
    """Return the JSON schema of a demo's inputs: the JSON API's request body and the MCP tool's input schema."""
    required = [s.name for s in manifest.inputs if s.required and s.default is None]
    return {
        "type": "object",
        "properties": {s.name: input_schema(s, limits, local_paths) for s in manifest.inputs},
        "required": required,
        "additionalProperties": False,
    }


def multipart_schema(manifest: Manifest, limits: Limits = LIMITS) -> JsonSchema:
    """Return the multipart form's schema: the JSON schema with each field as a form sends it (uploads binary)."""
    schema = request_schema(manifest, limits)
    for spec in manifest.inputs:
        field = input_type(spec.type).form_schema(spec, limits)
        schema["properties"][spec.name] = {**field, "title": spec.label.en}
        if spec.default is not None and not input_type(spec.type).is_file:
            schema["properties"][spec.name]["default"] = spec.default
    return schema


def result_description(manifest: Manifest) -> str:
    """Return what a demo's JSON result holds, in words, from the manifest's output views."""
    views = "; ".join(f"{o.label.en} ({o.type})" for o in manifest.outputs)
    return (f"The demo's result as a JSON object, the same through the JSON API, gradio_client and MCP. "
            f"The gallery shows it as: {views}. Ask for a language (`?lang=en` or `zh`, or an Accept-Language "
            "header) and the result adds `display`: `{lang, views}`, the text views as the page shows them.")


def display_schema(manifest: Manifest) -> JsonSchema:
    """Return the schema of the JSON API's `display`: the language and each text view, by its output type."""
    views = {o.name: {**schema, "title": o.label.en} for o in manifest.outputs
             if (schema := output_type(o.type).view_schema()) is not None}
    return {"type": "object", "description": "The text views as the page shows them, in one language (only "
                                             "when the request asks for a language).",
            "properties": {"lang": {"type": "string", "enum": list(LANGS)},
                           "views": {"type": "object", "properties": views}},
            "required": ["lang", "views"]}


def result_schema(manifest: Manifest, with_display: bool = False) -> JsonSchema:
    """Return the JSON schema of a demo's result (an object; its fields are the demo's own).

    `with_display` adds the JSON API's `display` (MCP results never carry it)."""
    schema: JsonSchema = {"type": "object", "title": f"{manifest.title.en}: result", "additionalProperties": True,
                          "description": result_description(manifest)}
    if with_display:
        schema["properties"] = {"display": display_schema(manifest)}
    return schema


def request_example(manifest: Manifest) -> dict[str, Any] | None:
    """Return the first manifest example as a JSON request, each file shown as a data URL to fill in."""
    if not manifest.examples:
        return None
    example = manifest.example_values(0)
    for spec in manifest.inputs:
        if spec.name in example:
            example[spec.name] = input_type(spec.type).example_request(spec, example[spec.name])
    return example


def describe(service: GalleryService, entry: DemoEntry, full: bool) -> dict[str, Any]:
    """Return a demo's public description: summary fields, status, and with `full` its manifest."""
    status = service.status(entry.id)
    data: dict[str, Any] = {
        "id": entry.id,
        "sector": entry.sector,
        "status": status.state,
        "reason": status.reason,
        "backend": status.backend,
        "variant": status.variant,
        "queue": service.admission.state(entry.id, service.engine.concurrency(entry.manifest)).as_dict(),  # waiting + running
        "usage": service.usage.get(entry.id).as_dict(),  # since start: requests, runs, median run time
        "url": f"/?demo={entry.id}",
        "api": f"/api/demos/{entry.id}",
    }
    manifest = entry.manifest
    if manifest is not None:
        data.update(
            title=manifest.title.model_dump(),
            summary=manifest.summary.model_dump(),
            task=manifest.task,
            languages=list(manifest.languages),
            icon=manifest.icon,
            featured=manifest.featured,
            license=manifest.license,
            models={n: {"task": s.task, "licence": s.licence} for n, s in manifest.models.items()},
            api_name=manifest.api_name,
        )
        if full:
            data["manifest"] = manifest.model_dump(mode="json")
            data["models_status"] = status.models
            data["request_schema"] = request_schema(manifest, service.limits)
    if entry.error and full:
        data["path"] = str(entry.path)
    return data


def display(service: GalleryService, demo_id: str, result: dict[str, Any], raw: dict[str, Any],
            lang: str) -> dict[str, Any]:
    """Return the JSON API's `display`: the text views the page shows for this result, in `lang`."""
    manifest = service.entry(demo_id).manifest
    assert manifest is not None
    # present() reads the inputs as the page would give them (pasted notes, a series); an upload gets None.
    inputs = {s.name: input_type(s.type).for_present(s, raw.get(s.name)) for s in manifest.inputs}
    views = render(service.code[demo_id], demo_id, manifest, result, inputs, language(lang))
    return people_text(manifest, views, lang)
