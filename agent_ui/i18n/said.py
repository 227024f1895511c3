"""Texts of the server's other than refusals, said in the request's language: the reasons of a
file's rejected rows."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_ui.i18n.catalogue import catalogue
from agent_ui.i18n.negotiation import ENGLISH, language_of


def said(request: web.Request, message: str) -> str:
    """``message`` in the request's language (as it is when the catalogue lacks it)."""
    language = language_of(request)
    if language == ENGLISH:
        return message
    return catalogue(language).translate(message) or message


def rejections_said(request: web.Request, report: dict[str, Any]) -> dict[str, Any]:
    """A checked file's report (crm.csv_files.Report.as_dict) with each rejected row's reason said
    in the request's language."""
    return {**report, "rejected": [{**row, "reason": said(request, row["reason"])} for row in report["rejected"]]}
