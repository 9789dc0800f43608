"""Code that calls one demo, for its "Use via API" accordion: curl, Python (requests, gradio_client), JavaScript
(fetch) and MCP client configurations, all generated here from the manifest and its first example.

Files are named by their base name (e.g. `summer-palace.jpg`): the snippet runs next to a copy of the demo's
example file. The server writes its own address into the code; the page replaces it with the address the
browser really used (root path, proxy, share link), see `fill_base_js`.
"""

from __future__ import annotations

import json
import mimetypes
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gallery.iotypes import FILE_TYPES, input_type
from gallery.manifest import Manifest

DEFAULT_BASE = "http://127.0.0.1:7860"
USER, PASSWORD, TOKEN = "USER", "PASSWORD", "TOKEN"  # placeholders, never the server's real credentials


@dataclass(frozen=True)
class Endpoints:
    """Where the gallery is served and how callers authenticate, as far as the server knows."""

    base_url: str = DEFAULT_BASE
    mcp: bool = True
    auth: Literal["basic", "bearer"] | None = None


@dataclass(frozen=True)
class Snippet:
    """One block of code in a tab of the "Use via API" accordion."""

    tab: str  # curl | requests | gradio_client | fetch | mcp
    title: str  # i18n key of the block's label (gallery/ui/i18n.py)
    language: str  # gr.Code language
    code: str


def example_request(manifest: Manifest) -> dict[str, Any]:
    """Return the inputs the snippets send: the first example (files by base name), else placeholders."""
    if manifest.examples:
        example = manifest.example_values(0)
    else:
        example = {s.name: input_type(s.type).placeholder(s) for s in manifest.inputs
                   if s.required and s.default is None}
    for spec in manifest.inputs:
        if spec.type in FILE_TYPES and isinstance(example.get(spec.name), str):
            example[spec.name] = Path(example[spec.name]).name
    return example


def example_files(manifest: Manifest, demo_dir: Path) -> dict[str, Path]:
    """Return the files the snippets name (base name -> the example file in the demo folder)."""
    files = {}
    for spec in manifest.inputs:
        value = manifest.examples[0].get(spec.name) if manifest.examples else None
        if spec.type in FILE_TYPES and isinstance(value, str):
            files[Path(value).name] = demo_dir / value
    return files


def _form_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _files(manifest: Manifest, request: dict[str, Any]) -> dict[str, str]:
    return {s.name: request[s.name] for s in manifest.inputs if s.type in FILE_TYPES and s.name in request}


def _printf_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "%%")


def _command(url: str, options: list[str], indent: str = "  ") -> str:
    return f" \\\n{indent}".join([f"curl -s {url}", *options])


def curl(manifest: Manifest, endpoints: Endpoints) -> str:
    """Return curl commands: JSON for text demos; a multipart upload and JSON with data URLs for file inputs."""
    url = f"{endpoints.base_url}/api/demos/{manifest.id}"
    request = example_request(manifest)
    files = _files(manifest, request)
    auth = {"basic": [f"-u {USER}:{PASSWORD}"], "bearer": [f"-H 'Authorization: Bearer {TOKEN}'"]}.get(
        endpoints.auth or "", [])
    as_json = ["-H 'content-type: application/json'"]
    if not files:
        return _command(url, [*auth, *as_json, f"-d {shlex.quote(json.dumps(request, ensure_ascii=False))}"])
    parts = [f"-F {shlex.quote(f'{name}=@{file}')}" for name, file in files.items()]
    # --form-string: a value starting with @ or < is text here, not a file to read.
    parts += [f"--form-string {shlex.quote(f'{k}={_form_value(v)}')}" for k, v in request.items() if k not in files]
    # The JSON body goes through a pipe: a data URL can be larger than one command-line argument may be.
    # printf reads backslashes and % in its format: JSON's own escapes must reach curl as written.
    fields = [_printf_literal(json.dumps(k)) + ": " + (f'"data:{_mime(v)};base64,%s"' if k in files else
                                                      _printf_literal(json.dumps(v, ensure_ascii=False)))
              for k, v in request.items()]
    template = "{" + ", ".join(fields) + "}"
    encoded = " ".join(f"\"$(base64 < {shlex.quote(f)} | tr -d '\\n')\"" for f in files.values())
    piped = f"printf {shlex.quote(template)} {encoded} |\n  " + _command(url, [*auth, *as_json, "-d @-"], "    ")
    return f"# multipart upload\n{_command(url, [*auth, *parts])}\n\n# or JSON, each file as a base64 data URL\n{piped}"


def _py(value: Any) -> str:
    return repr(value)


def python_requests(manifest: Manifest, endpoints: Endpoints) -> str:
    """Return a Python `requests` call (JSON, or multipart when the demo takes files); leaves `result`."""
    request = example_request(manifest)
    files = _files(manifest, request)
    auth = {"basic": f", auth=({USER!r}, {PASSWORD!r})",
            "bearer": f", headers={{'Authorization': 'Bearer {TOKEN}'}}"}.get(endpoints.auth or "", "")
    lines = ["import requests", "", f"url = {endpoints.base_url + '/api/demos/' + manifest.id!r}"]
    if not files:
        body = "".join(f"\n    {_py(k)}: {_py(v)}," for k, v in request.items())
        lines.append(f"response = requests.post(url, json={{{body}\n}}{auth}, timeout=600)")
    else:
        handles = ", ".join(f"open({_py(f)}, 'rb') as {k}_file" for k, f in files.items())
        data = ", ".join(f"{_py(k)}: {_py(_form_value(v))}" for k, v in request.items() if k not in files)
        upload = ", ".join(f"{_py(k)}: {k}_file" for k in files)
        lines += [f"with {handles}:", "    response = requests.post(", "        url,",
                  f"        files={{{upload}}},", f"        data={{{data}}},"]
        lines += [f"        {auth.removeprefix(', ')},"] if auth else []
        lines += ["        timeout=600,", "    )"]
    lines += ["response.raise_for_status()  # a 4xx says why in response.json()['detail']",
              "result = response.json()", "print(result)"]
    return "\n".join(lines)


def python_gradio_client(manifest: Manifest, endpoints: Endpoints) -> str:
    """Return a `gradio_client` call by the demo's api_name (every input given, files through handle_file)."""
    request = example_request(manifest)
    auth = {"basic": f", auth=({USER!r}, {PASSWORD!r})",
            "bearer": f", headers={{'Authorization': 'Bearer {TOKEN}'}}"}.get(endpoints.auth or "", "")
    arguments = []
    for spec in manifest.inputs:
        value = request.get(spec.name, spec.default)
        shown = f"handle_file({_py(value)})" if spec.type in FILE_TYPES and value is not None else _py(value)
        arguments.append(f"    {spec.name}={shown},")
    uses_files = any(s.type in FILE_TYPES for s in manifest.inputs)
    return "\n".join([
        "from gradio_client import Client" + (", handle_file" if uses_files else ""),
        "",
        f"client = Client({endpoints.base_url + '/'!r}{auth})",
        "result = client.predict(",
        *arguments,
        f"    api_name={'/' + manifest.api_name!r},",
        ")",
        "print(result)",
    ])


def javascript_fetch(manifest: Manifest, endpoints: Endpoints) -> str:
    """Return a `fetch` call for Node 18+ (an ES module) or a browser; JSON, or FormData for files."""
    url = f"{endpoints.base_url}/api/demos/{manifest.id}"
    request = example_request(manifest)
    files = _files(manifest, request)
    auth_value = {"basic": f'"Basic " + btoa("{USER}:{PASSWORD}")', "bearer": f'"Bearer {TOKEN}"'}.get(
        endpoints.auth or "")
    auth = f", authorization: {auth_value}" if auth_value else ""
    if not files:
        body = json.dumps(request, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        lines = ["// Node 18+ (save as call.mjs, run `node call.mjs`) or a browser's console",
                 f"const response = await fetch({json.dumps(url)}, {{",
                 '  method: "POST",',
                 f'  headers: {{ "content-type": "application/json"{auth} }},',
                 f"  body: JSON.stringify({body}),",
                 "});"]
    else:
        lines = ["// Node 18+: save as call.mjs, run `node call.mjs`. In a browser, append a file input's",
                 "// files[0] instead of reading the file.",
                 'import { readFile } from "node:fs/promises";', "",
                 "const form = new FormData();"]
        for name, file in files.items():
            lines.append(f"form.append({json.dumps(name)}, new Blob([await readFile({json.dumps(file)})]), "
                         f"{json.dumps(file)});")
        lines += [f"form.append({json.dumps(k)}, {json.dumps(_form_value(v), ensure_ascii=False)});"
                  for k, v in request.items() if k not in files]
        headers = f", headers: {{ {auth.removeprefix(', ')} }}" if auth else ""
        lines.append(f'const response = await fetch({json.dumps(url)}, {{ method: "POST", body: form{headers} }});')
    lines += ["const result = await response.json();  // on a 4xx: { detail: \"the reason\" }",
              "console.log(JSON.stringify(result, null, 2));"]
    return "\n".join(lines)


def mcp_configs(manifest: Manifest, endpoints: Endpoints) -> list[Snippet]:
    """Return MCP client configurations: VS Code and Claude Desktop over HTTP, and stdio on this machine."""
    name = f"openmodels-{manifest.sector}"
    url = f"{endpoints.base_url}/mcp/{manifest.sector}"
    header = {"basic": f"Basic <base64 of {USER}:{PASSWORD}>", "bearer": f"Bearer {TOKEN}"}.get(endpoints.auth or "")
    configs = []
    if endpoints.mcp:
        vscode: dict[str, Any] = {"type": "http", "url": url}
        remote = ["-y", "mcp-remote", url, "--allow-http"]
        if header:
            vscode["headers"] = {"Authorization": header}
            remote += ["--header", f"Authorization: {header}"]
        configs += [
            Snippet("mcp", "api.mcp.vscode", "json", json.dumps({"servers": {name: vscode}}, indent=2)),
            Snippet("mcp", "api.mcp.claude", "json",
                    json.dumps({"mcpServers": {name: {"command": "npx", "args": remote}}}, indent=2)),
        ]
    local = {"command": "gallery", "args": ["mcp", "--demo", manifest.id]}
    configs.append(Snippet("mcp", "api.mcp.stdio", "json", json.dumps({"mcpServers": {"openmodels": local}}, indent=2)))
    return configs


def demo_snippets(manifest: Manifest, endpoints: Endpoints | None = None) -> list[Snippet]:
    """Return every snippet of a demo's "Use via API" accordion, in tab order."""
    endpoints = endpoints or Endpoints()
    return [
        Snippet("curl", "api.curl", "shell", curl(manifest, endpoints)),
        Snippet("requests", "api.requests", "python", python_requests(manifest, endpoints)),
        Snippet("gradio_client", "api.gradio_client", "python", python_gradio_client(manifest, endpoints)),
        Snippet("fetch", "api.fetch", "javascript", javascript_fetch(manifest, endpoints)),
        *mcp_configs(manifest, endpoints),
    ]


def fill_base_js(guess: str) -> str:
    """Return JS defining `apiBase(id)` (the page's gallery URL) and `fillBase(code, base)` (swap in the real one).

    A standalone page lives at <root>/demo/<id>/, the gallery at <root>/: both give <origin><root>.
    """
    return (
        "const apiBase = (id) => { const u = new URL(window.location.href);"
        " const path = u.pathname.replace(new RegExp('demo/' + id + '/?$'), '').replace(/\\/+$/, '');"
        " return u.origin + path; };"
        f" const serverBase = {json.dumps(guess)};"
        " const fillBase = (code, base) => (typeof code !== 'string' || base === serverBase"
        " || (base.startsWith(serverBase) && code.includes(base))) ? code : code.split(serverBase).join(base);"
    )
