"""Call controls for the live call: hang up, hold and resume, pause and resume the recording, transfer (blind or attended, to a queue, an agent or a
number), complete an attended transfer, and click-to-dial. Agents act on their own calls, team
leaders on their team's, supervisors and admins on any (crm.access)."""

from __future__ import annotations

import json
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, STAFF, RowId, actor, endpoint
from agent_ui.api.live import commands, extension_of
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm import audit, dnc
from crm.access import Scope, team_of_extension
from crm.customers import phone_number
from crm.models import User
from crm.tasks.queries import number_of_task
from telephony.commands import BadTarget, CallControlError, DialError, NotDialable


async def _live_call(request: web.Request, user: User):  # type: ignore[no-untyped-def]
    telephony = commands(request)
    call = telephony.find_call(request.match_info["id"])
    if call is not None:
        async with request.app[SESSIONS]() as session:
            team = await team_of_extension(session, call.agent)
        if Scope.of(user).controls_live_call(call.agent, team):
            return telephony, call
    raise json_error(404, "no such live call (it may have ended)")


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["blind", "attended"] = "blind"
    queue: str | None = Field(default=None, max_length=64, description="blind only")
    agent: str | None = Field(default=None, max_length=16, description="an agent's extension")
    number: str | None = Field(default=None, max_length=40, description="an outside number (dialing.allowed_numbers)")


class Dial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(default=None, min_length=1, max_length=40, description="any format; must be one dialing.allowed_numbers allows")
    phone_id: RowId | None = Field(default=None, description="or a customer's phone by its id: a masked number is dialled whole")
    task_id: RowId | None = Field(default=None, description="or a follow-up task you may see, by its id: its number is dialled whole")
    dnc_override: str | None = Field(default=None, min_length=1, max_length=500,
                                     description="dial a number on the do-not-call list anyway, saying why (in the audit log)")

    @model_validator(mode="after")
    def _one(self) -> Dial:
        if sum(v is not None for v in (self.number, self.phone_id, self.task_id)) != 1:
            raise ValueError("give one of number, phone_id, task_id")
        return self


async def _number(request: web.Request, user: User, wanted: Dial) -> str:
    if wanted.number is not None:
        return wanted.number
    async with request.app[SESSIONS]() as session:
        if wanted.task_id is not None:
            number = await number_of_task(session, Scope.of(user).tasks(), wanted.task_id)
            if not number:
                raise json_error(404, "no such task of yours with a number to call")
            return number
        number = await phone_number(session, wanted.phone_id)
    if number is None:
        raise json_error(404, "no such customer phone")
    return number


async def _screen(request: web.Request, user: User, number: str, override: str | None) -> None:
    """A number on the do-not-call list is refused (409), unless the agent overrides it with a reason,
    which the audit log keeps with the entry it went past."""
    async with request.app[SESSIONS]() as session, session.begin():
        entry = await dnc.blocking(session, number, request.app[SETTINGS].crm.default_region)
        if entry is None:
            return
        if override is None:
            since = entry.added_at.date().isoformat()
            error = {"error": f"the number is on the do-not-call list ({entry.reason}, since {since}); dial it anyway only with dnc_override: why",
                     "dnc": {"id": entry.id, "reason": entry.reason, "since": entry.added_at.isoformat()}}  # fmt: skip
            raise web.HTTPConflict(text=json.dumps(error, ensure_ascii=False), content_type="application/json")
        audit.record(session, actor(request, user), "dnc.overridden", "customer" if entry.customer_id else "dnc", entry.customer_id,
                     entry_id=entry.id, why=override)  # fmt: skip


async def _act(request: web.Request, user: User, action: str, done: str) -> web.Response:
    """One CallControl action without arguments on the user's live call."""
    telephony, call = await _live_call(request, user)
    try:
        await getattr(telephony.calls, action)(call.linkedid)
    except CallControlError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": call.linkedid, "done": done})


LIVE_CALL = {"id": "the live call's Linkedid (call_id in socket.io events)"}
LIVE_NOTE = "Agents act on their own call, team leaders on their team's, supervisors and admins on any."
LIVE_ERRORS = {409: "Asterisk refused, or the call is not in a state for it", 503: "telephony is not running"}


def _control(summary: str, notes: str = "", body: type[BaseModel] | None = None):  # type: ignore[no-untyped-def]
    return endpoint(*STAFF, summary=summary, body=body, answer=answers.CallAction, path=LIVE_CALL,
                    notes=" ".join(filter(None, (LIVE_NOTE, notes))), errors=LIVE_ERRORS)  # fmt: skip


@_control("Hang up a live call")
async def hang_up(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "hang_up", "hangup")


@_control("Put a live call on hold", "The customer hears music; the agent's phone stays connected. Works with any phone, no DTMF.")
async def hold(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "hold", "on hold")


@_control("Resume a call put on hold from the desktop", "Ends the hold started by POST /api/calls/{id}/hold.")
async def resume(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "resume", "resumed")


@_control("Pause the call's recording (both sides) while the customer gives a card number or other data not to be kept",
          "The call log keeps the span (recording_paused); the recording is silent there. 409 when already paused or not recorded.")  # fmt: skip
async def pause_recording(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "pause_recording", "recording paused")


@_control("Resume the call's recording", "409 when it is not paused.")
async def resume_recording(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "resume_recording", "recording resumed")


@_control("Transfer a live call: blind (to a queue, an agent or a number) or attended (consult an agent or a number; the customer waits on hold)",
          "Give kind and exactly one of queue, agent, number.", body=Transfer)  # fmt: skip
async def transfer(request: web.Request, user: User, body: Transfer) -> web.Response:
    change = body
    telephony, call = await _live_call(request, user)
    try:
        if change.kind == "blind":
            await telephony.calls.blind_transfer(call.linkedid, queue=change.queue, agent=change.agent, number=change.number)
        else:
            if change.queue is not None:
                raise json_error(400, "an attended transfer goes to an agent or a number, not a queue")
            await telephony.calls.attended_transfer(call.linkedid, agent=change.agent, number=change.number)
    except BadTarget as error:
        raise json_error(400, str(error)) from None
    except CallControlError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": call.linkedid, "done": f"{change.kind} transfer started"})


@_control("Complete an attended transfer: the agent leaves, the customer and the target talk", "409 when no attended transfer is under way.")
async def complete_transfer(request: web.Request, user: User) -> web.Response:
    return await _act(request, user, "complete_transfer", "transfer completed")


@endpoint(*STAFF, summary="Click-to-dial: ring my phone, then the number (with the outbound caller ID)", body=Dial, answer=answers.Dialled,
          status=202, notes="Needs an extension. A number on the do-not-call list is refused unless dnc_override says why (audited).",
          errors={404: "no such customer phone, or task of yours", 409: "Asterisk refused the call, or the number is on the do-not-call list (dnc)",
                  503: "telephony is not running"})  # fmt: skip
async def dial(request: web.Request, user: User, body: Dial) -> web.Response:
    wanted = body
    extension = extension_of(user)
    number = await _number(request, user, wanted)
    await _screen(request, user, number, wanted.dnc_override)
    try:
        linkedid = await commands(request).click_to_dial(extension, number, agent_name=user.display_name or user.username, home=user.server)
    except NotDialable as error:
        raise json_error(400, str(error)) from None
    except DialError as error:
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": linkedid}, status=202)


def routes(app: web.Application) -> None:
    app.router.add_post("/api/calls/{id}/hangup", hang_up)
    app.router.add_post("/api/calls/{id}/hold", hold)
    app.router.add_post("/api/calls/{id}/resume", resume)
    app.router.add_post("/api/calls/{id}/pause-recording", pause_recording)
    app.router.add_post("/api/calls/{id}/resume-recording", resume_recording)
    app.router.add_post("/api/calls/{id}/transfer", transfer)
    app.router.add_post("/api/calls/{id}/transfer/complete", complete_transfer)
    app.router.add_post("/api/me/dial", dial)
