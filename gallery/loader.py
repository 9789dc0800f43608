"""Import a demo's code (its `app.py`, or the factory its manifest names) and check `predict` against the inputs."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from gallery.discovery import DemoEntry
from gallery.manifest import MANIFEST_NAME, AppSpec, Manifest, problems_from_validation

logger = logging.getLogger(__name__)

APP_NAME = "app.py"


class DemoCodeError(Exception):
    """A demo's code does not honour the demo contract."""


@dataclass(frozen=True)
class DemoCode:
    """The callables a demo folder provides; `module` holds them (app.py's module, or the factory's app)."""

    module: Any
    predict: Callable[..., dict[str, Any]]
    present: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]] | None
    build: Callable[..., Any] | None
    # Optional `stream(ctx, <inputs>)`: a generator of the growing result, its last yield equal to predict's.
    stream: Callable[..., Iterator[dict[str, Any]]] | None = None


def module_name(demo_id: str) -> str:
    """Return the private module name under which a demo's app.py is imported."""
    return "openmodels_demos." + demo_id.replace("/", ".").replace("-", "_")


def import_demo(entry: DemoEntry) -> DemoCode:
    """Return one demo's callables from its app.py or its manifest's `app:` factory, raising on contract breaches."""
    assert entry.manifest is not None
    if entry.manifest.app is not None:
        return code_from_factory(entry.manifest, entry.path)
    app_path = entry.path / APP_NAME
    if not app_path.is_file():
        raise DemoCodeError(f"{app_path}: missing (every demo needs an app.py with predict, or an `app:` "
                            "factory in demo.yaml)")
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
    check_predict_signature(predict, [spec.name for spec in entry.manifest.inputs], str(app_path))
    present = getattr(module, "present", None)
    build = getattr(module, "build", None)
    stream = getattr(module, "stream", None)
    if callable(stream):
        check_predict_signature(stream, [spec.name for spec in entry.manifest.inputs], f"{app_path} (stream)")
    return DemoCode(
        module=module,
        predict=predict,
        present=with_language(present) if callable(present) else None,
        build=build if callable(build) else None,
        stream=stream if callable(stream) else None,
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


FactoryT = TypeVar("FactoryT", bound=Callable[..., DemoCode])
# Pydantic's wording, and what a contributor should read instead.
_OPTION_MESSAGES = {"Extra inputs are not permitted": "unknown option (a typo? CONTRIBUTING.md lists the options)"}


def demo_app(options: type[BaseModel]) -> Callable[[FactoryT], FactoryT]:
    """Mark `factory(manifest, folder, options) -> DemoCode` as a demo app factory whose options are `options`."""
    def mark(factory: FactoryT) -> FactoryT:
        factory.options_model = options  # type: ignore[attr-defined]
        return factory

    return mark


def find_factory(reference: str) -> Callable[..., DemoCode]:
    """Import the module of `module:function` and return the demo app factory, raising DemoCodeError if none."""
    module_name_, _, name = reference.partition(":")
    try:
        module = importlib.import_module(module_name_)
    except ImportError as exc:
        raise DemoCodeError(f"app.factory: cannot import {module_name_!r}: {exc}") from None
    factory = getattr(module, name, None)
    if not callable(factory) or not isinstance(getattr(factory, "options_model", None), type):
        raise DemoCodeError(f"app.factory: {reference!r} is not a demo app factory (a function marked "
                            "@demo_app(Options) in that module)")
    return factory


def factory_options(app: AppSpec, manifest_path: Path) -> tuple[Callable[..., DemoCode], BaseModel]:
    """Return the manifest's factory and its options, validated; DemoCodeError names the file and each field."""
    factory = find_factory(app.factory)
    try:
        return factory, factory.options_model.model_validate(app.options)  # type: ignore[attr-defined]
    except ValidationError as exc:
        fields = "; ".join(f"app.options.{p.field}: {_OPTION_MESSAGES.get(p.message, p.message)}"
                           if p.field != "(top level)" else f"app.options: {p.message}"
                           for p in problems_from_validation(manifest_path, exc))
        raise DemoCodeError(f"{manifest_path}: {fields}") from None


def code_from_factory(manifest: Manifest, folder: Path) -> DemoCode:
    """Return the callables that the manifest's `app:` factory makes for this demo folder."""
    assert manifest.app is not None
    manifest_path = folder / MANIFEST_NAME
    if (folder / APP_NAME).is_file():
        raise DemoCodeError(f"{manifest_path}: app: names a factory, and the folder has an app.py too: keep one")
    try:
        factory, options = factory_options(manifest.app, manifest_path)
    except DemoCodeError as exc:
        message = str(exc)
        raise DemoCodeError(message if message.startswith(str(manifest_path)) else f"{manifest_path}: {message}") \
            from None
    code = factory(manifest, folder, options)
    check_predict_signature(code.predict, [spec.name for spec in manifest.inputs], f"{manifest_path}: app")
    return replace(code, present=with_language(code.present) if code.present is not None else None)
