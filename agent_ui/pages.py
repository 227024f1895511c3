"""The browser pages — the agent desktop, the leaders' wallboard and the QA page — and their static files (agent_ui/static)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"


async def desktop(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desktop.html", headers={"Cache-Control": "no-cache"})


async def wallboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-cache"})


async def quality(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "qa.html", headers={"Cache-Control": "no-cache"})


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/desktop")


def routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/desktop", desktop)
    app.router.add_get("/wallboard", wallboard)
    app.router.add_get("/qa", quality)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
