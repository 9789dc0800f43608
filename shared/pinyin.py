"""Mandarin pinyin with g2pM: each character's reading, tone marks, and how sure the model is of polyphones."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.chinese import HAN

logger = logging.getLogger(__name__)

# Characters whose reading depends on the word they are in (多音字) and that learners meet early: each is flagged
# for checking whatever the model's confidence, because g2pM is often sure and wrong on them (it read 银行 as
# yin2 xing2 with 97%). Chosen from common heteronyms; it includes those g2pM missed in development. Very
# frequent ones with one dominant reading (中 要 看 和 只 了 的 着) are flagged only when the model is unsure.
KNOWN_POLYPHONES = frozenset(
    "行长发重乐还好得都传教数种背差觉调便朝少几处空假称转降省冲将强难应干量薄供藏曾模率"
    "折结给兴似吐落卷散缝挣扎圈奔担宿弹倒吓划晃尽累露蒙宁泊铺曲塞扇削旋压咽载涨正")
# Below this probability of its chosen reading a polyphonic character is flagged too.
MIN_CONFIDENCE = 0.9
# g2pM reads a sentence at a time; long texts are read in pieces that end at a sentence end (or this size).
MAX_PIECE = 120
_PIECE_END = re.compile(r"[。！？；!?;\n]")

_MARKS = {"a": "āáǎà", "e": "ēéěè", "i": "īíǐì", "o": "ōóǒò", "u": "ūúǔù", "ü": "ǖǘǚǜ"}
_COMBINING = "\u0304\u0301\u030c\u0300"  # macron, acute, caron, grave: for syllables without a vowel (n2, m2)


def tone_marks(numbered: str) -> str:
    """Return a numbered syllable ('zhang3', 'lu:4', 'le5') with its tone mark ('zhǎng', 'lǜ', 'le')."""
    match = re.fullmatch(r"([a-zü:v]+)([1-5])", numbered.lower())
    if match is None:
        return numbered
    body, tone = match.group(1).replace("u:", "ü").replace("v", "ü"), int(match.group(2))
    if tone == 5:
        return body
    # The mark goes on a or e; on the o of ou; otherwise on the last vowel (so iu -> iú, ui -> uí).
    if "a" in body:
        at = body.index("a")
    elif "e" in body:
        at = body.index("e")
    elif "ou" in body:
        at = body.index("o")
    else:
        vowels = [i for i, ch in enumerate(body) if ch in _MARKS]
        if not vowels:
            # Precomposed where Unicode has one (ń ň ǹ), else the letter with a combining mark (m̄).
            return unicodedata.normalize("NFC", body[0] + _COMBINING[tone - 1]) + body[1:]
        at = vowels[-1]
    return body[:at] + _MARKS[body[at]][tone - 1] + body[at + 1 :]


def plain_numbered(numbered: str) -> str:
    """Return a numbered syllable with ü spelled as ü ('lu:4' -> 'lü4')."""
    return numbered.replace("u:", "ü")


@dataclass
class Reading:
    """One character of the text: its reading (or None for anything that is not a Han character)."""

    index: int
    char: str
    numbered: str | None = None
    pinyin: str | None = None
    # Only for polyphonic characters: the model's probability of each dictionary reading, best first.
    candidates: list[tuple[str, float]] = field(default_factory=list)
    unsure: bool = False
    reason: str | None = None  # "known-polyphone", "low-confidence" or "unknown-character"

    def as_dict(self) -> dict[str, Any]:
        """Return the reading as a JSON-safe dict."""
        data = asdict(self)
        data["candidates"] = [{"numbered": n, "pinyin": tone_marks(n), "probability": round(p, 4)}
                              for n, p in self.candidates]
        return data


class PinyinReader:
    """g2pM (a bi-LSTM over characters with CC-CEDICT readings) that also returns each polyphone's probabilities."""

    backend = "numpy"

    def __init__(self) -> None:
        from g2pM import G2pM

        self.model = G2pM()
        self.unk = self.model.char2idx["<UNK>"]
        # g2pM marks the start and end of a sentence with these two tokens (its own choice of characters).
        self.bos, self.eos = self.model.char2idx["시"], self.model.char2idx["끝"]
        self.class_of = {pron: idx for idx, pron in self.model.idx2class.items()}

    def readings(self, char: str) -> list[str]:
        """Return the character's dictionary readings (numbered; empty for a character g2pM does not know)."""
        return list(self.model.cedict.get(char, []))

    def _poly_logits(self, piece: str, positions: list[int]) -> np.ndarray:
        """Return the model's class logits at `positions` of `piece` (g2pM's forward pass, without its argmax)."""
        model = self.model
        ids = [self.bos] + [model.char2idx.get(ch, self.unk) for ch in piece] + [self.eos]
        inputs = np.array([ids], dtype=np.int32)
        lengths = np.sum(np.sign(inputs), axis=1)
        forward, backward = model.get_embedding(inputs), model.get_embedding(model.reverse_sequence(inputs, lengths))
        fw_state = bw_state = None
        fw_hidden, bw_hidden = [], []
        for step in range(int(lengths.max())):
            fw_state = model.fw_lstm_cell(forward[:, step, :], fw_state)
            bw_state = model.bw_lstm_cell(backward[:, step, :], bw_state)
            fw_hidden.append(fw_state[0])
            bw_hidden.append(bw_state[0])
        hidden = np.concatenate([np.stack(fw_hidden, axis=1),
                                 model.reverse_sequence(np.stack(bw_hidden, axis=1), lengths)], axis=2)[0]
        return model.fc_layer(hidden[[p + 1 for p in positions]])

    def _read_piece(self, piece: str, offset: int) -> list[Reading]:
        out = [Reading(offset + i, ch) for i, ch in enumerate(piece)]
        poly = []
        for i, ch in enumerate(piece):
            if not HAN.match(ch):
                continue
            readings = self.readings(ch)
            if not readings:
                out[i].unsure, out[i].reason = True, "unknown-character"
            elif len(readings) == 1:
                out[i].numbered = readings[0]
            else:
                poly.append(i)
        if poly:
            for i, logits in zip(poly, self._poly_logits(piece, poly)):
                # Only the character's own dictionary readings compete: g2pM's classes cover every syllable.
                options = [r for r in self.readings(piece[i]) if r in self.class_of]
                scores = np.array([logits[self.class_of[r]] for r in options], dtype=np.float64)
                probs = np.exp(scores - scores.max())
                probs /= probs.sum()
                ranked = sorted(zip(options, probs.tolist()), key=lambda item: -item[1])
                reading = out[i]
                reading.numbered, reading.candidates = ranked[0][0], ranked
                if piece[i] in KNOWN_POLYPHONES:
                    reading.unsure, reading.reason = True, "known-polyphone"
                elif ranked[0][1] < MIN_CONFIDENCE:
                    reading.unsure, reading.reason = True, "low-confidence"
        for reading in out:
            if reading.numbered is not None:
                reading.pinyin = tone_marks(reading.numbered)
                reading.numbered = plain_numbered(reading.numbered)
                reading.candidates = [(plain_numbered(n), p) for n, p in reading.candidates]
        return out

    def read(self, text: str) -> list[Reading]:
        """Return one Reading per character of text (polyphones with their probabilities)."""
        out: list[Reading] = []
        start = 0
        while start < len(text):
            end = min(len(text), start + MAX_PIECE)
            stop = _PIECE_END.search(text, start, end)
            end = stop.end() if stop else end
            out.extend(self._read_piece(text[start:end], start))
            start = end
        return out


def pinyin_line(readings: list[Reading], marks: bool = True) -> str:
    """Return the text as pinyin: a syllable per character, other text kept (punctuation joins the word before)."""
    tokens: list[str] = []
    glue = False  # whether the next token attaches to the previous one (after non-Han text such as digits)
    for reading in readings:
        syllable = reading.pinyin if marks else reading.numbered
        if syllable is None and HAN.match(reading.char):
            syllable = "?"
        if syllable is not None:
            tokens.append(syllable)
            glue = False
        elif reading.char.isspace() or unicodedata.category(reading.char).startswith("C"):
            # Spaces separate; control and format characters (zero-width, direction marks, NUL) are dropped.
            glue = False
        elif tokens and (glue or not reading.char.isalnum()):
            tokens[-1] += reading.char
            glue = reading.char.isalnum()
        else:
            tokens.append(reading.char)
            glue = True
    return " ".join(tokens)


def load_g2pm(path: Path, options: dict[str, Any]) -> PinyinReader:
    """Build the pinyin reader from g2pM's package folder (the runtime's `custom` factory)."""
    logger.info("pinyin: loading g2pM from %s", path)
    return PinyinReader()
