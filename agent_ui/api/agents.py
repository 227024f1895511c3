"""/api/agents/{extension}: a team leader's actions on an agent — force a pause with a reason, log
them off (or back on), and listen, whisper or barge on their call. Team leaders act on their own
team only, supervisors and admins on everyone (crm.access, checked in the data, not the page)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, endpoint
from agent_ui.api.live import StateChange, apply_state, commands, extension_of
from agent_ui.auth import json_error
from crm.access import Scope
from crm.models import Role, User
from crm.users import agent_by_extension
from telephony.commands import DialError

LEADERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)


class Spy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["listen", "whisper", "barge"]


async def _agent(request: web.Request, leader: User) -> User:
    """The agent named by the path, if this leader may act on them."""
    async with request.app[SESSIONS]() as session:
        agent = await agent_by_extension(session, request.match_info["id"])
    if agent is None or not Scope.of(leader).manages(agent):
        raise json_error(404, "no such agent in your team")
    return agent


AGENT_PATH = {"id": "the agent's extension"}
TEAM_NOTE = "Team leaders act on the agents of their own team only."


@endpoint(*LEADERS, summary="Force an agent's state: pause with a reason, log off, or back to available", body=StateChange,
          answer=answers.AgentState, path=AGENT_PATH, notes=TEAM_NOTE + " Asterisk's QueuePause/QueueAdd/QueueRemove.",
          errors={503: "telephony is not running"})  # fmt: skip
async def put_state(request: web.Request, user: User, body: StateChange) -> web.Response:
    return web.json_response(await apply_state(request, await _agent(request, user), body))


@endpoint(*LEADERS, summary="Listen, whisper or barge on an agent's live call (ChanSpy rings your own phone)", body=Spy,
          answer=answers.Spying, status=202, path=AGENT_PATH, notes=TEAM_NOTE + " Needs an extension.",
          errors={409: "the agent is not on a call, or Asterisk refused", 503: "telephony is not running"})  # fmt: skip
async def spy(request: web.Request, user: User, body: Spy) -> web.Response:
    wanted = body
    agent = await _agent(request, user)
    try:
        # Every board names who is listening (telephony's agent.monitored, until the leg ends).
        channel = await commands(request).spy(extension_of(user), extension_of(agent), wanted.mode, leader_name=user.display_name or user.username)
    except DialError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"agent": agent.extension, "mode": wanted.mode, "spy_id": channel}, status=202)


@endpoint(*LEADERS, summary="Stop listening, whispering or barging: your phone's ChanSpy leg hangs up, the agent's call goes on",
          answer=answers.Spying, path={**AGENT_PATH, "spy_id": "the spy_id the start answered"}, notes="Only the leader who started it.",
          errors={409: "no listening of yours with this id now (it ended, or another leader started it)", 503: "telephony is not running"})  # fmt: skip
async def stop_spy(request: web.Request, user: User) -> web.Response:
    agent = await _agent(request, user)
    spy_id = request.match_info["spy_id"]
    try:
        await commands(request).stop_spy(extension_of(user), spy_id)
    except DialError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"agent": agent.extension, "mode": "stopped", "spy_id": spy_id})


def routes(app: web.Application) -> None:
    app.router.add_put("/api/agents/{id}/state", put_state)
    app.router.add_post("/api/agents/{id}/spy", spy)
    app.router.add_delete("/api/agents/{id}/spy/{spy_id}", stop_spy)
