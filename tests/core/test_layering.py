"""The layering ARCHITECTURE.md describes, checked on the code: each rule names both modules when it breaks.

- the core (`gallery/`) never imports the demos' helpers (`shared/`), which sit above it;
- the model runtime imports no front end (UI, JSON API, MCP, server, CLI);
- no module imports another's private names;
- no import cycles between gallery modules, counting imports inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

FRONT_ENDS = ("gallery.ui", "gallery.api", "gallery.server", "gallery.cli", "gallery.mcp_server", "gallery.snippets",
              "gallery.feedback.api", "gallery.feedback.ui", "gallery.operations", "gallery.shutdown",
              "gallery.security", "gallery.auth", "gallery.ratelimit", "gallery.devserver", "gallery.__main__",
              "gallery.frontends")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "gallery").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Return every module or `module.name` imported anywhere in the file, relative imports resolved."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports under `if TYPE_CHECKING:` exist for the type checker only: they never run, so they make no cycle.
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                   for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _gallery_targets(imported: set[str]) -> set[str]:
    """Return the gallery modules an import set reaches (`from a import b` reaches a, and a.b if a module)."""
    return {name for name in imported if name in MODULES}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_core_never_imports_the_demos_helpers() -> None:
    broken = [f"{name} imports {target}" for name, targets in IMPORTS.items() for target in sorted(targets)
              if _within(target, ("shared",))]
    assert not broken, broken


def test_the_runtime_imports_no_front_end() -> None:
    broken = [f"{name} imports {target}" for name, targets in IMPORTS.items() if name.startswith("gallery.runtime")
              for target in sorted(targets) if _within(target, FRONT_ENDS)]
    assert not broken, broken


def test_no_module_imports_another_modules_private_names() -> None:
    broken = [f"{name} imports {target}" for name, targets in IMPORTS.items() for target in sorted(targets)
              if target.startswith("gallery.") and target.rsplit(".", 1)[-1].startswith("_")
              and not target.rsplit(".", 1)[-1].startswith("__") and target.rsplit(".", 1)[0] != name]
    assert not broken, broken


def test_no_import_cycles() -> None:
    graph = {name: _gallery_targets(targets) - {name} for name, targets in IMPORTS.items()}
    # A package's __init__ is imported on the way to any of its modules: that edge is not a cycle of ours.
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, [" -> ".join(cycle) for cycle in cycles]


def test_the_rules_see_real_imports() -> None:
    """Guard the checker itself: it must find imports the code is known to make, inside functions too."""
    assert "gallery.runtime.registry" in IMPORTS["gallery.service"] or any(
        t.startswith("gallery.runtime.registry") for t in IMPORTS["gallery.service"])
    assert any(t.startswith("gallery.runtime.whisper_onnx") for t in IMPORTS["gallery.runtime.asr"])
    assert len(MODULES) > 40
