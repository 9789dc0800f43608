"""The typed `options:` of each model task: what a manifest may set, checked when the manifest is read.

A typo (`pooling: maen`, `normalise: true`) is refused by `gallery check` with the file and the field instead of
silently falling back to a default. A new task names its options model in the task table (task_table.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExportOptions(_Options):
    """Options of every task exported through Optimum."""

    calibration: list[str] | None = Field(
        None, description="inputs the int8 accuracy check runs on: texts, or files relative to the demo folder "
                          "(default: the examples of every demo that uses the model)")


class EmbeddingOptions(ExportOptions):
    """feature-extraction: how token states become one sentence vector."""

    pooling: Literal["mean", "cls"] = Field("mean", description="mean of the token states, or the first token's")
    normalize: bool = Field(True, description="scale each vector to length 1 (cosine similarity is a dot product)")
    max_length: int | None = Field(None, ge=8, le=8192, description="tokens kept per text (default: the model's)")
    batch_size: int = Field(32, ge=1, le=1024, description="texts per model call")
    batch: bool = Field(False, description="merge concurrent single-text calls into one model call")
    batch_wait_ms: float = Field(2.0, ge=0, le=1000, description="how long a call waits for others to batch with")


class SpeechOptions(ExportOptions):
    """automatic-speech-recognition: what the int8 check decodes with (a multilingual Whisper)."""

    language: str | None = Field(None, min_length=2, max_length=8, description="spoken language, e.g. `en`")
    whisper_task: Literal["transcribe", "translate"] | None = Field(None, description="Whisper's task token")


class TextGenerationOptions(ExportOptions):
    """text-generation: the most tokens one call may ask a causal language model for."""

    max_new_tokens: int = Field(256, ge=1, le=4096, description="cap on the new tokens of one call")


class OnnxFileOptions(_Options):
    """onnx: a shipped ONNX file, run as it is."""

    file: str = Field("model.onnx", min_length=1, description="the file inside the source folder")
    custom_ops: Literal["onnxruntime-extensions"] | None = Field(
        None, description="the library of custom operators the graph needs (e.g. a tokenizer inside it), registered "
                          "in the session; such a model runs on ONNX Runtime only, never OpenVINO")


class TorchModuleOptions(_Options):
    """torch-module: a demo's own PyTorch module, exported by the serving process."""

    input_shape: list[int] = Field(min_length=1, description="shape of the tracing input, e.g. [1, 3, 224, 224]")
    input_name: str = Field("input", min_length=1)
    output_name: str = Field("output", min_length=1)
    dynamic_batch: bool = Field(True, description="let the batch dimension vary")
    atol: float = Field(1e-3, gt=0, description="largest difference from PyTorch the export may show")


class FactoryOptions(BaseModel):
    """custom: the settings belong to the spec's factory, which gets them as a dict."""

    model_config = ConfigDict(extra="allow", frozen=True)
