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
    "`cc_csrf` cookie. Errors are JSON: `{\"error\": \"...\"}`. Live events go over socket.io (docs/socketio.md); "
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


@describe(Contract("This document as a page", None, media="text/html"))
async def page(request: web.Request) -> web.Response:
    spec = document_of(request.app)
    rows = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation.get('summary', ''))}</td><td>{html.escape(operation.get('description', ''))}</td></tr>"
            )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Call center API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>{html.escape(spec['info']['title'])}</h1><p>{html.escape(spec['info']['description'])}</p>"
        "<p><a href='/api/openapi.json'>openapi.json</a></p><table>" + "".join(rows) + "</table></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


def routes(app: web.Application) -> None:
    app[DOCUMENT] = {}
    app.router.add_get("/api/openapi.json", document)
    app.router.add_get("/api/docs", page)
