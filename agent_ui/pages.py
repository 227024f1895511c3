"""The browser pages — the agent desktop, the leaders' wallboard and the QA page — and their static files (agent_ui/static)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PAGES = {"/desktop": "desktop.html", "/wallboard": "wallboard.html", "/qa": "qa.html"}
INCLUDE = re.compile(r"^[ \t]*<!--#include (?P<part>[a-z-]+\.html) -->\n", re.MULTILINE)


@functools.cache
def page(name: str) -> str:
    """A page with the parts every page shares (``static/parts``: the login form, the language
    switch) written in place of its ``<!--#include part.html -->`` lines."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return INCLUDE.sub(lambda found: (STATIC / "parts" / found["part"]).read_text(encoding="utf-8"), text)


async def serve_page(request: web.Request) -> web.Response:
    return web.Response(text=page(PAGES[request.path]), content_type="text/html", headers={"Cache-Control": "no-cache"})


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/desktop")


async def favicon(request: web.Request) -> web.FileResponse:
    """Browsers ask for /favicon.ico whatever the page links; the icon is an SVG."""
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"})


def routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/favicon.ico", favicon)
    for path in PAGES:
        app.router.add_get(path, serve_page)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
