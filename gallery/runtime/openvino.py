"""OpenVINO, used when its runtime is installed (the `openvino` extra): the engines run IR through these sessions.

The exporter converts Optimum's ONNX export to OpenVINO IR (exporter.steps.export_openvino); `OpenVINOSession`
gives each compiled model the methods of an ONNX Runtime session, so every task's engine runs on either runtime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEVICE = "CPU"
BACKEND = "openvino-cpu"  # the backend the registry plans and the models report
# OpenVINO's LATENCY hint already spreads one call over all cores: a second call at once only adds waiting.
MODEL_CONCURRENCY = 1
# fp32 arithmetic: on CPUs with bf16 units OpenVINO would otherwise compute in bf16 by default, which moved
# tiny classifiers' probabilities by 0.005; the gallery reports the variant it runs, and that is fp32.
CONFIG = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


@dataclass(frozen=True)
class Port:
    """An input or output of a compiled model, named and shaped like an ONNX Runtime NodeArg."""

    name: str
    shape: list[Any]
    type: str = "tensor(float)"


# OpenVINO element types as ONNX Runtime names them (the engines read `type` to make matching empty inputs).
_TYPES = {"f32": "tensor(float)", "f16": "tensor(float16)", "i64": "tensor(int64)", "i32": "tensor(int32)",
          "boolean": "tensor(bool)"}


def _port(port: Any) -> Port:
    shape = [dim.get_length() if dim.is_static else None for dim in port.get_partial_shape()]
    kind = port.get_element_type().get_type_name()
    return Port(port.get_any_name(), shape, _TYPES.get(kind, f"tensor({kind})"))


class OpenVINOSession:
    """An OpenVINO compiled model behind ONNX Runtime's session methods (run, get_inputs, get_outputs).

    Each run uses its own infer request, so threads may share one session.
    """

    def __init__(self, model_path: Path | str, device: str = DEVICE) -> None:
        import openvino as ov

        core = ov.Core()
        # LATENCY: one request at a time uses all cores, the gallery's case (one request per model per call).
        self.compiled = core.compile_model(str(model_path), device, dict(CONFIG))
        self.device = device
        self.path = Path(model_path)
        self._inputs = [_port(p) for p in self.compiled.inputs]
        self._outputs = [_port(p) for p in self.compiled.outputs]

    def get_inputs(self) -> list[Port]:
        """Return the model's inputs."""
        return list(self._inputs)

    def get_outputs(self) -> list[Port]:
        """Return the model's outputs."""
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        """Return where the model runs, in the form of ONNX Runtime's provider list."""
        return [f"OpenVINO:{self.device}"]

    def run(self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run one inference; return the named outputs (all when None) in order."""
        request = self.compiled.create_infer_request()
        result = request.infer({name: np.ascontiguousarray(value) for name, value in feeds.items()})
        names = list(output_names) if output_names else [p.name for p in self._outputs]
        return [np.asarray(result[self.compiled.output(name)]) for name in names]


class SplitDecoder:
    """Two OpenVINO decoders (first step, with past) behind the merged decoder's session interface.

    OpenVINO's CPU plug-in refuses the merged decoder's `If` node (dynamic rank), so OpenVINO keeps Optimum's two
    graphs, and this object lets the engines that drive a merged decoder (Whisper) run them unchanged:
    `use_cache_branch` picks the graph, and values come and go as ONNX Runtime OrtValues, as those engines pass them.
    """

    def __init__(self, first: OpenVINOSession, with_past: OpenVINOSession) -> None:
        self.first = first
        self.with_past = with_past
        past = [p for p in with_past.get_inputs() if p.name.startswith("past_key_values.")]
        self._inputs = [*first.get_inputs(), *past, Port("use_cache_branch", [1], "tensor(bool)")]
        self._outputs = first.get_outputs()

    def get_inputs(self) -> list[Port]:
        """Return the merged decoder's inputs: ids, encoder states, past keys/values and the branch flag."""
        return list(self._inputs)

    def get_outputs(self) -> list[Port]:
        """Return the merged decoder's outputs: logits and the present keys/values."""
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        """Return where the decoders run."""
        return self.first.get_providers()

    def run(self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the first-step graph, or the with-past graph when `use_cache_branch` is true."""
        with_past = bool(np.asarray(feeds["use_cache_branch"]).reshape(-1)[0])
        session = self.with_past if with_past else self.first
        wanted = {p.name for p in session.get_inputs()}
        names = list(output_names) if output_names else [p.name for p in self._outputs]
        produced = {p.name for p in session.get_outputs()}
        missing = [name for name in names if name not in produced]
        if missing:
            raise KeyError(f"the {'with-past' if with_past else 'first-step'} decoder has no output {missing}")
        return session.run(names, {name: value for name, value in feeds.items() if name in wanted})

    def run_with_ort_values(self, output_names: Sequence[str], feeds: dict[str, Any]) -> list[Any]:
        """Run with ONNX Runtime OrtValues in and out, as the Whisper engine feeds a merged decoder."""
        import onnxruntime as ort

        arrays = {name: value.numpy() for name, value in feeds.items()}
        return [ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(a)) for a in self.run(output_names, arrays)]
