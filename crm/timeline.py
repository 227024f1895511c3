"""A customer's interactions, newest first: calls with their record forms, tickets opened and closed,
follow-up tasks, grade and risk changes, notes. Each kind is read newest first up to the page size
and the pages are merged, so a page costs one short query per kind however long the history is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.access import customer_notes
from crm.models import Call, CallRecord, CustomerChange, CustomerNote, Task, Ticket, User
from crm.privacy import Disclosure
from crm.users import display_names

async def timeline(session: AsyncSession, customer_id: int, disclosure: Disclosure, *, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` interactions earlier than ``before``, newest first."""
    items: list[dict[str, Any]] = []
    calls = await session.execute(
        select(Call.id, Call.started_at, Call.direction, Call.disposition, Call.disposition_code, Call.notes, Call.agent_id, Call.satisfaction,
               Call.caller_number, Call.called_number, User.display_name, CallRecord.summary)
        .outerjoin(User, User.id == Call.agent_id).outerjoin(CallRecord, CallRecord.call_id == Call.id)
        .where(Call.customer_id == customer_id, Call.started_at < before).order_by(Call.started_at.desc()).limit(limit)
    )  # fmt: skip
    for c in calls:
        number = c.caller_number if c.direction.value == "inbound" else c.called_number
        items.append({"kind": "call", "at": c.started_at, "id": c.id, "direction": c.direction.value, "disposition": c.disposition,
                      "disposition_code": c.disposition_code, "agent": c.display_name, "number": disclosure.call_number(number, c.agent_id),
                      "text": c.summary or c.notes or "", "satisfaction": c.satisfaction})  # fmt: skip
    for kind, column in (("ticket_opened", Ticket.opened_at), ("ticket_closed", Ticket.closed_at)):
        tickets = await session.execute(
            select(Ticket.id, Ticket.number, Ticket.type, Ticket.status, Ticket.title, Ticket.confidential, column.label("at"))
            .where(Ticket.customer_id == customer_id, column < before).order_by(column.desc()).limit(limit)
        )  # fmt: skip
        for t in tickets:  # a confidential complaint's title stays out, as on the card
            items.append({"kind": kind, "at": t.at, "id": t.id, "number": t.number, "type": t.type, "status": t.status,
                          "text": "" if t.confidential else t.title})  # fmt: skip
    tasks = await session.scalars(
        select(Task).where(Task.customer_id == customer_id, Task.created_at < before).order_by(Task.created_at.desc()).limit(limit)
    )
    for task in tasks:
        items.append({"kind": "task", "at": task.created_at, "id": task.id, "task_kind": task.kind, "text": task.title,
                      "due_at": task.due_at.isoformat(), "done_at": task.done_at.isoformat() if task.done_at else None,
                      "outcome": task.outcome})  # fmt: skip
    changes = await session.scalars(
        select(CustomerChange)
        .where(CustomerChange.customer_id == customer_id, CustomerChange.status == "approved", CustomerChange.decided_at < before)
        .order_by(CustomerChange.decided_at.desc()).limit(limit)
    )  # fmt: skip
    changes = list(changes)
    notes = list(
        await session.scalars(
            select(CustomerNote).where(CustomerNote.customer_id == customer_id, customer_notes(disclosure.user_id), CustomerNote.created_at < before)
            .order_by(CustomerNote.created_at.desc()).limit(limit)
        )  # fmt: skip
    )
    names = await display_names(session, {c.decided_by for c in changes} | {n.author_id for n in notes})
    for change in changes:
        items.append({"kind": "grade_change", "at": change.decided_at, "id": change.id, "field": change.field, "before": change.before,
                      "after": change.after, "text": change.reason, "by": names.get(change.decided_by)})  # fmt: skip
    for note in notes:
        items.append({"kind": "note", "at": note.created_at, "id": note.id, "text": note.text, "private": note.private, "by": names.get(note.author_id)})
    items.sort(key=lambda item: item["at"], reverse=True)
    return [{**item, "at": item["at"].isoformat()} for item in items[:limit]]
