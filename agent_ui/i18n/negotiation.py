"""Which of our languages a request asks for, from its Accept-Language header (RFC 9110 §12.5.4):
the languages in the order of their weights, the first we speak wins; English when none is."""

from __future__ import annotations

from aiohttp import web

ENGLISH = "en"
LANGUAGES = (ENGLISH, "zh-CN")
MAX_HEADER = 500  # a browser sends a few dozen characters; a longer header is not read


def language_of(request: web.Request) -> str:
    header = request.headers.get("Accept-Language", "")
    if len(header) > MAX_HEADER:
        return ENGLISH
    asked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and weight > 0:
            asked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(asked):
        if tag == "*" or tag.split("-")[0] == "en":
            return ENGLISH
        if tag.split("-")[0] == "zh":  # Chinese of any region reads the simplified catalogue before English
            return "zh-CN"
    return ENGLISH
