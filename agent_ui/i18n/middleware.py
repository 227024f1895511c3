"""The API's refusals in the request's language, translated on their way out."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from agent_ui.i18n.negotiation import ENGLISH, language_of
from agent_ui.i18n.said import translation

log = logging.getLogger(__name__)


@web.middleware
async def speak_the_users_language(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """A JSON error (``{"error": message}``), raised or returned, is said in the language the
    request asks for; a message the catalogue lacks goes out in English (and is logged, so the
    catalogue can catch up)."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _translate(request, error)
        raise
    if response.status >= 400 and isinstance(response, web.Response):
        _translate(request, response)
    return response


def _translate(request: web.Request, response: web.Response) -> None:
    if response.content_type != "application/json" or response.text is None or language_of(request) == ENGLISH:
        return
    try:
        body = json.loads(response.text)
    except ValueError:
        return
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return
    found = translation(request, body["error"])
    if found is None:
        log.info("no %s for the message %r", language_of(request), body["error"][:200])
        return
    language, said = found
    response.text = json.dumps({**body, "error": said}, ensure_ascii=False)
    response.headers["Content-Language"] = language
    response.headers.add("Vary", "Accept-Language")
