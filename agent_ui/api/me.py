"""/api/me: who is logged in; the agent's own state (as the bridge sees it) and today's calls."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from aiohttp import web

from agent_ui.api.calls import call_json
from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, disclosure, endpoint
from agent_ui.api.live import StateChange, apply_state, commands, extension_of, pending_disposition, state_json
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error, user_summary
from crm.access import moves_customer_data
from crm.calls import agent_calls_since
from crm.kpis import AgentSums, CallFacts, agent_contribution, agent_figures
from crm.models import User


@endpoint(*EVERYONE, summary="Who is logged in, and what their role may do beyond the pages (import, export customers)", answer=answers.Me)
async def who_am_i(request: web.Request, user: User) -> web.Response:
    privacy = request.app[SETTINGS].privacy
    may = {"import_customers": moves_customer_data(user.role, privacy.import_customers),
           "export_customers": moves_customer_data(user.role, privacy.export_customers)}  # fmt: skip
    return web.json_response({**user_summary(user), "may": may})


@endpoint(*STAFF, summary="My state, as the telephony bridge sees it", answer=answers.AgentState, errors={503: "telephony is not running"})
async def get_state(request: web.Request, user: User) -> web.Response:
    telephony = commands(request)  # first: without telephony the answer is 503, whoever asks
    extension = extension_of(user)
    pending = await pending_disposition(request, extension)
    return web.json_response({**state_json(telephony.agent(extension), extension), "pending_disposition": pending})


@endpoint(*STAFF, summary="Become available (logs in to my queues if needed), pause with a reason, or log out", body=StateChange,
          answer=answers.AgentState, errors={409: "the last call needs a disposition code first", 503: "telephony is not running"})  # fmt: skip
async def put_state(request: web.Request, user: User, body: StateChange) -> web.Response:
    change = body
    if change.state == "available" and (waiting := await pending_disposition(request, extension_of(user))):
        raise json_error(409, f"give your last call ({waiting}) a disposition code first")
    return web.json_response(await apply_state(request, user, change))


@endpoint(*STAFF, summary="My calls today (in crm.timezone) and today's figures", answer=answers.MyDay)
async def my_calls(request: web.Request, user: User) -> web.Response:
    zone = zoneinfo.ZoneInfo(request.app[SETTINGS].crm.timezone)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    async with request.app[SESSIONS]() as session:
        calls = await agent_calls_since(session, user.id, midnight)
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
