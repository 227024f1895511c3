"""/api/agents/{extension}: a team leader's actions on an agent — force a pause with a reason, log
them off (or back on), and listen, whisper or barge on their call. Team leaders act on their own
team only, supervisors and admins on everyone (crm.access, checked in the data, not the page)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from agent_ui.api.common import SESSIONS, body, endpoint
from agent_ui.api.me import StateChange, _bridge, _extension, apply_state
from agent_ui.auth import json_error
from crm.access import Scope
from crm.models import Role, User
from telephony.outbound.dialer import DialError

LEADERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)


class Spy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["listen", "whisper", "barge"]


async def _agent(request: web.Request, leader: User) -> User:
    """The agent named by the path, if this leader may act on them."""
    async with request.app[SESSIONS]() as session:
        agent = await session.scalar(select(User).where(User.extension == request.match_info["id"], User.role == Role.AGENT))
    if agent is None or not Scope.of(leader).manages(agent):
        raise json_error(404, "no such agent in your team")
    return agent


@endpoint(*LEADERS)
async def put_state(request: web.Request, user: User) -> web.Response:
    change = await body(request, StateChange)
    return web.json_response(await apply_state(request, await _agent(request, user), change))


@endpoint(*LEADERS)
async def spy(request: web.Request, user: User) -> web.Response:
    wanted = await body(request, Spy)
    agent = await _agent(request, user)
    try:
        channel = await _bridge(request).dialer.spy(_extension(user), _extension(agent), wanted.mode)
    except DialError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"agent": agent.extension, "mode": wanted.mode, "spy_id": channel}, status=202)


def routes(app: web.Application) -> None:
    app.router.add_put("/api/agents/{id}/state", put_state)
    app.router.add_post("/api/agents/{id}/spy", spy)
