"""Libraries of custom ONNX Runtime operators that a shipped graph may need (e.g. a tokenizer inside the graph).

A manifest names the library in the `onnx` task's `custom_ops` option; the session registers it before opening the
graph. A library that is not installed makes the model unavailable with the pip command that fixes it, never a
bare ONNX Runtime error about an unknown operator.
"""

from __future__ import annotations

import importlib

from gallery.runtime.sources import SourceUnavailable

# Library name (as manifests write it) -> (import module, pip distribution).
LIBRARIES: dict[str, tuple[str, str]] = {
    "onnxruntime-extensions": ("onnxruntime_extensions", "onnxruntime-extensions"),
}


class CustomOpsUnavailable(SourceUnavailable):
    """The operator library a model needs is not installed (a missing source: installing it later fixes the model)."""


def missing(name: str) -> str | None:
    """Return why the library cannot be used here, or None when it can."""
    module, dist = LIBRARIES[name]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"its graph needs the custom operators of {name}, which is not installed ({exc}); pip install {dist}"
    return None


def library_path(name: str) -> str:
    """Return the shared library to register in ONNX Runtime's session options; raise CustomOpsUnavailable."""
    reason = missing(name)
    if reason:
        raise CustomOpsUnavailable(reason)
    module = importlib.import_module(LIBRARIES[name][0])
    return str(module.get_library_path())
