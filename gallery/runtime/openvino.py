"""OpenVINO, used when optimum-intel is installed (the `openvino` extra): export and load through optimum-intel.

Models that the gallery drives itself (sentence embeddings, `torch-module` and `onnx` specs) run through
`OpenVINOSession`, which gives an OpenVINO compiled model the methods of an ONNX Runtime session that those
models use. The other tasks load optimum-intel's `OVModelFor<Task>` classes into optimum-intel's pipelines.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEVICE = "CPU"
BACKEND = "openvino-cpu"  # the backend the registry plans and the models report
# optimum-intel's OVModel runs every call through one infer request, so one call at a time per model
# (OpenVINO's LATENCY hint already spreads that call over all cores).
MODEL_CONCURRENCY = 1
# fp32 arithmetic: on CPUs with bf16 units OpenVINO would otherwise compute in bf16 by default, which moved
# tiny classifiers' probabilities by 0.005; the gallery reports the variant it runs, and that is fp32.
CONFIG = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


@dataclass(frozen=True)
class Port:
    """An input or output of a compiled model, named and shaped like an ONNX Runtime NodeArg."""

    name: str
    shape: list[Any]


def _port(port: Any) -> Port:
    shape = [dim.get_length() if dim.is_static else None for dim in port.get_partial_shape()]
    return Port(port.get_any_name(), shape)


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


def ov_class_name(ort_class: str) -> str:
    """Return optimum-intel's class for an optimum-onnx class name (ORTModelForX -> OVModelForX)."""
    return ort_class.replace("ORTModel", "OVModel", 1)


def export(ort_class: str, src: Path, dst: Path) -> None:
    """Export a Hugging Face folder to OpenVINO IR with optimum-intel and save it (with its preprocessors)."""
    import optimum.intel as ovm
    from optimum.utils.save_utils import maybe_save_preprocessors

    name = ov_class_name(ort_class)
    cls = getattr(ovm, name)
    # compile=False: exporting only writes the IR; it is compiled when loaded.
    try:
        model = cls.from_pretrained(str(src), export=True, compile=False)
    except RuntimeError as exc:
        if "Seq2Seq" not in name:
            raise
        # The stateful export (key/values kept inside the model) failed on a tiny T5 with "a Tensor without
        # names"; the plain export passes key/values in and out and gives the same tokens.
        logger.warning("%s: stateful OpenVINO export failed (%s); exporting without state", src, exc)
        model = cls.from_pretrained(str(src), export=True, compile=False, stateful=False)
    model.save_pretrained(str(dst))
    maybe_save_preprocessors(str(src), dst)


def compress_weights(fp32_dir: Path, int8_dir: Path) -> list[str]:
    """Write int8 weights (NNCF, asymmetric, per output channel) for every IR in a folder; copy the rest.

    Weights only: activations stay fp32, so no calibration data is needed. On MiniLM (2 AMD cores) this
    took a 16-token call from 1.9 to 0.84 ms, at a per-token cosine of 0.9986 to fp32.
    """
    import nncf
    import openvino as ov

    from gallery.runtime.quantize import copy_other_files

    graphs = sorted(fp32_dir.glob("*.xml"))
    if not graphs:
        raise FileNotFoundError(f"no OpenVINO IR (*.xml) in {fp32_dir}")
    rewritten = {name for xml in graphs for name in (xml.name, xml.with_suffix(".bin").name)}
    copy_other_files(fp32_dir, int8_dir, rewritten.__contains__)
    # NNCF logs a statistics table at INFO and draws a progress bar on stdout; the build log keeps the outcome.
    logging.getLogger("nncf").setLevel(logging.WARNING)
    core = ov.Core()
    for xml in graphs:
        with contextlib.redirect_stdout(io.StringIO()):
            model = nncf.compress_weights(core.read_model(str(xml)), mode=nncf.CompressWeightsMode.INT8_ASYM)
        # compress_to_fp16=False: the weights NNCF leaves alone (norms, biases) stay fp32, as in the fp32 IR.
        ov.save_model(model, str(int8_dir / xml.name), compress_to_fp16=False)
    return [xml.name for xml in graphs]


def load_model(ort_class: str, folder: Path) -> Any:
    """Load an exported folder as optimum-intel's OVModelFor<Task>, compiled for the CPU."""
    import optimum.intel as ovm

    return getattr(ovm, ov_class_name(ort_class)).from_pretrained(str(folder), device=DEVICE, ov_config=dict(CONFIG))


def pipeline(task: str, model: Any, **kwargs: Any) -> Any:
    """Return optimum-intel's pipeline for an OVModel (transformers' pipeline with the OpenVINO model)."""
    from optimum.intel import pipeline as ov_pipeline

    return ov_pipeline(task, model=model, accelerator="openvino", **kwargs)
