"""The OpenAPI document of the REST API (agent_ui/api/openapi.json, kept by hand and checked against
the routes by tests/test_api.py), and a plain page listing it."""

from __future__ import annotations

import html
import json
from importlib import resources

from aiohttp import web

DOCUMENT = json.loads(resources.files("agent_ui.api").joinpath("openapi.json").read_text(encoding="utf-8"))


async def document(request: web.Request) -> web.Response:
    return web.json_response(DOCUMENT)


async def page(request: web.Request) -> web.Response:
    rows = []
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation.get('summary', ''))}</td><td>{html.escape(operation.get('description', ''))}</td></tr>"
            )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Call center API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>{html.escape(DOCUMENT['info']['title'])}</h1><p>{html.escape(DOCUMENT['info']['description'])}</p>"
        "<p><a href='/api/openapi.json'>openapi.json</a></p><table>" + "".join(rows) + "</table></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


def routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", document)
    app.router.add_get("/api/docs", page)
