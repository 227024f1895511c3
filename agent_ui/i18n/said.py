"""The server's own texts in the request's language: its refusals (the middleware) and the reasons
of a checked file's rejected rows."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_ui.i18n.catalogue import catalogue
from agent_ui.i18n.negotiation import ENGLISH, language_of


def translation(request: web.Request, message: str) -> tuple[str, str] | None:
    """The language the request asks for and ``message`` in it; None for English, or when the
    catalogue lacks the message."""
    language = language_of(request)
    if language == ENGLISH or (translated := catalogue(language).translate(message)) is None:
        return None
    return language, translated


def said(request: web.Request, message: str) -> str:
    """``message`` in the request's language (as it is when the catalogue lacks it)."""
    found = translation(request, message)
    return message if found is None else found[1]


def rejections_said(request: web.Request, report: dict[str, Any]) -> dict[str, Any]:
    """A checked file's report (crm.csv_files.Report.as_dict) with each rejected row's reason said
    in the request's language."""
    return {**report, "rejected": [{**row, "reason": said(request, row["reason"])} for row in report["rejected"]]}
