"""A catalogue of message templates: an English message, values and all, back to its translation."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path

PLACEHOLDER = re.compile(r"\{(\d*)\}")
# Messages carry values from requests (a queue name, a number); a longer text is left as it is
# rather than matched against every template.
MAX_MESSAGE = 800
MAX_DEPTH = 4  # a message inside a message inside …: "line 3: phones: not a phone number: x"


class Catalogue:
    """Translates a finished message: its template is found by the words around the values, and
    each value is itself translated when it is a message of the catalogue (a reason given by the
    layer below). A message with no template but of the form ``field: message`` keeps the field
    (an API name) and translates the message."""

    def __init__(self, translations: Mapping[str, str]) -> None:
        self._exact = {english: said for english, said in translations.items() if not PLACEHOLDER.search(english)}
        templates = [(english, said) for english, said in translations.items() if PLACEHOLDER.search(english)]
        # The most specific template first: "cannot hold: {}" before "cannot {}: {}".
        templates.sort(key=lambda pair: -len(PLACEHOLDER.sub("", pair[0])))
        self._templates = [(_pattern(english), _anchor(english), said) for english, said in templates]

    def translate(self, message: str) -> str | None:
        """The message in the catalogue's language, or None when it has no translation."""
        return self._translate(message, 0)

    def _translate(self, message: str, depth: int) -> str | None:
        if depth > MAX_DEPTH or len(message) > MAX_MESSAGE:
            return None
        if message in self._exact:
            return self._exact[message]
        for pattern, anchor, said in self._templates:
            if anchor in message and (found := pattern.fullmatch(message)):
                values = [self._translate(value, depth + 1) or value for value in found.groups()]
                return _fill(said, values)
        field, colon, rest = message.partition(": ")
        if colon and (inner := self._translate(rest, depth + 1)) is not None:
            return f"{field}：{inner}"
        return None


def _pattern(english: str) -> re.Pattern[str]:
    return re.compile("(.+?)".join(re.escape(part) for part in PLACEHOLDER.split(english)[::2]), re.DOTALL)


def _anchor(english: str) -> str:
    """The template's longest fixed part: a message without it cannot be this template's."""
    return max(PLACEHOLDER.split(english)[::2], key=len)


def _fill(said: str, values: list[str]) -> str:
    order = iter(range(len(values)))

    def value(found: re.Match[str]) -> str:
        index = int(found.group(1)) if found.group(1) else next(order, len(values))
        return values[index] if index < len(values) else found.group(0)

    return PLACEHOLDER.sub(value, said)


@functools.cache
def catalogue(language: str) -> Catalogue:
    """The catalogue shipped for ``language`` (read once)."""
    path = Path(__file__).with_name(f"{language}.json")
    return Catalogue(json.loads(path.read_text(encoding="utf-8")))
