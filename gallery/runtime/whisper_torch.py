"""Whisper on PyTorch through transformers' own `generate`: the baseline the ONNX Runtime engine is measured against."""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from gallery.runtime.whisper_onnx import WhisperFacts


class TorchWhisper:
    """WhisperForConditionalGeneration + WhisperProcessor behind the same methods as OnnxWhisper."""

    def __init__(self, model: Any, processor: Any) -> None:
        self.model = model
        self.processor = processor
        extractor = processor.feature_extractor
        self.sample_rate = int(extractor.sampling_rate)
        self.window_seconds = float(getattr(extractor, "chunk_length", 30))
        base = copy.deepcopy(model.generation_config)
        # The prompt is always given as language/task, never through the deprecated forced ids.
        base.forced_decoder_ids = None
        self._generation = base
        tokenizer = processor.tokenizer
        unknown = tokenizer.unk_token_id

        def token_id(token: str) -> int | None:
            found = tokenizer.convert_tokens_to_ids(token)
            return None if found is None or found == unknown else int(found)

        settings = base.to_dict()
        settings["lang_to_id"] = getattr(base, "lang_to_id", None)
        settings["task_to_id"] = getattr(base, "task_to_id", None)
        self.facts = WhisperFacts.from_config(settings, model.config.to_dict(), token_id)

    def features(self, samples: np.ndarray) -> Any:
        """Return log-mel features from transformers' WhisperFeatureExtractor."""
        return self.processor.feature_extractor(samples, sampling_rate=self.sample_rate,
                                                return_tensors="pt").input_features

    def encode(self, features: Any) -> Any:
        """Return the encoder output (BaseModelOutput)."""
        import torch

        with torch.inference_mode():
            return self.model.get_encoder()(features, None)

    def first_logits(self, encoded: Any, prompt: Sequence[int]) -> np.ndarray:
        """Return the float32 logits after the prompt's last token."""
        import torch

        with torch.inference_mode():
            ids = torch.tensor([list(prompt)], dtype=torch.long)
            logits = self.model(encoder_outputs=encoded, decoder_input_ids=ids).logits[0, -1]
        return logits.float().numpy()

    def generate(self, features: Any, language: str | None, task: str, max_new_tokens: int, timestamps: bool,
                 no_repeat: int = 0, encoded: Any = None) -> list[int]:
        """Run Whisper's `generate` greedily; return the tokens after the prompt."""
        import torch

        # generate writes language, task and timestamps into the config it is given: a fresh copy per call
        # keeps concurrent calls with different settings apart.
        # One decoding pass over the piece, returned as decoded: with timestamps, generate would otherwise seek
        # past the last complete segment and decode again, with timestamps relative to that new start, and
        # drop the tokens after the last segment. SpeechRecognizer cuts the audio and places segments itself.
        kwargs: dict[str, Any] = {"generation_config": copy.deepcopy(self._generation), "do_sample": False,
                                  "num_beams": 1, "max_new_tokens": max_new_tokens, "return_timestamps": timestamps,
                                  "force_unique_generate_call": True, "return_dict_in_generate": True}
        if no_repeat:
            kwargs["no_repeat_ngram_size"] = no_repeat
        if encoded is not None:
            kwargs["encoder_outputs"] = encoded
        if self.facts.multilingual:
            kwargs.update(language=language, task=task)
        with torch.inference_mode():
            out = self.model.generate(features, **kwargs)
        ids = [int(t) for t in out["sequences"][0].tolist()]
        prompt = self.facts.prompt(language, task, timestamps)
        return ids[len(prompt):] if ids[: len(prompt)] == prompt else ids

    def decode(self, tokens: Sequence[int]) -> str:
        """Return the text of tokens without special tokens."""
        return self.processor.tokenizer.decode(list(tokens), skip_special_tokens=True)
