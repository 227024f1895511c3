"""/api/me: who is logged in; the agent's own state (as the bridge sees it) and today's calls."""

from __future__ import annotations

import asyncio
import time
import zoneinfo
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agent_ui.api.calls import call_json
from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, disclosure, endpoint
from agent_ui.app_keys import DISPOSITIONS, SETTINGS, TELEPHONY
from agent_ui.auth import json_error, user_summary
from agent_ui.wallboard.board import agent_state_payload
from crm.access import moves_customer_data
from crm.kpis import AgentSums, CallFacts, agent_contribution, agent_figures
from crm.models import Call, User
from telephony.agents.control import AgentControlError
from telephony.agents.state import AgentState


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["available", "paused", "logged_out"]
    reason: str | None = Field(default=None, max_length=64, description="a pause reason code (agents.pause_reasons), required with paused")


def _extension(user: User) -> str:
    if not user.extension:
        raise json_error(400, "you have no extension, so no phone to take calls on")
    return user.extension


def _bridge(request: web.Request):  # type: ignore[no-untyped-def]
    telephony = request.app.get(TELEPHONY)
    if telephony is None:
        raise json_error(503, "telephony is not running in this server")
    return telephony.bridge


def state_json(bridge, extension: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    agent = bridge.agents.get(extension)
    if agent is None:
        return {"agent": extension, "state": AgentState.LOGGED_OUT.value, "reason": None, "since": None, "queues": [], "call_id": None}
    return {**agent_state_payload(agent), "queues": agent.queues}


@endpoint(*EVERYONE, summary="Who is logged in, and what their role may do beyond the pages (import, export customers)", answer=answers.Me)
async def who_am_i(request: web.Request, user: User) -> web.Response:
    privacy = request.app[SETTINGS].privacy
    may = {"import_customers": moves_customer_data(user.role, privacy.import_customers),
           "export_customers": moves_customer_data(user.role, privacy.export_customers)}  # fmt: skip
    return web.json_response({**user_summary(user), "may": may})


@endpoint(*STAFF, summary="My state, as the telephony bridge sees it", answer=answers.AgentState, errors={503: "telephony is not running"})
async def get_state(request: web.Request, user: User) -> web.Response:
    bridge = _bridge(request)  # first: without telephony the answer is 503, whoever asks
    extension, guard = _extension(user), request.app.get(DISPOSITIONS)
    pending = guard.pending(extension) if guard is not None else None
    return web.json_response({**state_json(bridge, extension), "pending_disposition": pending})


@endpoint(*STAFF, summary="Become available (logs in to my queues if needed), pause with a reason, or log out", body=StateChange,
          answer=answers.AgentState, errors={409: "the last call needs a disposition code first", 503: "telephony is not running"})  # fmt: skip
async def put_state(request: web.Request, user: User, body: StateChange) -> web.Response:
    change = body
    guard = request.app.get(DISPOSITIONS)
    if change.state == "available" and guard is not None and (waiting := guard.pending(_extension(user))):
        raise json_error(409, f"give your last call ({waiting}) a disposition code first")
    return web.json_response(await apply_state(request, user, change))


async def apply_state(request: web.Request, agent: User, change: StateChange) -> dict[str, Any]:
    """Put ``agent`` in the wanted state (logging them in to their queues first if need be) and
    answer with the bridge's state once Asterisk has confirmed it. Used by the agent and by leaders."""
    extension, bridge = _extension(agent), _bridge(request)
    if change.state == "paused" and not change.reason:
        raise json_error(400, "reason: a pause needs a reason code")
    async with request.app[SESSIONS]() as session:
        row = await session.scalar(select(User).where(User.id == agent.id).options(selectinload(User.queues)))
        queues = [q.name for q in row.queues] if row else []
    current = bridge.agents.get(extension)
    logged_in = current is not None and bool(current.queues)
    try:
        if change.state == "logged_out":
            await bridge.control.logout(extension)
        else:
            if not logged_in:
                await bridge.control.login(extension, queues, name=agent.display_name or agent.username)
                await _until(lambda: bool((a := bridge.agents.get(extension)) and a.queues))
            if change.state == "paused":
                await bridge.control.pause(extension, change.reason or "")
            elif current is not None and current.paused:
                await bridge.control.unpause(extension)
    except AgentControlError as error:
        raise json_error(400, str(error)) from None
    wanted = {"available": AgentState.AVAILABLE, "paused": AgentState.PAUSED, "logged_out": AgentState.LOGGED_OUT}[change.state]
    busy = (AgentState.ON_CALL, AgentState.RINGING, AgentState.WRAP_UP)
    await _until(lambda: (a := bridge.agents.get(extension)) is not None and (a.state == wanted or (wanted != AgentState.LOGGED_OUT and a.state in busy)))
    return state_json(bridge, extension)


async def _until(condition, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    """Asterisk's confirming event usually arrives within milliseconds; answer with what is true then."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


@endpoint(*STAFF, summary="My calls today (in crm.timezone) and today's figures", answer=answers.MyDay)
async def my_calls(request: web.Request, user: User) -> web.Response:
    zone = zoneinfo.ZoneInfo(request.app[SETTINGS].crm.timezone)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    async with request.app[SESSIONS]() as session:
        calls = list(
            await session.scalars(
                select(Call).where(Call.agent_id == user.id, Call.started_at >= midnight).order_by(Call.started_at.desc())
            )
        )
    sums = AgentSums()
    for call in calls:
        sums.add(agent_contribution(CallFacts.from_call(call)))
    figures = agent_figures(sums)  # the one KPI arithmetic (docs/kpis.md), as the wallboard's
    return web.json_response(
        {
            "since": midnight.isoformat(),
            "calls_handled": figures["handled"],
            "talk_s": figures["talk_s"],
            "average_handle_time_s": figures["aht_s"],
            "calls": [call_json(c, disclosure(request, user)) for c in calls],
        }
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/api/me", who_am_i)
    app.router.add_get("/api/me/state", get_state)
    app.router.add_put("/api/me/state", put_state)
    app.router.add_get("/api/me/calls", my_calls)
