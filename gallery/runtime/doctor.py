"""What `gallery doctor` prints: hardware and backends, then every demo model's availability and variant."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gallery.runtime import sources
from gallery.runtime.hardware import describe


def default_cache_dir() -> Path:
    """Return `$OPENMODELS_CACHE`, else the user's cache dir + openmodels (same rule as the server)."""
    if os.environ.get("OPENMODELS_CACHE"):
        return Path(os.environ["OPENMODELS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openmodels"


def hardware_rows() -> list[tuple[str, str]]:
    """Return (name, value) rows: machine, CPU features, providers, default backend, int8 config, and the versions
    in both environments (serving, then the exporter's)."""
    from gallery.runtime.exporter.client import VERSIONS_RECORD, describe as describe_exporter

    return describe() + describe_exporter(default_cache_dir() / VERSIONS_RECORD)


def _check_text(check: dict[str, Any] | None) -> str:
    if not check:
        return "-"
    if "metric" not in check:
        return f"not run: {check.get('reason')}"
    verdict = "passed" if check.get("passed") else "failed"
    recipe = f", recipe {check['recipe']}" if check.get("recipe") else ""
    return (f"{verdict}: {check['metric']}={check.get('value')} (limit {check.get('threshold')}, "
            f"{check.get('examples')} examples{recipe})")


def expected_backend(registry: Any, spec: Any) -> str:
    """Return the backend a model that has not loaded yet is expected to get."""
    from gallery.runtime.tasks import handler_for

    # A custom model's factory decides (ridership-forecast's runs on torch): only a load can tell.
    return getattr(handler_for(spec.task), "backend_note", None) or registry.backend_for(spec)


def model_rows(registry: Any, index: Any) -> list[dict[str, str]]:
    """Return one row per demo model: availability offline, state, real backend, variant and int8 check."""
    rows = []
    for entry in index.entries:
        if entry.manifest is None:
            rows.append({"demo": entry.id, "model": "-", "task": "-", "source": "-", "available": "no",
                         "state": "invalid manifest", "backend": "-", "variant": "-", "int8 check": "-",
                         "reason": str(entry.error)})
            continue
        for name, spec in entry.manifest.models.items():
            ok, reason = registry.availability(spec, entry.path)
            status = registry.status(entry.id, name, spec, entry.path)
            rows.append({
                "demo": entry.id, "model": name, "task": spec.task, "source": sources.describe(spec),
                "available": "yes" if ok else "no", "state": status.state,
                "backend": status.backend or f"({expected_backend(registry, spec)})", "variant": status.variant or "-",
                "int8 check": _check_text(status.quant_check), "reason": reason if not ok else "",
            })
    return rows


def doctor_report(index: Any, registry: Any = None) -> dict[str, Any]:
    """Return {"hardware": rows, "models": rows}; backends in parentheses are expected, not yet measured."""
    if registry is None:
        from gallery.runtime.registry import ModelRegistry

        registry = ModelRegistry(default_cache_dir())
    return {"hardware": hardware_rows(), "models": model_rows(registry, index)}
