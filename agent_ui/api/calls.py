"""/api/calls: the call log. Who sees and annotates which calls is crm.access's Scope (agents their
own, team leaders their team's, QA inspectors read all, supervisors and admins all). The bridge owns
the telephony columns; here only disposition_code and notes change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, AwareIsoDateTime, disclosure, endpoint, row_id
from agent_ui.app_keys import SETTINGS
from agent_ui.api.live import disposition_settled
from agent_ui.auth import json_error
from crm.access import Scope
from crm.calls import CallFilter, visible_call, visible_calls
from crm.models import Call, User
from crm.privacy import Disclosure


def call_json(call: Call, shown: Disclosure) -> dict[str, Any]:
    """A call, its numbers as ``shown`` shows them (whole to the call's own agent)."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": call.id,
        "linkedid": call.linkedid,
        "server": call.server,
        "direction": call.direction.value,
        "did": call.did,
        "caller_number": shown.call_number(call.caller_number, call.agent_id),
        "caller_name": call.caller_name,
        "called_number": shown.call_number(call.called_number, call.agent_id),
        "customer_id": call.customer_id,
        "queue": call.queue,
        "priority": call.priority,
        "route": call.route,
        "agent_id": call.agent_id,
        "agent_extension": call.agent_extension,
        "started_at": when(call.started_at),
        "queued_at": when(call.queued_at),
        "offered_at": when(call.offered_at),
        "answered_at": when(call.answered_at),
        "ended_at": when(call.ended_at),
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "hold_s": call.hold_s,
        "hold_count": call.hold_count,
        "wrapup_s": call.wrapup_s,
        "disposition": call.disposition,
        "hangup_side": call.hangup_side,
        "offers": call.offers,
        "transfers": call.transfers,
        "recordings": call.recordings,
        "recording_paused": call.recording_paused or [],
        "surveyed_at": when(call.surveyed_at),
        "satisfaction": call.satisfaction,
        "disposition_code": call.disposition_code,
        "notes": call.notes,
    }


CALL_PATH = {"id": "the row id, or the call's Linkedid (call_id in socket.io events)"}
SCOPE_NOTE = "Only calls you may see (agents their own, team leaders their team's; docs/security.md)."


class CallQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    since: AwareIsoDateTime | None = Field(default=None, description="calls started at or after, with a time zone (2026-11-26T00:00:00+08:00)")
    queue: str | None = Field(default=None, max_length=64)
    direction: Literal["inbound", "outbound"] | None = None
    disposition: str | None = Field(default=None, max_length=32, description="answered, abandoned, no_answer, busy, failed...")
    agent_extension: str | None = Field(default=None, max_length=16)


@endpoint(*EVERYONE, summary="The call log, newest first", query=CallQuery, answer=answers.Calls, notes=SCOPE_NOTE)
async def list_calls(request: web.Request, user: User, query: CallQuery) -> web.Response:
    wanted = CallFilter(**query.model_dump())
    async with request.app[SESSIONS]() as session:
        calls = await visible_calls(session, Scope.of(user), wanted)
    shown = disclosure(request, user)
    return web.json_response({"calls": [call_json(c, shown) for c in calls]})


async def own_call(request: web.Request, session, user: User, *, write: bool = False) -> Call:  # type: ignore[no-untyped-def]
    """The path's call if this user may read it (or, with ``write``, change it): by row id, or by
    Linkedid (the ``call_id`` of the socket.io events). Any other call is "no such call"."""
    key = request.match_info["id"]
    number = row_id(key)
    call = await visible_call(session, Scope.of(user), row_id=number, linkedid=None if number is not None else key, write=write)
    if call is None:
        raise json_error(404, "no such call")
    return call


@endpoint(*EVERYONE, summary="One call", answer=answers.Call, path=CALL_PATH, notes=SCOPE_NOTE)
async def read_call(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        return web.json_response(call_json(await own_call(request, session, user), disclosure(request, user)))


def check_disposition(request: web.Request, call: Call, code: str) -> None:
    codes = {c.code for c in request.app[SETTINGS].agents.dispositions_for(call.direction.value)}
    if code not in codes:
        raise json_error(400, f"disposition_code: {code!r} is not a code for {call.direction.value} calls; one of {', '.join(sorted(codes))}")


class CallNotes(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    disposition_code: str | None = Field(default=None, max_length=64, description="one of agents.disposition_codes for the call's direction")
    notes: str | None = Field(default=None, max_length=5000)


@endpoint(*STAFF, summary="Set the call's disposition code and notes", body=CallNotes, answer=answers.Call, path=CALL_PATH, notes=SCOPE_NOTE)
async def update_call(request: web.Request, user: User, body: CallNotes) -> web.Response:
    changes = body
    async with request.app[SESSIONS]() as session, session.begin():
        call = await own_call(request, session, user, write=True)
        if changes.disposition_code is not None:
            check_disposition(request, call, changes.disposition_code)
        for field, value in changes.model_dump(exclude_unset=True).items():
            if value is None:
                raise json_error(400, f"{field}: may not be null")
            setattr(call, field, value)
        await session.flush()
        payload = call_json(call, disclosure(request, user))
    if changes.disposition_code is not None:
        await disposition_settled(request, call.agent_extension, call.linkedid)
    return web.json_response(payload)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{id}", read_call)
    app.router.add_patch("/api/calls/{id}", update_call)
