"""The business record of a call (handbook §3.1 呼入业务记录表, §3.2 呼出业务记录表): its choices,
its record number, reading it with its call, and saving it.

A saved record writes three places: the ``call_records`` row (the form), the call row
(``disposition_code``, ``notes``, and the customer it was about) and so the customer's history,
which is their calls with these codes and summaries (crm.cards).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Call, CallDirection, CallRecord, Customer

# 处理方式: answered on the spot, transferred, a work order raised, to call back
HANDLING = ("on_the_spot", "transfer", "work_order", "callback")
# 呼出类型: follow-up visit, satisfaction survey, telemarketing, notice, complaint reply, collection
OUTBOUND_TYPES = ("follow_up", "survey", "telemarketing", "notice", "complaint_reply", "collection")
# 接通状态: connected, no answer, busy, number not in service, wrong number, refused, inconvenient
CONNECT_STATUSES = ("connected", "no_answer", "busy", "vacant", "wrong_number", "refused", "inconvenient")

INBOUND_FIELDS = ("contact", "summary", "handling", "transferred_to", "result", "reply_needed", "reply_deadline")
OUTBOUND_FIELDS = ("contact", "campaign", "call_type", "purpose", "connect_status", "feedback", "next_contact_at")
RECORD_FIELDS = frozenset(INBOUND_FIELDS + OUTBOUND_FIELDS)

EMPTY = {"reply_needed": False, "reply_deadline": None, "handling": None, "call_type": None, "connect_status": None, "next_contact_at": None}

# What the call log already knows about an outbound attempt, as the form's connect status.
CONNECT_FROM_DISPOSITION = {"answered": "connected", "no_answer": "no_answer", "busy": "busy"}


class RecordError(ValueError):
    """The record cannot be saved as given; the message says which field and why."""


def record_no(call: Call, timezone: str) -> str:
    """记录编号: direction, the call's local date, the call's id — stable and unique."""
    day = call.started_at.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y%m%d")
    prefix = "IN" if call.direction == CallDirection.INBOUND else "OUT"
    return f"{prefix}-{day}-{call.id:06d}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def record_json(call: Call, record: CallRecord | None, timezone: str) -> dict[str, Any]:
    """The form as the desktop shows it: the call's facts, then the agent's fields (empty if unsaved)."""
    inbound = call.direction == CallDirection.INBOUND
    fields = INBOUND_FIELDS if inbound else OUTBOUND_FIELDS
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(record, name) if record is not None else EMPTY.get(name, "")
        values[name] = _when(value) if isinstance(value, datetime) else value
    if not inbound and values["connect_status"] is None:
        known = "answered" if call.answered_at is not None else call.disposition or ""
        values["connect_status"] = CONNECT_FROM_DISPOSITION.get(known)
    return {
        "record_no": record_no(call, timezone),
        "saved": record is not None,
        "call_id": call.linkedid,
        "direction": call.direction.value,
        "started_at": _when(call.started_at),
        "number": call.caller_number if inbound else call.called_number,
        "agent_extension": call.agent_extension,
        "talk_s": call.talk_s,
        "recordings": call.recordings,
        "customer_id": record.customer_id if record is not None and record.customer_id else call.customer_id,
        "disposition_code": call.disposition_code,
        "notes": call.notes,
        **values,
    }


@dataclass
class RecordInput:
    """A form as given: the call-row fields, and the record fields the client sent (PUT replaces
    the whole form, so a field of the call's direction left out goes back to empty)."""

    disposition_code: str
    notes: str
    customer_id: int | None
    fields: dict[str, Any]


async def save_record(session: AsyncSession, call: Call, form: RecordInput, *, user_id: int) -> CallRecord:
    """Write the form (in the caller's transaction); RecordError names the first field that is wrong."""
    allowed = INBOUND_FIELDS if call.direction == CallDirection.INBOUND else OUTBOUND_FIELDS
    stray = sorted(set(form.fields) - set(allowed))
    if stray:
        raise RecordError(f"{stray[0]}: not a field of the {call.direction.value} record")
    if form.fields.get("reply_needed") and form.fields.get("reply_deadline") is None:
        raise RecordError("reply_deadline: give the deadline when a reply is needed")
    if form.customer_id is not None and await session.get(Customer, form.customer_id) is None:
        raise RecordError(f"customer_id: no customer {form.customer_id}")
    record = await session.scalar(select(CallRecord).where(CallRecord.call_id == call.id))
    if record is None:
        record = CallRecord(call_id=call.id)
        session.add(record)
    for name in allowed:
        setattr(record, name, form.fields.get(name, EMPTY.get(name, "")))
    record.updated_by = user_id
    call.disposition_code, call.notes = form.disposition_code, form.notes
    if form.customer_id is not None:
        call.customer_id = form.customer_id
    record.customer_id = call.customer_id
    await session.flush()
    return record


async def record_of(session: AsyncSession, call_id: int) -> CallRecord | None:
    """The call's business record form, if one was saved."""
    return await session.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
