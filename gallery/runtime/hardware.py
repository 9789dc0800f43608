"""Detect the accelerators and CPU features at hand, and pick the backend and quantization config from them."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hardware:
    """What this machine offers the runtime."""

    machine: str
    cpu_model: str
    cpu_count: int
    total_ram_bytes: int
    providers: tuple[str, ...]  # ONNX Runtime execution providers compiled into the installed wheel
    cuda: bool  # the CUDA provider is present (a session still has to prove it really gets it)
    openvino: bool  # OpenVINO's runtime is installed (the exporter converts models to its IR)
    intel: bool  # an Intel CPU (vendor GenuineIntel), the hardware OpenVINO is built for
    avx2: bool
    avx512: bool
    avx512_vnni: bool
    arm64: bool
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def quantization_config(self) -> str:
        """Return the name of the `AutoQuantizationConfig` constructor that fits this CPU."""
        if self.arm64:
            return "arm64"
        if self.avx512_vnni:
            return "avx512_vnni"
        if self.avx512:
            return "avx512"
        return "avx2"

    @property
    def default_backend(self) -> str:
        """Return the backend `auto` resolves to: CUDA, else OpenVINO on an Intel CPU, else CPU ONNX Runtime."""
        if self.cuda:
            return "onnxruntime-cuda"
        return "openvino-cpu" if self.openvino_preferred else "onnxruntime-cpu"

    @property
    def openvino_preferred(self) -> bool:
        """Return whether `auto` takes OpenVINO: installed, and an Intel CPU.

        On an AMD EPYC, OpenVINO was slower than ONNX Runtime for every demo measured (1.2 to 1.7x the time,
        docs/BENCHMARKS.md), so other CPUs keep ONNX Runtime unless OpenVINO is asked for by name.
        """
        return self.openvino and self.intel


BACKEND_CHOICES = ("auto", "onnxruntime", "openvino", "torch")


def preferred_backend() -> str:
    """Return what `backend: auto` means here: `OPENMODELS_BACKEND` when set to a known backend, else auto."""
    wanted = os.environ.get("OPENMODELS_BACKEND", "auto").strip().lower() or "auto"
    if wanted not in BACKEND_CHOICES:
        logger.warning("OPENMODELS_BACKEND=%s is not one of %s; using auto", wanted, ", ".join(BACKEND_CHOICES))
        return "auto"
    return wanted


ENV_ORT_THREADS = "OPENMODELS_ORT_THREADS"


def ort_threads() -> int | None:
    """Return the ONNX Runtime threads per session from $OPENMODELS_ORT_THREADS (None: ORT's default, every core).

    A Ray replica sets it to its CPU share: ORT would otherwise start a thread per core of the machine, whatever
    the replica was given, and replicas packed on one node would fight over the cores.
    """
    value = os.environ.get(ENV_ORT_THREADS, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def apply_ort_threads(options: Any) -> Any:
    """Set the intra-op thread count of ORT SessionOptions when $OPENMODELS_ORT_THREADS asks for one."""
    threads = ort_threads()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options


def _cpu_vendor() -> str:
    """Return the CPU vendor id from /proc/cpuinfo (GenuineIntel, AuthenticAMD, ...), empty where unknown."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "vendor_id":
                    return value.strip()
    except OSError:
        pass
    return ""


def _cpu_flags() -> tuple[set[str], str]:
    """Return the CPU feature flags and model name from /proc/cpuinfo (empty where it does not exist)."""
    flags: set[str] = set()
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("flags", "Features") and not flags:
                    flags = set(value.split())
                elif key in ("model name", "Model", "CPU implementer") and model in ("", platform.machine()):
                    model = value.strip()
    except OSError:
        pass  # not Linux: flags stay unknown and the generic (avx2) config is used
    return flags, model


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _ram_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


@functools.lru_cache(maxsize=1)
def detect() -> Hardware:
    """Return what this machine offers (cached: hardware does not change while the process runs)."""
    import onnxruntime as ort

    flags, model = _cpu_flags()
    machine = platform.machine().lower()
    providers = tuple(ort.get_available_providers())
    versions = {
        name: v
        for name in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino", "onnx", "openvino", "transformers",
                     "torch", "tokenizers", "gradio", "huggingface-hub")
        if (v := _version(name)) is not None
    }
    openvino = importlib.util.find_spec("openvino") is not None
    return Hardware(
        machine=machine,
        cpu_model=model,
        cpu_count=os.cpu_count() or 1,
        total_ram_bytes=_ram_bytes(),
        providers=providers,
        cuda="CUDAExecutionProvider" in providers,
        openvino=openvino,
        intel=_cpu_vendor() == "GenuineIntel",
        avx2="avx2" in flags,
        avx512="avx512f" in flags,
        avx512_vnni="avx512_vnni" in flags or "avx512vnni" in flags,
        arm64=machine in ("aarch64", "arm64"),
        versions=versions,
    )


def _openvino_row(hw: Hardware) -> str:
    if not hw.openvino:
        return "no (install the openvino extra for OpenVINO)"
    if hw.openvino_preferred:
        return "installed: auto runs on OpenVINO (Intel CPU)"
    return "installed: auto keeps ONNX Runtime on this non-Intel CPU (OPENMODELS_BACKEND=openvino to use OpenVINO)"


def describe() -> list[tuple[str, str]]:
    """Return `gallery doctor` rows: machine, CPU features, providers, chosen backend and quantization."""
    hw = detect()

    def yes(value: bool) -> str:
        return "yes" if value else "no"

    rows = [
        ("machine", f"{hw.machine}, {hw.cpu_count} CPU cores, {hw.total_ram_bytes / 2**30:.1f} GiB RAM"),
        ("cpu", hw.cpu_model),
        ("cpu features", f"AVX2 {yes(hw.avx2)}, AVX-512 {yes(hw.avx512)}, AVX-512 VNNI {yes(hw.avx512_vnni)}, "
                         f"ARM64 {yes(hw.arm64)}"),
        ("onnxruntime providers", ", ".join(hw.providers)),
        ("cuda", "available (onnxruntime-gpu)" if hw.cuda else "no (install the onnxruntime-gpu extra for CUDA)"),
        ("openvino", _openvino_row(hw)),
        ("default backend", hw.default_backend),
        ("OPENMODELS_BACKEND", preferred_backend()),
        ("int8 config", f"AutoQuantizationConfig.{hw.quantization_config} (dynamic, CPU only)"),
    ]
    if hw.openvino:
        from gallery.runtime.quantize import OPENVINO_RECIPE

        rows.append(("int8 on openvino", f"NNCF int8 weights, asymmetric per channel (recipe {OPENVINO_RECIPE})"))
    rows.append(("serving environment", sys.executable))
    rows += [(f"version {name}", version) for name, version in sorted(hw.versions.items())]
    return rows
