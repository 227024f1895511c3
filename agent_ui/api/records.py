"""/api/calls/{id}/record: the business record form of a call (呼入/呼出业务记录表), read and saved.

Saving needs the call's disposition code; it fills the call row and the customer's history too
(crm.records) and releases an agent held for a missing disposition (telephony/agents/disposition.py)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from agent_ui.api import answers
from agent_ui.api.calls import CALL_PATH, SCOPE_NOTE, check_disposition, own_call
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, RowId, actor, disclosure, endpoint
from agent_ui.api.tasks import Reader as TaskReader
from agent_ui.api.tickets import Reader, TicketDetails
from agent_ui.app_keys import SETTINGS
from agent_ui.api.live import disposition_settled
from agent_ui.auth import json_error
from crm import audit, dnc
from crm.campaigns import store as campaigns
from crm.models import Call, CallDirection, Campaign, User
from crm.tasks import store as tasks
from crm.tickets import store as tickets
from crm.tickets.lifecycle import TicketError
from crm.records import (
    CONNECT_STATUSES,
    HANDLING,
    OUTBOUND_TYPES,
    RECORD_FIELDS,
    RecordError,
    RecordInput,
    record_of,
    record_json,
    save_record,
)


class RecordForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    disposition_code: str = Field(min_length=1, max_length=64)
    notes: str = Field(default="", max_length=5000)
    customer_id: RowId | None = None
    contact: str = Field(default="", max_length=100)
    # inbound
    summary: str = Field(default="", max_length=5000)
    handling: Literal[HANDLING] | None = None  # type: ignore[valid-type]
    transferred_to: str = Field(default="", max_length=100)
    result: str = Field(default="", max_length=5000)
    reply_needed: bool = False
    reply_deadline: AwareDatetime | None = None
    # outbound
    campaign: str = Field(default="", max_length=100)
    call_type: Literal[OUTBOUND_TYPES] | None = None  # type: ignore[valid-type]
    purpose: str = Field(default="", max_length=200)
    connect_status: Literal[CONNECT_STATUSES] | None = None  # type: ignore[valid-type]
    feedback: str = Field(default="", max_length=5000)
    next_contact_at: AwareDatetime | None = None
    ticket: TicketDetails | None = Field(default=None, description="for the ticket the form opens (投诉, 报修, a work order)")
    do_not_call: bool = Field(default=False, description="the customer asked not to be called again: the call's number goes on the do-not-call list")


@endpoint(*EVERYONE, summary="A call's business record form (呼入/呼出业务记录表)", answer=answers.Record, path=CALL_PATH,
          notes=SCOPE_NOTE + " QA inspectors read it beside the recording.")  # fmt: skip
async def read_record(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        call = await own_call(request, session, user)
        record = await record_of(session, call.id)
        payload = record_json(call, record, request.app[SETTINGS].crm.timezone)
        if record is None and call.campaign_id is not None and (campaign := await session.get(Campaign, call.campaign_id)) is not None:
            # 呼出业务记录表 of a campaign's call: its 任务/活动名称, 呼出类型 and 呼出目的, as the campaign says
            payload.update(campaign=campaign.name, call_type=campaign.call_type, purpose=campaign.purpose)
        payload["number"] = disclosure(request, user).call_number(payload["number"], call.agent_id)
        payload["tickets"] = await Reader(request, user).summaries(session, await tickets.tickets_of_call(session, call.id))
        return web.json_response(payload)


@endpoint(*STAFF, summary="Save a call's business record, with its disposition code", body=RecordForm, answer=answers.Record, path=CALL_PATH,
          notes="Writes the form, the call's disposition_code and notes, and its customer; releases the agent held for a "
          "disposition. PUT replaces the whole form: a field of the call's direction left out goes back to empty. A code or "
          "handling that a ticket type names (投诉 complaint, 报修 repair, a work order) opens that ticket, once per call, "
          "prefilled from the call and the form; the answer lists the call's tickets. 下次联系时间 (next_contact_at) opens a "
          "callback task and 是否需回复 (reply_needed, due at reply_deadline) a reply task, yours, once per call (saving "
          "again moves their due time); the answer lists them as tasks.")  # fmt: skip
async def save(request: web.Request, user: User, body: RecordForm) -> web.Response:
    form = body
    async with request.app[SESSIONS]() as session, session.begin():
        call = await own_call(request, session, user, write=True)
        check_disposition(request, call, form.disposition_code)
        fields = {name: getattr(form, name) for name in form.model_fields_set & RECORD_FIELDS}
        try:
            record = await save_record(
                session,
                call,
                RecordInput(form.disposition_code, form.notes, form.customer_id, fields),
                user_id=user.id,
            )
        except RecordError as error:
            raise json_error(400, str(error)) from None
        reader = Reader(request, user)
        try:
            await tickets.open_from_record(session, reader.kinds, call, record, (form.ticket or TicketDetails()).model_dump(),
                                           actor=user, timezone=reader.timezone)  # fmt: skip
        except TicketError as error:
            raise json_error(400, f"ticket.{error}") from None
        followups = TaskReader(request, user)
        promised = await tasks.from_record(session, followups.settings, call, record, actor=user)
        if call.campaign_id is not None and record.next_contact_at is not None:
            await campaigns.call_back(session, call.linkedid, record.next_contact_at)
        if form.do_not_call:
            await _opt_out(request, user, session, call)
        payload = record_json(call, record, request.app[SETTINGS].crm.timezone)
        payload["tasks"] = await followups.json(session, promised)
        payload["number"] = disclosure(request, user).call_number(payload["number"], call.agent_id)
        payload["tickets"] = await reader.summaries(session, await tickets.tickets_of_call(session, call.id))
    await disposition_settled(request, call.agent_extension, call.linkedid)
    return web.json_response(payload)


async def _opt_out(request: web.Request, user: User, session, call: Call) -> None:  # type: ignore[no-untyped-def]
    """The customer's 勿扰 from the record form: the number of the call goes on the list (audited)."""
    number = call.caller_number if call.direction == CallDirection.INBOUND else call.called_number
    if not number:
        raise json_error(400, "do_not_call: the call has no number to list")
    try:
        entry = await dnc.add(session, number, region=request.app[SETTINGS].crm.default_region, reason="opt_out", source="record_form",
                              added_by=user.id, customer_id=call.customer_id, note=f"call {call.linkedid}")  # fmt: skip
    except dnc.DncError as error:
        raise json_error(400, f"do_not_call: {error}") from None
    audit.record(session, actor(request, user), "dnc.added", "customer" if call.customer_id else "dnc", call.customer_id, entry_id=entry.id,
                 reason=entry.reason, call_id=call.id)  # fmt: skip


def routes(app: web.Application) -> None:
    app.router.add_get("/api/calls/{id}/record", read_record)
    app.router.add_put("/api/calls/{id}/record", save)
