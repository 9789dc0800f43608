"""The Serve application of the demos: `build_app` for `gallery run --engine ray` and for operators' `serve deploy`.

`deploy/ray/serve.yaml` names `gallery.rayserve.app:build_app` as its import path; its `args` are `AppArgs`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ray.serve import Application

from gallery.discovery import DemoEntry, default_demos_dir, discover
from gallery.rayserve.deployments import GIB, DemoRouter, HeavyDemo, LightDemos, heavy_name
from gallery.runtime.hardware import ENV_ORT_THREADS
from gallery.runtime.spec import ServingSpec

APP_NAME = "openmodels"
LIGHT_NAME = "light-demos"
ROUTER_NAME = "router"
# The light pool: many small encoders per replica, several calls at once (each takes milliseconds).
LIGHT_DEFAULTS = ServingSpec(heavy=False, num_cpus=0.5, memory_gb=3.0, max_ongoing_requests=8,
                             max_queued_requests=64, min_replicas=1, max_replicas=2, target_ongoing_requests=4)


class AppArgs(BaseModel):
    """What `serve deploy` passes to `build_app` (the `args:` of an application in a Serve config)."""

    model_config = ConfigDict(extra="forbid")

    demos_dir: str | None = Field(None, description="demos folder (default: the installed gallery's demos/)")
    cache_dir: str | None = Field(None, description="model cache shared by the replicas' node (default "
                                                    "$OPENMODELS_CACHE or ~/.cache/openmodels)")
    select: list[str] = Field(default_factory=list, description="only these demos or sectors")
    light: ServingSpec = Field(default_factory=lambda: LIGHT_DEFAULTS.model_copy(),
                               description="the shared pool of light demos")


def demo_tasks(entry: DemoEntry) -> set[str]:
    """Return a demo's task and its models' tasks (what decides heavy or light)."""
    assert entry.manifest is not None
    return {entry.manifest.task, *(spec.task for spec in entry.manifest.models.values())}


def is_heavy(entry: DemoEntry) -> bool:
    """Return whether a demo gets a deployment of its own."""
    assert entry.manifest is not None
    return entry.manifest.serving.is_heavy(demo_tasks(entry))


def deployment_options(spec: ServingSpec) -> dict[str, Any]:
    """Return Serve deployment options for a serving spec: resources, concurrency, queue and autoscaling."""
    threads = max(1, math.ceil(spec.num_cpus))
    options: dict[str, Any] = {
        # Ray reserves the memory on a node, and the replica's model budget is this same figure (DemoHost).
        "ray_actor_options": {"num_cpus": spec.num_cpus, "memory": int(spec.memory_gb * GIB),
                              "runtime_env": {"env_vars": {ENV_ORT_THREADS: str(threads)}}},
        "max_ongoing_requests": spec.max_ongoing_requests,
        "max_queued_requests": spec.max_queued_requests,
    }
    if spec.min_replicas == spec.max_replicas:
        options["num_replicas"] = spec.min_replicas
    else:
        options["autoscaling_config"] = {"min_replicas": spec.min_replicas, "max_replicas": spec.max_replicas,
                                         "target_ongoing_requests": spec.target_ongoing_requests}
    return options


def default_cache_dir() -> Path:
    """Return $OPENMODELS_CACHE, else ~/.cache/openmodels (as `gallery run` does)."""
    return Path(os.environ.get("OPENMODELS_CACHE") or Path.home() / ".cache" / "openmodels").expanduser()


def plan(args: AppArgs) -> tuple[list[DemoEntry], list[DemoEntry]]:
    """Return the demos to serve, split into (heavy, light)."""
    demos_dir = Path(args.demos_dir) if args.demos_dir else default_demos_dir()
    available = discover(demos_dir, args.select or None).available
    return [e for e in available if is_heavy(e)], [e for e in available if not is_heavy(e)]


def build_app(args: dict[str, Any] | AppArgs | None = None) -> Application:
    """Return the Serve application: a router in front of one deployment per heavy demo and the light pool."""
    parsed = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    demos_dir = str(Path(parsed.demos_dir).resolve() if parsed.demos_dir else default_demos_dir())
    cache_dir = str(Path(parsed.cache_dir).expanduser() if parsed.cache_dir else default_cache_dir())
    heavy, light = plan(parsed)
    heavy_apps = {}
    for entry in heavy:
        assert entry.manifest is not None
        spec = entry.manifest.serving
        heavy_apps[entry.id] = HeavyDemo.options(name=heavy_name(entry.id), **deployment_options(spec)).bind(
            entry.id, demos_dir, cache_dir, int(spec.memory_gb * GIB))
    light_app = None
    if light:
        light_app = LightDemos.options(name=LIGHT_NAME, **deployment_options(parsed.light)).bind(
            demos_dir, cache_dir, int(parsed.light.memory_gb * GIB))
    # The router only forwards: a little CPU, and many calls in flight (each waits on a demo's deployment).
    return DemoRouter.options(name=ROUTER_NAME, max_ongoing_requests=256, max_queued_requests=-1,
                              ray_actor_options={"num_cpus": 0}).bind(heavy_apps, light_app, demos_dir)


def required_resources(args: AppArgs, heavy: list[DemoEntry], light: list[DemoEntry]) -> tuple[float, int]:
    """Return the CPUs and the bytes of memory the planned application reserves at its minimum replica counts."""
    specs = [e.manifest.serving for e in heavy if e.manifest] + ([args.light] if light else [])
    cpus = sum(spec.num_cpus * spec.min_replicas for spec in specs)
    return cpus, int(sum(spec.memory_gb * spec.min_replicas for spec in specs) * GIB)
