"""Input languages a manifest may declare: ISO 639-1 codes, plus `zxx` for inputs with no language at all."""

from __future__ import annotations

# ISO 639-1 (two-letter) codes. Region or script subtags (zh-Hans, en-GB) are left out on purpose: a card's
# badge and the Home filter speak of languages, and a demo that reads Chinese reads it in either script.
ISO_639_1: frozenset[str] = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu
ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na
nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so
sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())
# ISO 639-2's "no linguistic content": a photo, a recording of traffic, a series of numbers.
NO_LANGUAGE = "zxx"
CODES: frozenset[str] = ISO_639_1 | {NO_LANGUAGE}

# How a badge names a language, in each interface language; any other code shows as itself, upper-cased.
NAMES: dict[str, tuple[str, str]] = {
    "en": ("English", "英文"), "zh": ("Chinese", "中文"), "es": ("Spanish", "西班牙文"), "fr": ("French", "法文"),
    "de": ("German", "德文"), "it": ("Italian", "意大利文"), "pt": ("Portuguese", "葡萄牙文"),
    "nl": ("Dutch", "荷兰文"), "ru": ("Russian", "俄文"), "uk": ("Ukrainian", "乌克兰文"), "pl": ("Polish", "波兰文"),
    "tr": ("Turkish", "土耳其文"), "ar": ("Arabic", "阿拉伯文"), "hi": ("Hindi", "印地文"), "ja": ("Japanese", "日文"),
    "ko": ("Korean", "韩文"), "vi": ("Vietnamese", "越南文"), "id": ("Indonesian", "印尼文"), "sv": ("Swedish", "瑞典文"),
    NO_LANGUAGE: ("Any language", "不限语言"),
}


def check_code(code: str) -> str:
    """Return `code` if it is a known input language code, else raise ValueError saying what is accepted."""
    if code in CODES:
        return code
    hint = f" (write {code.split('-')[0].lower()!r})" if code.split("-")[0].lower() in CODES else ""
    raise ValueError(f"unknown language code {code!r}{hint}: use lower-case ISO 639-1 codes such as en or zh, "
                     f"or {NO_LANGUAGE} for an input with no language (an image, numbers)")


def language_name(code: str, lang: str) -> str:
    """Return the name of input language `code` in interface language `lang` (en or zh)."""
    names = NAMES.get(code)
    if names is None:
        return code.upper()
    return names[1] if lang.startswith("zh") else names[0]
