"""Next-word explorer: a small language model continues a sentence token by token, showing its top-5 choices."""

from __future__ import annotations

import logging
from typing import Any, Iterator

from gallery.context import DemoContext
from gallery.errors import InputError

logger = logging.getLogger("demos.education.next-word-explorer")

TOP_K = 5


def _check_prompt(prompt: str) -> str:
    """Return the prompt without outer spaces; refuse one with no letters or digits."""
    text = prompt.strip()
    if not any(ch.isalnum() for ch in text):
        raise InputError("write the start of a sentence: the prompt has no words", "prompt")
    return text


def _step(step: Any) -> dict[str, Any]:
    """Return one decoding step as JSON-safe values."""
    return {"token": step.token, "text": step.text, "probability": round(step.probability, 6),
            "top": [{"token": c.token, "text": c.text, "probability": round(c.probability, 6)} for c in step.top]}


def stream(ctx: DemoContext, prompt: str, max_new_tokens: int, temperature: float) -> Iterator[dict[str, Any]]:
    """Yield the growing result after each generated token (the UI shows each; the API keeps the last)."""
    text = _check_prompt(prompt)
    model = ctx.model("lm")
    steps: list[dict[str, Any]] = []
    continuation = ""
    finished = False
    for step in model.stream(text, max_new_tokens, temperature=temperature, top_k=TOP_K):
        steps.append(_step(step))
        continuation += step.text
        finished = step.finished
        yield {"prompt": text, "continuation": continuation, "text": text + continuation, "steps": list(steps),
               "tokens": len(steps), "stopped": "end" if finished else "running", "temperature": temperature}
    logger.info("generated %d tokens (temperature %.2f)", len(steps), temperature)
    yield {"prompt": text, "continuation": continuation, "text": text + continuation, "steps": steps,
           "tokens": len(steps), "stopped": "end" if finished else "limit", "temperature": temperature}


def predict(ctx: DemoContext, prompt: str, max_new_tokens: int, temperature: float) -> dict[str, Any]:
    """Return the prompt's continuation and every step's top-5 next tokens with their probabilities."""
    result: dict[str, Any] = {}
    for result in stream(ctx, prompt, max_new_tokens, temperature):
        pass
    return result


def _shown(token_text: str) -> str:
    """Return a token's text with its spaces and line breaks visible."""
    return repr(token_text)[1:-1].replace(" ", "␣") if token_text else "∅"


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return the text and a table of the steps, with headers in the visitor's language."""
    import pandas as pd

    zh = lang == "zh"
    headers = ["#", "选中" if zh else "Chosen", "其概率" if zh else "Its probability", "1", "2", "3", "4", "5"]
    rows = []
    for index, step in enumerate(result.get("steps", []), start=1):
        top = [f"{_shown(c['text'])} ({c['probability']:.1%})" for c in step["top"]]
        rows.append([index, _shown(step["text"]), f"{step['probability']:.1%}", *(top + [""] * (TOP_K - len(top)))])
    return {"text": result.get("text", ""), "steps": pd.DataFrame(rows, columns=headers)}
