"""app.py: `predict(ctx, <inputs>)` is defined, and importing the module does no work (a static scan).

A demo whose manifest names an `app:` factory has no app.py: the check makes its app (no model loads) and reports
an unknown factory, bad options and a predict that does not match the inputs.

The gallery imports every demo's app.py at start-up. Anything that runs at import time (a model load, a
download, a file write, a `.launch()`) slows or breaks every start, so it must move into `predict` (or a
`ctx.resource` factory). The scan reads the code with `ast`; it never imports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from gallery.checks.base import APP_NAME, DemoFolder, Problem
from gallery.loader import DemoCodeError, code_from_factory

_MOVE = "move it into predict (or a ctx.resource factory) so it runs on first use"
# (what the last name of the call is, or its full dotted name) -> why it must not run at import.
_BY_ATTR = {
    "launch": "starts a server at import; the gallery serves the demo (try it with `gallery run --demo <id>`)",
    "from_pretrained": f"loads a model at import; declare it under `models:` and use ctx.model(name), or {_MOVE}",
    "pipeline": f"loads a model at import; declare it under `models:` and use ctx.model(name), or {_MOVE}",
    "InferenceSession": f"loads a model at import; {_MOVE}",
    "SentenceTransformer": "loads a model at import; declare it under `models:` and use ctx.model(name)",
    "hf_hub_download": "downloads at import (and the gallery runs offline); pin the model under `models:`",
    "snapshot_download": "downloads at import (and the gallery runs offline); pin the model under `models:`",
    "urlopen": "uses the network at import; the gallery runs offline",
    "urlretrieve": "uses the network at import; the gallery runs offline",
    "write_text": "writes a file at import; write under ctx.demo_cache_dir(), and only when predict runs",
    "write_bytes": "writes a file at import; write under ctx.demo_cache_dir(), and only when predict runs",
    "mkdir": "creates a folder at import; use ctx.demo_cache_dir() when predict runs",
    "makedirs": "creates a folder at import; use ctx.demo_cache_dir() when predict runs",
    "touch": "writes a file at import",
    "to_csv": "writes a file at import",
    "savez": "writes a file at import",
    "savetxt": "writes a file at import",
    "read_text": f"reads a file at import; {_MOVE}",
    "read_bytes": f"reads a file at import; {_MOVE}",
    "read_csv": f"reads a file at import; {_MOVE}",
    "read_excel": f"reads a file at import; {_MOVE}",
    "read_parquet": f"reads a file at import; {_MOVE}",
    "Blocks": "builds a Gradio UI at import; the gallery builds it from demo.yaml (or from your build(ui))",
    "Interface": "builds a Gradio UI at import; the gallery builds it from demo.yaml (or from your build(ui))",
    "ChatInterface": "builds a Gradio UI at import; the gallery builds it from demo.yaml (or from your build(ui))",
}
_BY_DOTTED = {
    "torch.load": f"loads weights at import; {_MOVE}",
    "torch.save": "writes a file at import",
    "joblib.load": f"loads a pickle at import; {_MOVE}",
    "pickle.load": f"loads a pickle at import; {_MOVE}",
    "np.load": f"reads a file at import; {_MOVE}",
    "numpy.load": f"reads a file at import; {_MOVE}",
    "np.save": "writes a file at import",
    "numpy.save": "writes a file at import",
    "json.load": f"reads a file at import; {_MOVE}",
    "json.dump": "writes a file at import",
    "yaml.dump": "writes a file at import",
    "shutil.copy": "copies files at import",
    "shutil.copyfile": "copies files at import",
    "shutil.copytree": "copies files at import",
    "shutil.rmtree": "deletes files at import",
    "shutil.move": "moves files at import",
    "os.remove": "deletes a file at import",
    "os.system": "runs a process at import",
    "os.popen": "runs a process at import",
    "time.sleep": "sleeps at import",
    "Image.open": f"reads a file at import; {_MOVE}",
    "PIL.Image.open": f"reads a file at import; {_MOVE}",
}
_NETWORK_MODULES = {"requests", "httpx", "aiohttp", "socket", "urllib", "http", "ftplib", "smtplib"}
_PROCESS_MODULES = {"subprocess"}
_WRITE_MODES = set("wax+")


def dotted_name(node: ast.expr) -> str | None:
    """Return `a.b.c` for a name or attribute chain, None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return "?." + ".".join(reversed(parts)) if parts else None


def _open_problem(call: ast.Call) -> str:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _WRITE_MODES & set(mode.value):
        return "writes a file at import; write under ctx.demo_cache_dir(), and only when predict runs"
    return f"opens a file at import; {_MOVE}"


def call_problem(call: ast.Call) -> str | None:
    """Return why this call must not run at import, or None when it is harmless."""
    name = dotted_name(call.func)
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if name == "open" or name.endswith(".open") and name.split(".")[0] in ("io", "?"):
        return _open_problem(call)
    if name in _BY_DOTTED:
        return _BY_DOTTED[name]
    first = name.split(".", 1)[0]
    if first in _NETWORK_MODULES and "." in name:
        return "uses the network at import; the gallery runs offline"
    if first in _PROCESS_MODULES:
        return "runs a process at import"
    return _BY_ATTR.get(last)


@dataclass(frozen=True)
class Finding:
    """A call that would run at import time."""

    line: int
    source: str
    reason: str
    via: str | None  # the module-level function it runs inside, when reached through a call


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


class ImportTimeScanner(ast.NodeVisitor):
    """Visit what runs when a module is imported, following calls into the module's own functions."""

    def __init__(self, module: ast.Module, text: str) -> None:
        self.text = text
        self.functions = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.findings: list[Finding] = []
        self._visited: set[str] = set()
        self._via: str | None = None

    def scan(self, module: ast.Module) -> list[Finding]:
        """Return every call that runs at import."""
        for statement in module.body:
            self.visit(statement)
        return self.findings

    def _function_header(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # Decorators and default values run when `def` runs; the body does not.
        for item in [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
            self.visit(item)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        self._function_header(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:  # noqa: N802
        self._function_header(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:  # noqa: N802
        for item in node.args.defaults:
            self.visit(item)

    def visit_If(self, node: ast.If) -> None:  # noqa: N802
        if _is_main_guard(node):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            self._follow(node.func.id)
        elif reason := call_problem(node):
            source = ast.get_source_segment(self.text, node) or dotted_name(node.func) or "call"
            self.findings.append(Finding(node.lineno, source.splitlines()[0][:80], reason, self._via))
        self.generic_visit(node)

    def _follow(self, name: str) -> None:
        if name in self._visited:
            return
        self._visited.add(name)
        outer, self._via = self._via, self._via or name
        for statement in self.functions[name].body:
            self.visit(statement)
        self._via = outer


def _signature_problems(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef, inputs: list[str] | None) -> list[Problem]:
    if isinstance(node, ast.AsyncFunctionDef):
        return [Problem(path, "predict", "must be a plain `def` (the gallery runs it in a worker thread), not async")]
    names = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    if not names or names[0] != "ctx":
        return [Problem(path, "predict", f"the first parameter must be `ctx`, got {names[:1]}")]
    if inputs is not None and names[1:] != inputs:
        return [Problem(path, "predict", f"parameters {names[1:]} must be the manifest's inputs in order: {inputs}")]
    return []


def _present_problems(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[Problem]:
    names = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    if names[2:3] != ["lang"]:
        return [Problem(path, "present", f"must be `present(result, inputs, lang)`, got ({', '.join(names)}): the "
                                         "visitor's language, 'en' or 'zh', picks the one language every text is in")]
    return []


def check(folder: DemoFolder) -> list[Problem]:
    """Report a missing app.py or predict, a predict whose parameters do not match the inputs, a present without
    `lang`, and import-time work; or, for an `app:` factory, what is wrong with it."""
    if folder.get("app") is not None:
        return _factory_problems(folder)
    path = folder.path / APP_NAME
    if not path.is_file():
        return [Problem(path, "(file)", "missing: every demo needs an app.py with predict(ctx, <inputs>), or an "
                                        "`app:` factory in demo.yaml")]
    try:
        text = path.read_text(encoding="utf-8")
        module = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return [Problem(path, f"line {exc.lineno}", f"syntax error: {exc.msg}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(path, "(file)", f"cannot be read as UTF-8 text: {exc}")]
    problems = []
    defs = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    imported = {alias.asname or alias.name for n in module.body if isinstance(n, ast.ImportFrom) for alias in n.names}
    if "predict" in defs:
        problems += _signature_problems(path, defs["predict"], folder.input_names())
    elif "predict" not in imported:
        problems.append(Problem(path, "predict", "not defined: write `def predict(ctx, <inputs>) -> dict` at the top "
                                                 "level of app.py"))
    if "present" in defs:
        problems += _present_problems(path, defs["present"])
    for finding in ImportTimeScanner(module, text).scan(module):
        via = f" (inside {finding.via}(), which runs at import)" if finding.via else ""
        reason = finding.reason.replace("<id>", folder.id)
        problems.append(Problem(path, f"line {finding.line}", f"`{finding.source}` {reason}{via}"))
    return problems


def _factory_problems(folder: DemoFolder) -> list[Problem]:
    """Report what stops the manifest's `app:` factory from making this demo (the schema check reports the rest)."""
    if folder.manifest is None:
        return []
    try:
        code_from_factory(folder.manifest, folder.path)
    except DemoCodeError as exc:
        message = str(exc).removeprefix(f"{folder.manifest_path}: ")
        field, sep, rest = message.partition(": ")
        if sep and field.startswith("app"):
            return [Problem(folder.manifest_path, field, rest)]
        return [Problem(folder.manifest_path, "app", message)]
    return []
