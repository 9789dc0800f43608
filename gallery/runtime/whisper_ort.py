"""A faster greedy decoding loop for Whisper on ONNX Runtime, used inside Whisper's own `generate`.

`ORTModelForSpeechSeq2Seq.generate` spends most of each step outside ONNX Runtime: optimum turns the
cross-attention key/values (megabytes per layer) and the self-attention cache into torch tensors and back
on every token, and the suppress-token processors rebuild their vocabulary mask (torch.isin, milliseconds)
on every step. `OrtGreedy`, passed as `generate(custom_generate=...)`, replaces only the decoding loop
(GenerationMixin._sample): it keeps every key/value as an ONNX Runtime OrtValue, feeds the decoder sessions
directly and builds those masks once. Everything else (prompt tokens, suppressed tokens, timestamp rules,
no-repeat rules, stopping) is still set up by `generate`; the loop applies the same processors and
stopping criteria to the same logits, so the tokens are the same.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_PAST, _PRESENT = "past_key_values", "present"


class _Sessions:
    """The plain decoder and the decoder-with-past sessions, with their input and output names."""

    def __init__(self, model: Any) -> None:
        self.first = model.decoder.session
        self.step = model.decoder_with_past.session
        self.first_outputs = [o.name for o in self.first.get_outputs()]
        self.step_inputs = [i.name for i in self.step.get_inputs()]
        self.step_outputs = [o.name for o in self.step.get_outputs()]


def _supported(model: Any) -> bool:
    """Return whether the model has the separate decoder / decoder-with-past sessions this loop drives."""
    decoder = getattr(model, "decoder", None)
    with_past = getattr(model, "decoder_with_past", None)
    if decoder is None or with_past is None or getattr(decoder, "is_merged", True):
        return False
    # CPU only: on a GPU the outputs would stay on the device and the copies would be different ones.
    if any(p != "CPUExecutionProvider" for s in (decoder, with_past) for p in s.session.get_providers()):
        return False
    step_inputs = {i.name for i in with_past.session.get_inputs()}
    first_inputs = {i.name for i in decoder.session.get_inputs()}
    # Only the inputs this loop knows how to feed (no attention masks, cache positions or merged branches).
    return first_inputs == {"input_ids", "encoder_hidden_states"} and all(
        name == "input_ids" or name.startswith(_PAST) for name in step_inputs)


class OrtGreedy:
    """A `custom_generate` decoding method for `generate`: greedy, one sequence, key/values kept in ORT."""

    def __init__(self, model: Any) -> None:
        self.sessions = _Sessions(model)

    def __call__(self, model: Any, input_ids: Any, logits_processor: Any, stopping_criteria: Any,
                 generation_config: Any, synced_gpus: bool = False, streamer: Any = None, **model_kwargs: Any) -> Any:
        """Decode like GenerationMixin._sample; anything but plain greedy decoding of one sequence goes there."""
        cfg = generation_config
        plain = (not cfg.do_sample and not cfg.return_dict_in_generate and streamer is None and not synced_gpus
                 and input_ids.shape[0] == 1 and model_kwargs.get("encoder_outputs") is not None
                 and model_kwargs.get("past_key_values") is None
                 and model_kwargs.get("decoder_attention_mask") is None)
        if not plain:
            return type(model)._sample(model, input_ids, logits_processor, stopping_criteria, generation_config,
                                       synced_gpus=synced_gpus, streamer=streamer, **model_kwargs)
        return _greedy(self.sessions, input_ids, _cached(logits_processor), stopping_criteria, model_kwargs)


def greedy_for(model: Any) -> OrtGreedy | None:
    """Return the fast decoding method for an ORT Whisper model, None where it does not fit (torch, merged)."""
    try:
        return OrtGreedy(model) if _supported(model) else None
    except AttributeError:  # not an optimum seq2seq model (e.g. PyTorch): generate() keeps its own loop
        return None


class _CachedSuppress:
    """SuppressTokens(AtBegin)LogitsProcessor with its token mask built once instead of on every step."""

    def __init__(self, processor: Any, vocab: int) -> None:
        import torch
        from transformers.pytorch_utils import isin_mps_friendly

        tokens = getattr(processor, "suppress_tokens", None)
        if tokens is None:
            tokens = processor.begin_suppress_tokens
        self.mask = isin_mps_friendly(torch.arange(vocab), tokens)
        self.processor = processor

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        begin = getattr(self.processor, "begin_index", None)
        if begin is not None and input_ids.shape[-1] != begin:
            return scores
        return torch.where(self.mask, -float("inf"), scores)


def _cached(processors: Any) -> Any:
    """Return the processors with the two suppressing ones replaced by equivalents that cache their mask."""
    from transformers.generation.logits_process import (
        SuppressTokensAtBeginLogitsProcessor,
        SuppressTokensLogitsProcessor,
    )

    kinds = (SuppressTokensLogitsProcessor, SuppressTokensAtBeginLogitsProcessor)
    cache: dict[int, Any] = {}

    def run(input_ids: Any, scores: Any) -> Any:
        for index, processor in enumerate(processors):
            if type(processor) in kinds:
                if index not in cache:
                    cache[index] = _CachedSuppress(processor, scores.shape[-1])
                processor = cache[index]
            scores = processor(input_ids, scores)
        return scores

    return run


def _greedy(sessions: _Sessions, input_ids: Any, logits_processor: Any, stopping_criteria: Any,
            model_kwargs: dict[str, Any]) -> Any:
    """Run GenerationMixin._sample's greedy loop for one sequence with the key/values kept in ONNX Runtime."""
    import onnxruntime as ort
    import torch

    hidden = model_kwargs["encoder_outputs"].last_hidden_state
    hidden = hidden.detach().cpu().contiguous().numpy()
    prompt = input_ids.detach().cpu().numpy().astype(np.int64)
    values = sessions.first.run_with_ort_values(
        sessions.first_outputs,
        {"input_ids": ort.OrtValue.ortvalue_from_numpy(prompt),
         "encoder_hidden_states": ort.OrtValue.ortvalue_from_numpy(hidden)})
    present = dict(zip(sessions.first_outputs, values))
    feed = {name: present[_PRESENT + name[len(_PAST):]] for name in sessions.step_inputs if name != "input_ids"}
    logits = present["logits"]
    step_outputs = sessions.step_outputs
    renames = [(_PAST + name[len(_PRESENT):]) for name in step_outputs[1:]]
    while True:
        # Same as _sample: the last position's logits, as float32, through the same processors.
        scores = torch.from_numpy(logits.numpy()[:, -1, :].astype(np.float32, copy=True))
        scores = logits_processor(input_ids, scores)
        # One unfinished sequence: _sample's padding of finished sequences never applies.
        next_tokens = torch.argmax(scores, dim=-1)
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
        if bool(stopping_criteria(input_ids, None).all()):
            return input_ids
        token = np.array([[int(next_tokens[0])]], dtype=np.int64)
        feed["input_ids"] = ort.OrtValue.ortvalue_from_numpy(token)
        values = sessions.step.run_with_ort_values(step_outputs, feed)
        logits = values[0]
        for name, value in zip(renames, values[1:]):
            feed[name] = value
