"""The int8 recipes' names and the accuracy measures that guard them (the exporter builds the int8 files)."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

logger = logging.getLogger(__name__)

# Thresholds of the accuracy guard (issue 3): int8 is kept only when it stays this close to fp32.
MIN_COSINE = 0.99
MAX_WER_INCREASE = 0.01  # one point of word (token) error rate
# Each recipe's name is part of its int8 cache folder: change the name when the recipe changes.
RECIPE = "pcmm1"  # per-channel dynamic int8 MatMuls (exporter.steps.quantize_dynamic)
OPENVINO_RECIPE = "nncfw8a"  # OpenVINO: NNCF int8 weights, asymmetric (exporter.steps.compress_openvino)
BLOCKWISE_RECIPE = "mnb8b128a4"  # MatMulNBits, 8 bits, blocks of 128, int8 compute (accuracy_level 4)
BLOCK_SIZE = 128


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
