"""The web application (aiohttp). For now: health; the agent desktop, wallboard and QA pages
arrive with their issues."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from crm import schema

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)


async def health(request: web.Request) -> web.Response:
    revision = await schema.current_revision(request.app[ENGINE])
    return web.json_response({"status": "ok", "schema_revision": revision})


def create_app(settings: Settings, engine: AsyncEngine) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app.router.add_get("/api/health", health)
    return app
