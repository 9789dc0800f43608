"""Registry of source converters: deterministic project code that turns a model source into an HF folder."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import pkgutil
from pathlib import Path
from typing import Callable

logger = logging.getLogger(__name__)

Converter = Callable[[Path, Path], None]
"""`convert(src, dst)`: read the resolved source at `src`, write a Hugging Face model folder into `dst`."""

CONVERTERS: dict[str, Converter] = {}


def register(name: str) -> Callable[[Converter], Converter]:
    """Register `fn` as the converter called `name` (used as `converter: <name>` in demo.yaml)."""

    def decorate(fn: Converter) -> Converter:
        if name in CONVERTERS and CONVERTERS[name] is not fn:
            raise ValueError(f"converter {name!r} is registered twice")
        CONVERTERS[name] = fn
        return fn

    return decorate


def _import_all() -> None:
    """Import every module of this package so their `@register` decorators run."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def get_converter(name: str) -> Converter:
    """Return the converter called `name`, importing the converter modules on first use."""
    if name not in CONVERTERS:
        _import_all()
    try:
        return CONVERTERS[name]
    except KeyError:
        known = ", ".join(sorted(CONVERTERS)) or "none"
        raise KeyError(f"unknown converter {name!r} (known: {known})") from None


def converter_fingerprint(name: str) -> str:
    """Return a hash of the converter's source code, so editing the converter invalidates its cached output."""
    fn = get_converter(name)
    module = inspect.getmodule(fn)
    source = inspect.getsource(module) if module is not None else inspect.getsource(fn)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def converter_module(name: str) -> str:
    """Return the module that registers the converter: the exporter imports it to find the converter there."""
    return get_converter(name).__module__
