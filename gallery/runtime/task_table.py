"""The task table: each model task's handler (`module:Class`, imported on first use), input kind and options.

Adding a task is one handler file and one line here; nothing else compares task names. The manifest's `task:`
accepts exactly these names (spec.ModelTask), `gallery check` validates `options:` with the task's model, the
int8 check reads calibration inputs of the task's input kind, and the registry builds through the handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from gallery.runtime.task_options import (EmbeddingOptions, ExportOptions, FactoryOptions, OnnxFileOptions,
                                          SpeechOptions, TextGenerationOptions, TorchModuleOptions)


@dataclass(frozen=True)
class TaskEntry:
    """One row of the task table."""

    handler: str  # `module:Class`; the class is built with the task name
    input_kind: str  # what the int8 check feeds it: text, image, audio, or tensor (no check)
    options: type[BaseModel]  # the typed `options:` of a model spec of this task


TASKS: dict[str, TaskEntry] = {
    "feature-extraction": TaskEntry("gallery.runtime.embedding_task:EmbeddingHandler", "text", EmbeddingOptions),
    "text-classification": TaskEntry("gallery.runtime.logits_task:LogitsHandler", "text", ExportOptions),
    "token-classification": TaskEntry("gallery.runtime.logits_task:LogitsHandler", "text", ExportOptions),
    "question-answering": TaskEntry("gallery.runtime.logits_task:LogitsHandler", "text", ExportOptions),
    "text2text-generation": TaskEntry("gallery.runtime.seq2seq_task:Seq2SeqHandler", "text", ExportOptions),
    "translation": TaskEntry("gallery.runtime.seq2seq_task:Seq2SeqHandler", "text", ExportOptions),
    "summarization": TaskEntry("gallery.runtime.seq2seq_task:Seq2SeqHandler", "text", ExportOptions),
    "text-generation": TaskEntry("gallery.runtime.causal_lm_task:CausalLMHandler", "text", TextGenerationOptions),
    "automatic-speech-recognition": TaskEntry("gallery.runtime.asr:SpeechHandler", "audio", SpeechOptions),
    "image-classification": TaskEntry("gallery.runtime.image_task:ImageHandler", "image", ExportOptions),
    "onnx": TaskEntry("gallery.runtime.onnx_file:OnnxFileHandler", "tensor", OnnxFileOptions),
    "torch-module": TaskEntry("gallery.runtime.torchmodule:TorchModuleHandler", "tensor", TorchModuleOptions),
    "custom": TaskEntry("gallery.runtime.custom:CustomHandler", "tensor", FactoryOptions),
}


def parse_options(task: str, options: dict[str, Any]) -> BaseModel:
    """Return the task's typed options; raise ValueError naming each bad option and, for a typo, the known ones."""
    model = TASKS[task].options
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = "options." + ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(f"{where}: unknown option for task {task} (known: {', '.join(model.model_fields)})")
            else:
                problems.append(f"{where}: {error['msg']}")
        raise ValueError("; ".join(problems)) from None
