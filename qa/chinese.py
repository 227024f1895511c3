"""Chinese text as the phrase rules compare it: a transcript may come back in traditional characters,
with full-width letters and digits, and with numbers spoken as characters (工号一零零二, 幺零零二);
the scorecard's phrases are written in simplified characters with Arabic digits. Both sides go
through ``normalise`` so that 歡迎致電 matches 欢迎致电 and 工号一零零二 matches 工号1002.

OpenCC (the reference converter, with its own dictionaries) turns traditional into simplified, and
cn2an reads Chinese numerals as digits; text without Chinese characters passes unchanged."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cn2an
import opencc

_HAN = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Full-width forms folded (NFKC), traditional characters simplified, numerals as digits."""
    text = unicodedata.normalize("NFKC", text)
    if not _HAN.search(text):
        return text
    text = _converter().convert(text)
    try:
        return cn2an.transform(text, "cn2an")
    except (ValueError, KeyError):  # a run it cannot read as a number: the characters stay
        return text
