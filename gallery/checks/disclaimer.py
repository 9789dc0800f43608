"""Disclaimer: healthcare and finance demos say, in demo.yaml and the model card, that they are not advice."""

from __future__ import annotations

import re

from gallery.checks.base import DemoFolder, Problem
from gallery.checks.bilingual import has_chinese, has_english
from gallery.checks.readme import DISCLAIMER_SECTION, read_sections, section
from gallery.manifest import SECTORS_NEEDING_DISCLAIMER

# What the disclaimer must say, in each language, per sector.
NOT_ADVICE_EN = {
    "healthcare": re.compile(r"\bnot\b[^.]{0,40}\bmedical advice\b", re.I),
    "finance": re.compile(r"\bnot\b[^.]{0,40}\b(?:financial|investment) advice\b", re.I),
}
NOT_ADVICE_ZH = {
    "healthcare": re.compile(r"(?:医疗|医学|诊疗)建议"),
    "finance": re.compile(r"(?:财务|投资|理财|金融)建议"),
}
PHRASES = {
    "healthcare": ("not medical advice", "不构成医疗建议"),
    "finance": ("not financial advice", "不构成投资建议"),
}


def check(folder: DemoFolder) -> list[Problem]:
    """Report a missing disclaimer, or one that does not say 'not medical/financial advice' in en and zh."""
    sector = folder.sector
    if folder.data is None or sector not in SECTORS_NEEDING_DISCLAIMER:
        return []
    en_phrase, zh_phrase = PHRASES[sector]
    path = folder.manifest_path
    disclaimer = folder.get("disclaimer")
    problems = []
    if disclaimer is None:
        problems.append(Problem(path, "disclaimer",
                                f"missing: {sector} demos need one in en and zh, saying it is {en_phrase!r} "
                                f"({zh_phrase})"))
    elif isinstance(disclaimer, dict):
        en, zh = disclaimer.get("en"), disclaimer.get("zh")
        # Text in the wrong language (or none) is the bilingual check's to report; here only what it says.
        if isinstance(en, str) and has_english(en) and not NOT_ADVICE_EN[sector].search(en):
            problems.append(Problem(path, "disclaimer.en", f"must say plainly that this is {en_phrase!r}"))
        if isinstance(zh, str) and has_chinese(zh) and not NOT_ADVICE_ZH[sector].search(zh):
            problems.append(Problem(path, "disclaimer.zh", f"must say plainly that this is {zh_phrase!r}"))
    readme = folder.path / "README.md"
    sections = read_sections(readme)
    body = section(sections, DISCLAIMER_SECTION) if sections is not None else None
    # A missing README or section is the readme check's to report; here only what the section says.
    if body and not NOT_ADVICE_EN[sector].search(body):
        problems.append(Problem(readme, "## Disclaimer", f"must say plainly that this is {en_phrase!r}"))
    return problems
