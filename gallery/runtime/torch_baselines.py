"""The plain PyTorch baselines (`backend: torch`) of tasks that transformers 5 has no pipeline for.

transformers 5 dropped the question-answering and text2text/summarization/translation pipelines. Their
baselines are the transformers model in PyTorch eager fp32 under the same pre- and post-processing as the
gallery's engines: for question answering the model stands in for the ONNX graph (`TorchSession`), for seq2seq
it runs transformers' own greedy `generate`. Benchmarks then compare the model runtimes, not two tokenizers.
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gallery.runtime.causal_lm_onnx import DecodingLoop
from gallery.runtime.openvino import Port


class TorchSession:
    """A transformers model behind ONNX Runtime's session methods, for the engines' `session(path)` factories."""

    def __init__(self, model: Any, outputs: Sequence[str]) -> None:
        self.model = model
        accepted = inspect.signature(model.forward).parameters
        self._inputs = [Port(name, [None, None], "tensor(int64)") for name in
                        ("input_ids", "attention_mask", "token_type_ids") if name in accepted]
        self._outputs = [Port(name, [None, None]) for name in outputs]

    def get_inputs(self) -> list[Port]:
        """Return the model's token inputs."""
        return list(self._inputs)

    def get_outputs(self) -> list[Port]:
        """Return the outputs the engine reads."""
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        """Return where the model runs."""
        return ["torch-cpu"]

    def run(self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the model on numpy feeds; return the named outputs as numpy arrays."""
        import torch

        with torch.inference_mode():
            out = self.model(**{name: torch.from_numpy(np.asarray(value)) for name, value in feeds.items()})
        names = list(output_names) if output_names else [p.name for p in self._outputs]
        return [out[name].detach().float().numpy() for name in names]


class InMemory:
    """A session factory that returns one in-memory session whatever graph the engine asks for."""

    in_memory = True  # engine_base.open_graph: no graph file is needed

    def __init__(self, session: TorchSession) -> None:
        self.session = session

    def __call__(self, path: Path) -> TorchSession:
        """Return the session (the path names the graph an export would hold)."""
        return self.session


def question_answerer(src: Path) -> Any:
    """Return the QuestionAnswerer engine over the PyTorch model of a source folder."""
    from transformers import AutoModelForQuestionAnswering

    from gallery.runtime.text_engines import QuestionAnswerer

    model = AutoModelForQuestionAnswering.from_pretrained(str(src)).eval()
    return QuestionAnswerer(src, InMemory(TorchSession(model, ["start_logits", "end_logits"])))


class TorchSeq2Seq:
    """transformers' greedy `generate` on the PyTorch model, answering like the ONNX seq2seq engine."""

    def __init__(self, src: Path, task: str) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from gallery.runtime.seq2seq_onnx import RETURN_NAMES

        self.model = AutoModelForSeq2SeqLM.from_pretrained(str(src)).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(str(src))
        self.task = task
        self.output_key = f"{RETURN_NAMES[task.split('_')[0]]}_text"
        params = (getattr(self.model.config, "task_specific_params", None) or {}).get(task) or {}
        self.prefix = str(params.get("prefix", getattr(self.model.config, "prefix", None)) or "")
        self._lock = threading.Lock()  # a fast tokenizer's settings are not safe to share across threads
        self.providers = ["torch-cpu"]

    def generate_ids(self, text: str, max_new_tokens: int | None = None, **kwargs: Any) -> list[int]:
        """Return the greedy output ids (start token first), as `model.generate(...)[0]`."""
        import torch

        with self._lock:
            encoded = self.tokenizer(self.prefix + text, truncation=True, return_tensors="pt")
        options = {"do_sample": False, "num_beams": 1, **kwargs}
        if max_new_tokens is not None:
            options["max_new_tokens"] = max_new_tokens
        with torch.inference_mode():
            return [int(t) for t in self.model.generate(**encoded, **options)[0]]

    def __call__(self, inputs: str | Sequence[str], **kwargs: Any) -> list[dict[str, str]]:
        """Generate from one text or a list: [{key: text}, ...]."""
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        results = []
        for text in texts:
            ids = self.generate_ids(text, **kwargs)
            with self._lock:
                results.append({self.output_key: self.tokenizer.decode(ids, skip_special_tokens=True)})
        return results


class TorchCausalLM(DecodingLoop):
    """The PyTorch causal LM (eager fp32) under the ONNX engine's decoding loop, plus transformers' `generate`."""

    def __init__(self, src: Path) -> None:
        from tokenizers import Tokenizer
        from transformers import AutoModelForCausalLM

        from gallery.runtime.causal_lm_onnx import read_eos_ids
        from gallery.runtime.engine_base import read_json

        src = Path(src)
        self.model = AutoModelForCausalLM.from_pretrained(str(src), dtype="float32").eval()
        self.tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        self.eos_ids = read_eos_ids(src)
        self.max_positions = int(read_json(src / "config.json").get("max_position_embeddings", 2048))
        self.providers = ["torch-cpu"]

    def _forward(self, ids: Sequence[int], past: Any) -> tuple[np.ndarray, Any]:
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([list(ids)], dtype=torch.long), past_key_values=past,
                             use_cache=True)
        return out.logits[0, -1].float().numpy(), out.past_key_values

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, Any]:
        """Run the prompt with no cache."""
        return self._forward(ids, None)

    def advance(self, token: int, state: Any) -> tuple[np.ndarray, Any]:
        """Run one token after the cache."""
        return self._forward([token], state)

    def logits(self, prompt: str) -> np.ndarray:
        """Return the next-token logits after the prompt."""
        return self.prefill(self.encode(prompt))[0]

    def hf_generate_ids(self, prompt: str, max_new_tokens: int = 32) -> list[int]:
        """Return transformers' own greedy `generate` new ids (the benchmark's plain PyTorch reference)."""
        import torch

        ids = torch.tensor([self.encode(prompt)], dtype=torch.long)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                      num_beams=1, max_new_tokens=max_new_tokens)
        return [int(t) for t in out[0, ids.shape[1]:]]
