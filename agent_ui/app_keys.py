"""Typed keys of what the web application holds (aiohttp AppKey)."""

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_ui.wallboard.service import Wallboard
from config import Settings
from telephony.agents.disposition import DispositionGuard
from telephony.service import TelephonyService

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
TELEPHONY = web.AppKey("telephony", TelephonyService)
DISPOSITIONS = web.AppKey("dispositions", DispositionGuard)
WALLBOARD = web.AppKey("wallboard", Wallboard)
