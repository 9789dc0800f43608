"""Pinyin tutor: g2pM's pinyin with tone marks, a table per character, and the polyphones worth checking."""

from __future__ import annotations

import logging
from typing import Any

from gallery.context import DemoContext
from shared.chinese import require_chinese
from shared.pinyin import pinyin_line

logger = logging.getLogger(__name__)

REASONS = {
    "known-polyphone": {"en": "a character read differently in different words",
                        "zh": "在不同词语中读音不同的常见多音字"},
    "low-confidence": {"en": "the model was not sure", "zh": "模型把握不大"},
    "unknown-character": {"en": "not in the model's dictionary", "zh": "不在模型的字典中"},
}


def predict(ctx: DemoContext, text: str) -> dict[str, Any]:
    """Return the pinyin (tone marks and tone numbers), every character's reading and the unsure polyphones."""
    require_chinese(text, "text")
    readings = ctx.model("g2p").read(text)
    characters = [r.as_dict() for r in readings if r.numbered is not None or r.unsure]
    unsure = [c for c in characters if c["unsure"]]
    logger.info("%s: %d characters, %d polyphones, %d to check", ctx.id, len(characters),
                sum(1 for c in characters if c["candidates"]), len(unsure))
    return {
        "pinyin": pinyin_line(readings),
        "numbered": pinyin_line(readings, marks=False),
        "characters": characters,
        "unsure": unsure,
    }


def _percent(probability: float) -> str:
    return f"{probability:.0%}" if probability >= 0.01 else "<1%"


def unsure_markdown(result: dict[str, Any], lang: str = "en") -> str:
    """Return the characters to check, each with its reading, the alternatives and why it is flagged, in `lang`."""
    zh = lang == "zh"
    unsure = result["unsure"]
    if not unsure:
        return ("没有需要核对的多音字：每个字要么只有一个读音，要么模型很有把握。" if zh else
                "Nothing to check: every character has one reading, or the model was sure of it.")
    lines = [f"**有 {len(unsure)} 个字需要核对**（模型可能选错了读音）：" if zh else
             f"**{len(unsure)} character{'s' if len(unsure) > 1 else ''} to check** (the model may have picked "
             "the wrong reading):"]
    for item in unsure:
        why = REASONS[item["reason"]]["zh" if zh else "en"]
        where = f"第 {item['index'] + 1} 字" if zh else f"position {item['index'] + 1}"
        if not item["candidates"]:
            lines.append(f"- {item['char']}（{where}）：{why}" if zh else f"- {item['char']} ({where}): {why}")
            continue
        best, *others = item["candidates"]
        alternatives = ("、" if zh else ", ").join(f"{o['pinyin']} {_percent(o['probability'])}" for o in others)
        if zh:
            lines.append(f"- {item['char']}（{where}）：读作 **{best['pinyin']}**（{_percent(best['probability'])}），"
                         f"也可能读 {alternatives}；{why}")
        else:
            lines.append(f"- {item['char']} ({where}): read as **{best['pinyin']}** ({_percent(best['probability'])}), "
                         f"or {alternatives}; {why}")
    advice = ("请根据词语在词典中核对这些字的读音。" if zh else
              "Check these readings in a dictionary, by the word each character is in.")
    return "\n".join(lines) + "\n\n" + advice


def character_rows(result: dict[str, Any], lang: str = "en") -> list[list[Any]]:
    """Return one table row per character: number, character, pinyin, tone number, other readings, confidence."""
    zh = lang == "zh"
    rows = []
    for item in result["characters"]:
        others = "、".join(c["pinyin"] for c in item["candidates"][1:]) if zh else \
            ", ".join(c["pinyin"] for c in item["candidates"][1:])
        if item["candidates"]:
            confidence = _percent(item["candidates"][0]["probability"])
            if item["unsure"]:
                confidence += " ⚠ 请核对" if zh else " ⚠ check"
        elif item["numbered"] is None:
            confidence = "⚠ 未知字" if zh else "⚠ unknown"
        else:
            confidence = "单音字" if zh else "one reading"
        rows.append([item["index"] + 1, item["char"], item["pinyin"] or "?", item["numbered"] or "?",
                     others or "—", confidence])
    return rows


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the pinyin line, the characters to check and the per-character table, in the page's language."""
    import pandas as pd  # deferred: only the UI renders tables

    zh = lang == "zh"
    headers = ["#", "汉字", "拼音", "数字声调", "其他读音", "模型把握"] if zh else \
        ["#", "Character", "Pinyin", "Tone number", "Other readings", "Model's confidence"]
    return {
        "pinyin": result["pinyin"],
        "unsure": unsure_markdown(result, lang),
        "characters": pd.DataFrame(character_rows(result, lang), columns=headers),
    }
