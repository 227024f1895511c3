"""Personal data said on a call, hidden in its transcript (handbook §6, 客户资料保密制度): bank card
numbers (13–19 digits that pass the Luhn check), resident ID numbers (身份证, 18 characters with
their GB 11643 check digit) and phone numbers (a Chinese mobile, or any run of 7–15 digits); a
longer run that is neither (a card or an ID heard wrong) is hidden too.

Whisper writes a number as digits, full-width digits or Chinese numerals (一三八…, 幺 for one), with
spaces or dashes between groups; each of those is read as a digit, one character for one, so what
is found maps back onto the text exactly. Redacting keeps the text's length and shape: every digit
of a number becomes ``*`` but its last four, so an inspector still hears where it was said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MASK = "*"
KEEP = 4  # the last digits a redacted number keeps

# One character for one digit: ASCII, full-width, and the numerals Whisper writes for a spoken number.
_DIGITS = {**{str(d): str(d) for d in range(10)}, **{chr(0xFF10 + d): str(d) for d in range(10)},
           **dict(zip("零〇一二三四五六七八九", "00123456789", strict=True)), "幺": "1", "两": "2"}  # fmt: skip
_SEPARATORS = " -‐–—\u3000"
# A run of digits, single separators allowed between them (138 0013 8000, 6222-0212-…), and an ID's
# check digit X at the end.
_D, _S = f"[{re.escape(''.join(_DIGITS))}]", f"[{re.escape(_SEPARATORS)}]"
_RUN = re.compile(f"{_D}(?:{_S}?{_D})*(?:{_S}?[xX])?")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Found:
    kind: str  # card | id | phone | number
    start: int
    end: int


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _resident_id(text: str) -> bool:
    if not re.fullmatch(r"[1-9]\d{16}[\dX]", text):
        return False
    return _ID_CHECK[sum(int(c) * w for c, w in zip(text[:17], _ID_WEIGHTS, strict=True)) % 11] == text[17]


def _kind(digits: str) -> str | None:
    """What a run of digits (an ID's check digit as X) is, if it is personal data."""
    if len(digits) == 18 and _resident_id(digits):
        return "id"
    if "X" in digits:
        return None
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return "card"
    if re.fullmatch(r"1[3-9]\d{9}", digits) or 7 <= len(digits) <= 15:
        return "phone"
    return "number" if len(digits) > 15 else None  # a card or ID heard wrong is still one


def find(text: str) -> list[Found]:
    """The personal numbers in ``text``, in order."""
    found = []
    for run in _RUN.finditer(text):
        digits = "".join(_DIGITS.get(c, c.upper()) for c in run.group() if c not in _SEPARATORS)
        end = run.end()
        if (kind := _kind(digits)) is None and digits.endswith("X"):  # not an ID: the x is a letter
            kind, end = _kind(digits[:-1]), run.start() + len(run.group().rstrip("xX" + _SEPARATORS))
        if kind is not None:
            found.append(Found(kind, run.start(), end))
    return found


def redact(text: str) -> str:
    """``text`` with every personal number's digits masked but the last four."""
    chars = list(text)
    for hit in find(text):
        positions = [i for i in range(hit.start, hit.end) if text[i] not in _SEPARATORS]
        for i in positions[:-KEEP]:
            chars[i] = MASK
    return "".join(chars)


def redact_result(result: dict[str, Any]) -> dict[str, Any]:
    """An auto-QA result (qa/analysis.py) with the text of its transcript and of every piece of
    evidence redacted; nothing else changes."""

    def texts(items: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        return None if items is None else [{**i, "text": redact(i["text"])} if isinstance(i.get("text"), str) else i for i in items]

    redacted = dict(result)
    if result.get("transcript") is not None:
        redacted["transcript"] = texts(result["transcript"])
    redacted["findings"] = [{**f, "evidence": texts(f.get("evidence")) or []} for f in result.get("findings") or []]
    redacted["prefilled"] = {code: {**entry, "evidence": texts(entry.get("evidence")) or []}
                             for code, entry in (result.get("prefilled") or {}).items()}  # fmt: skip
    if "signals" in result:
        redacted["signals"] = [{**s, "evidence": texts(s.get("evidence")) or []} for s in result["signals"] or []]
    return redacted
