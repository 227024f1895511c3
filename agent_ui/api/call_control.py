"""Call controls for the live call: hang up, hold and resume, transfer (blind or attended, to a queue, an agent or a
number), complete an attended transfer, and click-to-dial. Agents act on their own calls, team
leaders on their team's, supervisors and admins on any (crm.access)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from agent_ui.api.common import SESSIONS, STAFF, body, endpoint
from agent_ui.api.me import _bridge, _extension
from agent_ui.auth import json_error
from crm.access import Scope, team_of_extension
from crm.models import User
from telephony.calls.control import BadTarget, CallControlError
from telephony.outbound.dialer import DialError, NotDialable


async def _live_call(request: web.Request, user: User):  # type: ignore[no-untyped-def]
    bridge = _bridge(request)
    call = bridge.find_call(request.match_info["id"])
    if call is not None:
        async with request.app[SESSIONS]() as session:
            team = await team_of_extension(session, call.agent)
        if Scope.of(user).controls_live_call(call.agent, team):
            return bridge, call
    raise json_error(404, "no such live call (it may have ended)")


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["blind", "attended"] = "blind"
    queue: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=16)
    number: str | None = Field(default=None, max_length=40)


class Dial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40)


async def _act(request: web.Request, user: User, action: str, done: str) -> web.Response:
    """One CallControl action without arguments on the user's live call."""
    bridge, call = await _live_call(request, user)
    try:
        await getattr(bridge.call_control, action)(call.linkedid)
    except CallControlError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": call.linkedid, "done": done})


@endpoint(*STAFF)
async def hang_up(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "hang_up", "hangup")


@endpoint(*STAFF)
async def hold(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "hold", "on hold")


@endpoint(*STAFF)
async def resume(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "resume", "resumed")


@endpoint(*STAFF)
async def transfer(request: web.Request, user: User) -> web.Response:
    change = await body(request, Transfer)
    bridge, call = await _live_call(request, user)
    try:
        if change.kind == "blind":
            await bridge.call_control.blind_transfer(call.linkedid, queue=change.queue, agent=change.agent, number=change.number)
        else:
            if change.queue is not None:
                raise json_error(400, "an attended transfer goes to an agent or a number, not a queue")
            await bridge.call_control.attended_transfer(call.linkedid, agent=change.agent, number=change.number)
    except BadTarget as error:
        raise json_error(400, str(error)) from None
    except CallControlError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": call.linkedid, "done": f"{change.kind} transfer started"})


@endpoint(*STAFF)
async def complete_transfer(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "complete_transfer", "transfer completed")


@endpoint(*STAFF)
async def dial(request: web.Request, user: User) -> web.Response:
    wanted = await body(request, Dial)
    extension, bridge = _extension(user), _bridge(request)
    try:
        linkedid = await bridge.dialer.click_to_dial(extension, wanted.number, agent_name=user.display_name or user.username)
    except NotDialable as error:
        raise json_error(400, str(error)) from None
    except DialError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": linkedid}, status=202)


def routes(app: web.Application) -> None:
    app.router.add_post("/api/calls/{id}/hangup", hang_up)
    app.router.add_post("/api/calls/{id}/hold", hold)
    app.router.add_post("/api/calls/{id}/resume", resume)
    app.router.add_post("/api/calls/{id}/transfer", transfer)
    app.router.add_post("/api/calls/{id}/transfer/complete", complete_transfer)
    app.router.add_post("/api/me/dial", dial)
