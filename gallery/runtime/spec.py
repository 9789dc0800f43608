"""Typed model spec: the `models:` block of a demo manifest."""

from __future__ import annotations

import re
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from gallery.runtime.task_table import TASKS, parse_options

# The task names of the task table (task_table.TASKS): a new task is a line there, not here.
ModelTask = Literal[tuple(TASKS)]  # type: ignore[valid-type]
Backend = Literal["auto", "onnxruntime", "openvino", "torch"]
Quantize = Literal["auto", "none", "dynamic-int8"]

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackageSource(_Strict):
    """A model shipped inside a pip package."""

    package: str = Field(description="pip distribution name that ships the model")
    path: str | None = Field(None, description="folder or file inside the package's import root")
    loader: str | None = Field(None, description="`module:function` returning the model path")

    @model_validator(mode="after")
    def _one_locator(self) -> "PackageSource":
        if (self.path is None) == (self.loader is None):
            raise ValueError("give exactly one of `path` or `loader`")
        if self.loader is not None and not _CALLABLE.match(self.loader):
            raise ValueError(f"loader must look like `module:function`, got {self.loader!r}")
        return self


class HubSource(_Strict):
    """A model on the Hugging Face Hub, pinned to one commit."""

    hub: str = Field(description="repository id, e.g. `org/name`")
    revision: str = Field(description="full 40-character commit sha")

    @field_validator("revision")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not _SHA.match(value):
            raise ValueError("revision must be a full 40-character commit sha (pin the model)")
        return value


class PathSource(_Strict):
    """A model in a local folder (absolute, or relative to the demo folder)."""

    path: str


ModelSource = Union[PackageSource, HubSource, PathSource]


class ModelSpec(_Strict):
    """How one demo model is found, converted, exported and run."""

    task: ModelTask
    source: ModelSource
    licence: str = Field(description="SPDX id of the model weights' licence")
    converter: str | None = Field(None, description="name of a registered source converter")
    backend: Backend = "auto"
    quantize: Quantize = "auto"
    factory: str | None = Field(
        None, description="`module:function` building the model (torch-module and custom tasks)"
    )
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="task-specific settings, checked against the task's options model")
    max_concurrency: int = Field(2, ge=1, le=64, description="parallel calls allowed into this model")
    _typed: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _factory_rules(self) -> "ModelSpec":
        needs = self.task in ("torch-module", "custom")
        if needs and not self.factory:
            raise ValueError(f"task {self.task!r} needs `factory: module:function`")
        if self.factory is not None and not _CALLABLE.match(self.factory):
            raise ValueError(f"factory must look like `module:function`, got {self.factory!r}")
        return self

    @model_validator(mode="after")
    def _options_of_the_task(self) -> "ModelSpec":
        # A typo such as `pooling: maen` is refused here, not ignored; the parsed copy serves every later load.
        self._typed = parse_options(self.task, self.options)
        return self

    def typed_options(self) -> Any:
        """Return the options as the task's typed model (gallery.runtime.task_options), defaults filled in."""
        return self._typed

    def identity(self) -> dict[str, Any]:
        """Return the fields that decide which loaded model this spec means (for sharing)."""
        return self.model_dump(mode="json", exclude={"licence", "max_concurrency"})


# Tasks whose calls take a CPU core for a second or more (measured in docs/BENCHMARKS.md): on Ray they get a
# deployment of their own, so a crowd on them never queues the light demos.
HEAVY_TASKS = frozenset({"automatic-speech-recognition", "ocr", "text-generation"})


class ServingSpec(_Strict):
    """How a demo is deployed on Ray Serve (`gallery run --engine ray`); the local engine ignores it."""

    heavy: bool | None = Field(None, description="own deployment (default: when a model's task is heavy)")
    num_cpus: float = Field(1.0, gt=0, description="CPUs per replica (ONNX Runtime uses as many threads)")
    memory_gb: float = Field(2.0, gt=0, description="memory per replica: Ray reserves it, the model budget is it")
    max_ongoing_requests: int = Field(1, ge=1, description="calls one replica runs at once")
    max_queued_requests: int = Field(8, ge=1, description="calls that may wait; more are refused with 503")
    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(2, ge=1)
    target_ongoing_requests: float = Field(1.0, gt=0, description="autoscaling adds replicas above this per replica")

    @model_validator(mode="after")
    def _replicas_in_order(self) -> ServingSpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is greater than max_replicas ({self.max_replicas})")
        return self

    def is_heavy(self, tasks: set[str]) -> bool:
        """Return whether a demo with these tasks (its own and its models') gets its own deployment."""
        return self.heavy if self.heavy is not None else bool(tasks & HEAVY_TASKS)
