"""Chinese text as the phrase rules compare it: a transcript may come back in traditional characters,
with full-width letters and digits, and with numbers spoken as characters (工号一零零二, 幺零零二);
the scorecard's phrases are written in simplified characters with Arabic digits. Both sides go
through ``normalise`` so that 歡迎致電 matches 欢迎致电 and 工号一零零二 matches 工号1002.

OpenCC (the reference converter, with its own dictionaries) turns traditional into simplified, and
cn2an reads Chinese numerals as digits; text without Chinese characters passes unchanged. A phrase
not written the same may still have been said: ``near_miss`` compares pinyin (pypinyin) by edit
distance (rapidfuzz)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cn2an
import opencc
from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

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


@lru_cache(maxsize=8192)
def _syllable(char: str) -> str:
    """A character's pinyin without tone (a non-Chinese character stands for itself)."""
    return lazy_pinyin(char)[0] if _HAN.match(char) else char


def near_miss(text: str, phrase: str) -> str | None:
    """The stretch of ``text`` (both normalised) that sounds like ``phrase`` when it is not written
    the same: Whisper often writes a homophone (欢迎至电 for 欢迎致电) or drops or adds a character.
    A phrase of three characters matches only its homophones; from four on, one syllable may
    differ, go missing or be added. Shorter phrases, and phrases without Chinese, match exactly only."""
    size = len(phrase)
    if size < 3 or not _HAN.search(phrase):
        return None
    wanted = [_syllable(c) for c in phrase]
    heard = [_syllable(c) for c in text]
    budget = 0 if size < 4 else 1
    for width in (size, *((size - 1, size + 1) if budget else ())):
        for start in range(len(text) - width + 1):
            if Levenshtein.distance(heard[start : start + width], wanted, score_cutoff=budget) <= budget:
                return text[start : start + width]
    return None
