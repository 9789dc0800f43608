"""The build steps that need Optimum: export, decoder merging, int8, OpenVINO IR. Run inside the exporter env only.

Everything here imports optimum, transformers 4.57, onnxruntime's quantizers, openvino or nncf, so the serving
process never imports this module: it sends a job to `gallery.runtime.exporter.worker` in `.venv-export`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from gallery.runtime.quantize import BLOCK_SIZE
from gallery.runtime.whisper_onnx import DECODER as MERGED_DECODER
from gallery.runtime.whisper_onnx import MEL_FILTERS

logger = logging.getLogger(__name__)

# Files the serving engines read beside the graphs (tokenizers, image and audio preprocessing).
PREPROCESSING_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json",
                       "generation_config.json", "vocab.txt", "vocab.json", "merges.txt", "spiece.model",
                       "added_tokens.json")
# Names of the post-export steps a handler may ask for (`extras` of an export job).
EXTRAS = ("fast_tokenizer", "sentence_max_length", "mel_filters")


def copy_other_files(src_dir: Path, dst_dir: Path, rewritten: Callable[[str], bool]) -> None:
    """Copy the files of an export that a step does not rewrite (configs, tokenizers) into `dst_dir`."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    for item in src_dir.iterdir():
        if item.is_file() and not rewritten(item.name):
            shutil.copy2(item, dst_dir / item.name)


def onnx_opset(folder: Path) -> int | None:
    """Return the default-domain opset of the first ONNX file in a folder."""
    import onnx

    files = sorted(folder.glob("*.onnx"))
    if not files:
        return None
    model = onnx.load(str(files[0]), load_external_data=False)
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


# -- sources saved by newer transformers ---------------------------------------------------------------------


@contextlib.contextmanager
def readable_source(src: Path) -> Iterator[Path]:
    """Yield `src`, or a view of it that transformers 4.57 can read when a newer transformers saved it.

    transformers 5 writes `extra_special_tokens` in tokenizer_config.json as a list, where 4.57 expects a mapping
    and fails; 4.57 reads the same tokens from `additional_special_tokens`. The view links every other file.
    """
    path = src / "tokenizer_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    extra = config.get("extra_special_tokens")
    if not isinstance(extra, list):
        yield src
        return
    config.pop("extra_special_tokens")
    listed = list(config.get("additional_special_tokens") or [])
    config["additional_special_tokens"] = listed + [t for t in extra if t not in listed]
    with tempfile.TemporaryDirectory(prefix="openmodels-src-") as tmp:
        view = Path(tmp)
        for item in src.iterdir():
            if item.name != path.name:
                (view / item.name).symlink_to(item.resolve())
        (view / path.name).write_text(json.dumps(config, indent=2), encoding="utf-8")
        yield view


# -- export --------------------------------------------------------------------------------------------------


def optimum_export(ort_class: str, src: Path, dst: Path) -> None:
    """Export the model folder at `src` with Optimum's ORTModel class into `dst`, with its preprocessors."""
    import optimum.onnxruntime as ortm
    from optimum.utils.save_utils import maybe_save_preprocessors

    with readable_source(src) as readable:
        model = getattr(ortm, ort_class).from_pretrained(str(readable), export=True)
        model.save_pretrained(str(dst))
        maybe_save_preprocessors(str(readable), dst)
    # maybe_save_preprocessors skips, without a word, what it cannot load (a processor saved by a newer
    # transformers): the serving engines read these files themselves, so the source's own copies go along.
    for name in PREPROCESSING_FILES:
        if (src / name).is_file() and not (dst / name).exists():
            shutil.copy2(src / name, dst / name)


def merge_decoders(folder: Path) -> None:
    """Replace the exported decoder and decoder-with-past by one merged decoder holding the weights once.

    Two sessions each held a copy of the decoder weights: the Whisper base demo peaked at 1266 MiB with them and
    at 992 MiB merged, and a decoding step costs the same within 5% (docs/BENCHMARKS.md).
    """
    from optimum.onnx import merge_decoders as merge

    first, with_past = folder / "decoder_model.onnx", folder / "decoder_with_past_model.onnx"
    # strict=False: the with-past graph has no cross-attention outputs; the merge gives that branch empty ones.
    merge(first, with_past, save_path=folder / MERGED_DECODER, strict=False)
    for stale in [*folder.glob("decoder_model.onnx*"), *folder.glob("decoder_with_past_model.onnx*")]:
        stale.unlink()


def save_fast_tokenizer(src: Path, dst: Path) -> None:
    """Make sure `dst` holds tokenizer.json (the serving engines read only that), converting a slow tokenizer."""
    if not (dst / "tokenizer.json").exists():
        from transformers import AutoTokenizer

        with readable_source(src) as readable:
            AutoTokenizer.from_pretrained(str(readable), use_fast=True).save_pretrained(str(dst))
    if not (dst / "tokenizer.json").exists():
        raise RuntimeError(f"{src}: no fast tokenizer (tokenizer.json) could be made for this model")


def sentence_max_length(src: Path) -> int:
    """Return the sequence length the embedding model was trained for (sentence-transformers config first)."""
    try:
        return int(json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        pass
    limits = []
    for name, key in (("tokenizer_config.json", "model_max_length"), ("config.json", "max_position_embeddings")):
        try:
            limits.append(int(json.loads((src / name).read_text())[key]))
        except (OSError, ValueError, KeyError, OverflowError):
            pass
    return min([v for v in limits if 0 < v < 100_000] or [512])


def save_mel_filters(src: Path, dst: Path) -> None:
    """Save Whisper's mel filter bank, which the torch-free engine reads instead of transformers' processor."""
    import numpy as np
    from transformers import WhisperFeatureExtractor

    with readable_source(src) as readable:
        extractor = WhisperFeatureExtractor.from_pretrained(str(readable))
    np.save(dst / MEL_FILTERS, np.asarray(extractor.mel_filters, dtype=np.float64))


def run_extras(src: Path, dst: Path, extras: Sequence[str], meta: dict[str, Any]) -> None:
    """Run the post-export steps a handler asked for, recording what they found in `meta`."""
    unknown = sorted(set(extras) - set(EXTRAS))
    if unknown:
        raise ValueError(f"unknown export extras {unknown} (known: {', '.join(EXTRAS)})")
    if "fast_tokenizer" in extras:
        save_fast_tokenizer(src, dst)
    if "sentence_max_length" in extras:
        meta["max_length"] = sentence_max_length(src)
    if "mel_filters" in extras:
        save_mel_filters(src, dst)


def export(ort_class: str, src: Path, dst: Path, merge: bool, extras: Sequence[str]) -> dict[str, Any]:
    """Export to ONNX (merging seq2seq decoders when asked) and run the extras; return the export's facts."""
    optimum_export(ort_class, src, dst)
    if merge:
        merge_decoders(dst)
    meta: dict[str, Any] = {"ort_class": ort_class, "opset": onnx_opset(dst), "merged_decoder": merge}
    run_extras(src, dst, extras, meta)
    return meta


def export_openvino(ort_class: str, src: Path, dst: Path, extras: Sequence[str]) -> dict[str, Any]:
    """Export to ONNX, then convert every graph to OpenVINO IR (`<name>.xml/.bin`) beside the other files.

    The decoders stay unmerged: OpenVINO's CPU plug-in refuses the merged decoder's `If` (dynamic rank).
    """
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="openmodels-ov-") as tmp:
        onnx_dir = Path(tmp) / "onnx"
        optimum_export(ort_class, src, onnx_dir)
        graphs = sorted(onnx_dir.glob("*.onnx"))
        copy_other_files(onnx_dir, dst, lambda name: name.endswith((".onnx", ".onnx_data")))
        for path in graphs:
            # compress_to_fp16=False: the IR keeps fp32 weights, the variant the gallery reports.
            ov.save_model(ov.convert_model(str(path)), str(dst / f"{path.stem}.xml"), compress_to_fp16=False)
        meta: dict[str, Any] = {"ort_class": ort_class, "ir": [f"{p.stem}.xml" for p in graphs],
                                "onnx_opset": onnx_opset(onnx_dir), "openvino": ov.__version__}
    run_extras(src, dst, extras, meta)
    return meta


# -- int8 ----------------------------------------------------------------------------------------------------


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


def quantize_dynamic(fp32_dir: Path, int8_dir: Path, config_name: str) -> list[str]:
    """Quantize every ONNX file of an exported folder into `int8_dir` under the same names; copy the rest."""
    from optimum.onnxruntime import ORTQuantizer

    onnx_files = sorted(p.name for p in fp32_dir.glob("*.onnx"))
    if not onnx_files:
        raise FileNotFoundError(f"no ONNX file in {fp32_dir}")
    copy_other_files(fp32_dir, int8_dir, lambda name: name.endswith((".onnx", ".onnx_data")))
    for name in onnx_files:
        quantizer = ORTQuantizer.from_pretrained(fp32_dir, file_name=name)
        config = quantization_config(config_name, activation_matmuls(fp32_dir / name))
        # file_suffix=None keeps the file names, so the engines load the int8 folder unchanged.
        quantizer.quantize(config, save_dir=int8_dir, file_suffix=None)
    return onnx_files


def quantize_blockwise(fp32_dir: Path, int8_dir: Path, files: Sequence[str]) -> list[str]:
    """Quantize the MatMul weights of the named ONNX files to int8 in blocks (MatMulNBits); copy everything else.

    For autoregressive decoders, which read every weight once per token: each block of 128 weights has its own
    scale, and activations are quantized per block at run time (accuracy_level 4, ONNX Runtime's int8
    dot-product kernels). Measured on Whisper: per-tensor dynamic int8 changed a third of tiny.en's tokens;
    this kept both Whispers' example transcripts identical.
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


def compress_openvino(fp32_dir: Path, int8_dir: Path) -> list[str]:
    """Write int8 weights (NNCF, asymmetric, per output channel) for every IR in a folder; copy the rest.

    Weights only: activations stay fp32, so no calibration data is needed. On MiniLM (2 AMD cores) this
    took a 16-token call from 1.9 to 0.84 ms, at a per-token cosine of 0.9986 to fp32.
    """
    import nncf
    import openvino as ov

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


def convert_source(converter: str, module: str | None, src: Path, dst: Path) -> None:
    """Run a registered source converter (e.g. Whisper CTranslate2 -> Hugging Face folder).

    `module` is where the serving process found it registered; importing it runs its `@register`.
    """
    import importlib

    from gallery.runtime.converters import get_converter

    if module:
        importlib.import_module(module)
    get_converter(converter)(src, dst)
