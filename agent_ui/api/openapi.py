"""The OpenAPI document of the REST API, built from the routes' contracts (agent_ui/api/contract.py)
when first asked for, and a plain page listing it."""

from __future__ import annotations

import html
from importlib import metadata
from typing import Any

from aiohttp import web

from agent_ui.api.contract import Contract, build_document, describe

DOCUMENT = web.AppKey("openapi", dict)
INFO = {
    "title": "Call center API",
    "description": "Log in with POST /api/login, then send `Authorization: Bearer <token>`. Browsers may use the "
    "`cc_session` cookie instead; then every write also needs the header `X-CSRF-Token` with the value of the "
    "`cc_csrf` cookie. Errors are JSON: `{\"error\": \"...\"}`, said in the language `Accept-Language` asks for "
    "(English or Simplified Chinese, `zh-CN`; `Content-Language` says which). Live events go over socket.io (docs/socketio.md); "
    "who may see what is in docs/security.md.",
}


def _version() -> str:
    try:
        return metadata.version("callcenter")
    except metadata.PackageNotFoundError:
        return "0"


def document_of(app: web.Application) -> dict[str, Any]:
    """The app's document, built once (the route table does not change after start-up)."""
    built = app[DOCUMENT]  # filled in place: the app's state is not to be changed once it runs
    if not built:
        built.update(build_document(app, {**INFO, "version": _version()}))
    return built


@describe(Contract("This document (OpenAPI 3.1)", None))
async def document(request: web.Request) -> web.Response:
    return web.json_response(document_of(request.app))


DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><redoc spec-url="/api/openapi.json" hide-download-button="false"></redoc>
<noscript><p>{title}: <a href="/api/openapi.json">openapi.json</a> (OpenAPI 3.1)</p></noscript>
<script type="module" src="/static/vendor/redoc.standalone.js"></script></body></html>
"""


@describe(Contract("This document as a page (Redoc, from the npm registry)", None, media="text/html"))
async def page(request: web.Request) -> web.Response:
    title = html.escape(document_of(request.app)["info"]["title"])
    return web.Response(text=DOCS_PAGE.format(title=title), content_type="text/html")


def routes(app: web.Application) -> None:
    app[DOCUMENT] = {}
    app.router.add_get("/api/openapi.json", document)
    app.router.add_get("/api/docs", page)
