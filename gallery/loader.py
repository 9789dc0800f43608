"""Import a demo's `app.py` and check that its `predict` matches the manifest's inputs."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from gallery.discovery import DemoEntry

logger = logging.getLogger(__name__)

APP_NAME = "app.py"


class DemoCodeError(Exception):
    """A demo's code does not honour the demo contract."""


@dataclass(frozen=True)
class DemoCode:
    """The callables a demo folder provides."""

    module: ModuleType
    predict: Callable[..., dict[str, Any]]
    present: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]] | None
    build: Callable[..., Any] | None


def module_name(demo_id: str) -> str:
    """Return the private module name under which a demo's app.py is imported."""
    return "openmodels_demos." + demo_id.replace("/", ".").replace("-", "_")


def import_demo(entry: DemoEntry) -> DemoCode:
    """Import `app.py` of one demo and return its callables, raising on contract breaches."""
    app_path = entry.path / APP_NAME
    if not app_path.is_file():
        raise DemoCodeError(f"{app_path}: missing (every demo needs an app.py with predict)")
    name = module_name(entry.id)
    spec = importlib.util.spec_from_file_location(name, app_path)
    if spec is None or spec.loader is None:
        raise DemoCodeError(f"{app_path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    predict = getattr(module, "predict", None)
    if not callable(predict):
        raise DemoCodeError(f"{app_path}: predict: not defined")
    assert entry.manifest is not None
    check_predict_signature(predict, [spec.name for spec in entry.manifest.inputs], str(app_path))
    present = getattr(module, "present", None)
    build = getattr(module, "build", None)
    return DemoCode(
        module=module,
        predict=predict,
        present=with_language(present) if callable(present) else None,
        build=build if callable(build) else None,
    )


def with_language(present: Callable[..., dict[str, Any]]) -> Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]:
    """Return `present` as `present(result, inputs, lang)`; one written before `lang` existed ignores it."""
    try:
        params = list(inspect.signature(present).parameters.values())
    except (TypeError, ValueError):
        return present
    takes_lang = any(p.name == "lang" for p in params) or len(params) >= 3 or any(
        p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    if takes_lang:
        return present
    # An older two-argument present still renders (both languages at once); `gallery check` asks for `lang`.
    return lambda result, inputs, lang: present(result, inputs)


def check_predict_signature(predict: Callable[..., Any], input_names: list[str], where: str) -> None:
    """Require `predict(ctx, <inputs in manifest order>)`."""
    params = list(inspect.signature(predict).parameters.values())
    names = [p.name for p in params]
    if not names or names[0] != "ctx":
        raise DemoCodeError(f"{where}: predict: first parameter must be `ctx`, got {names[:1]}")
    if names[1:] != input_names:
        raise DemoCodeError(f"{where}: predict: parameters {names[1:]} do not match manifest inputs {input_names}")
