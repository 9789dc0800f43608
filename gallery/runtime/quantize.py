"""Dynamic int8 quantization of exported ONNX folders, and the accuracy measures that guard it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

logger = logging.getLogger(__name__)

# Thresholds of the accuracy guard (issue 3): int8 is kept only when it stays this close to fp32.
MIN_COSINE = 0.99
MAX_WER_INCREASE = 0.01  # one point of word (token) error rate
RECIPE = "pcmm1"  # names the quantization recipe below; change it when the recipe changes (new cache entries)
OPENVINO_RECIPE = "nncfw8a"  # OpenVINO: NNCF int8 weights, asymmetric (openvino.compress_weights)


def quantization_config(name: str, nodes_to_exclude: list[str] | None = None) -> Any:
    """Return optimum's dynamic `AutoQuantizationConfig.<name>` (avx2, avx512, avx512_vnni, arm64) for MatMuls."""
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    make = getattr(AutoQuantizationConfig, name)
    # Per-channel weights: measured on all-MiniLM-L6-v2, per-tensor int8 drops the worst example's cosine to
    # 0.91, per-channel to 0.98, at the same speed. Only MatMul: quantized Gather/Transpose add error, not speed.
    return make(is_static=False, per_channel=True, nodes_to_exclude=nodes_to_exclude or [],
                operators_to_quantize=["MatMul"])


def activation_matmuls(onnx_path: Path) -> list[str]:
    """Return the MatMul nodes with no weight input (attention scores): int8 there costs accuracy for no speed."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    weights |= {out for node in graph.node if node.op_type == "Constant" for out in node.output}
    return [n.name for n in graph.node if n.op_type == "MatMul" and not any(i in weights for i in n.input)]


def copy_other_files(fp32_dir: Path, int8_dir: Path, rewritten: Callable[[str], bool]) -> None:
    """Copy the files of an export that a quantizer does not rewrite (configs, tokenizers) into `int8_dir`."""
    int8_dir.mkdir(parents=True, exist_ok=True)
    for item in fp32_dir.iterdir():
        if item.is_file() and not rewritten(item.name):
            shutil.copy2(item, int8_dir / item.name)


def quantize_folder(fp32_dir: Path, int8_dir: Path, config_name: str) -> list[str]:
    """Quantize every ONNX file of an exported folder into `int8_dir` under the same names; copy the rest."""
    from optimum.onnxruntime import ORTQuantizer

    onnx_files = sorted(p.name for p in fp32_dir.glob("*.onnx"))
    if not onnx_files:
        raise FileNotFoundError(f"no ONNX file in {fp32_dir}")
    copy_other_files(fp32_dir, int8_dir, lambda name: name.endswith((".onnx", ".onnx_data")))
    for name in onnx_files:
        quantizer = ORTQuantizer.from_pretrained(fp32_dir, file_name=name)
        config = quantization_config(config_name, activation_matmuls(fp32_dir / name))
        # file_suffix=None keeps the file names, so the ORTModel classes load the int8 folder unchanged.
        quantizer.quantize(config, save_dir=int8_dir, file_suffix=None)
    return onnx_files


BLOCKWISE_RECIPE = "mnb8b128a4"  # MatMulNBits, 8 bits, blocks of 128, int8 compute (accuracy_level 4)
BLOCK_SIZE = 128


def quantize_folder_blockwise(fp32_dir: Path, int8_dir: Path, files: Sequence[str]) -> list[str]:
    """Quantize the MatMul weights of the named ONNX files to int8 in blocks (MatMulNBits); copy everything else.

    For autoregressive decoders, which read every weight once per token: each block of 128 weights has its own
    scale, and activations are quantized per block at run time (accuracy_level 4, ONNX Runtime's int8
    dot-product kernels). Measured on Whisper: per-tensor dynamic int8 (the recipe above) changed a third of
    tiny.en's tokens; this kept both Whispers' example transcripts identical.
    """
    import onnx
    from onnxruntime.quantization import matmul_nbits_quantizer as nbits

    # The quantizer logs every node it visits at INFO; our logs keep the outcome only.
    logging.getLogger(nbits.__name__).setLevel(logging.WARNING)
    missing = [name for name in files if not (fp32_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"no {', '.join(missing)} in {fp32_dir}")
    copy_other_files(fp32_dir, int8_dir, lambda name: name in files)
    for name in files:
        model = onnx.load(str(fp32_dir / name))
        config = nbits.DefaultWeightOnlyQuantConfig(block_size=BLOCK_SIZE, is_symmetric=True, accuracy_level=4,
                                                    bits=8, op_types_to_quantize=("MatMul",),
                                                    quant_axes=(("MatMul", 0),))
        quantizer = nbits.MatMulNBitsQuantizer(model, algo_config=config)
        quantizer.process()
        # Protobuf files stop at 2 GB: larger models keep their weights in a data file beside the graph.
        external = (fp32_dir / name).stat().st_size > 1_500_000_000
        quantizer.model.save_model_to_file(str(int8_dir / name), use_external_data_format=external)
    return list(files)


def min_cosine(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Return the smallest row-wise cosine similarity between two (n, dim) arrays."""
    ref = reference / np.clip(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12, None)
    cand = candidate / np.clip(np.linalg.norm(candidate, axis=1, keepdims=True), 1e-12, None)
    return float(np.min(np.sum(ref * cand, axis=1)))


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Return the Levenshtein distance between two token sequences."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def token_error_rate(references: Sequence[Sequence[Any]], hypotheses: Sequence[Sequence[Any]]) -> float:
    """Return the summed edit distance over the summed reference length (WER over tokens or words)."""
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    return errors / max(1, sum(len(r) for r in references))


def embedding_check(fp32: np.ndarray, int8: np.ndarray) -> dict[str, Any]:
    """Pass when every example's int8 embedding has cosine >= MIN_COSINE to its fp32 embedding."""
    value = min_cosine(fp32, int8)
    passed = value >= MIN_COSINE
    return {"metric": "min_cosine", "value": round(value, 6), "threshold": MIN_COSINE, "passed": passed,
            "examples": int(fp32.shape[0]),
            "reason": None if passed else f"min cosine {value:.4f} < {MIN_COSINE}"}


def top1_check(fp32_logits: list[np.ndarray], int8_logits: list[np.ndarray]) -> dict[str, Any]:
    """Pass when the arg-max class (per example, or per token) is unchanged everywhere."""
    total = changed = 0
    for ref, cand in zip(fp32_logits, int8_logits):
        a, b = np.argmax(ref, axis=-1), np.argmax(cand, axis=-1)
        total += a.size
        changed += int(np.sum(a != b))
    passed = changed == 0 and total > 0
    return {"metric": "top1_changed", "value": changed, "of": total, "threshold": 0, "passed": passed,
            "examples": len(fp32_logits),
            "reason": None if passed else (f"top-1 changed on {changed} of {total}" if total else "no examples")}


def sequence_check(fp32_tokens: list[list[int]], int8_tokens: list[list[int]]) -> dict[str, Any]:
    """Pass when generated tokens are unchanged, or their error rate rises by at most MAX_WER_INCREASE."""
    rate = token_error_rate(fp32_tokens, int8_tokens)
    identical = all(list(a) == list(b) for a, b in zip(fp32_tokens, int8_tokens))
    passed = bool(fp32_tokens) and (identical or rate <= MAX_WER_INCREASE)
    return {"metric": "token_error_rate", "value": round(rate, 6), "threshold": MAX_WER_INCREASE,
            "identical": identical, "passed": passed, "examples": len(fp32_tokens),
            "reason": None if passed else (f"token error rate {rate:.3f} > {MAX_WER_INCREASE}" if fp32_tokens
                                           else "no examples")}
