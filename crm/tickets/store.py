"""Tickets in the database: opened, moved through their steps, reassigned, reopened, linked to calls.
Each change writes its event in the caller's transaction; the rules are crm.tickets.lifecycle's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.tickets import SEVERITIES, TicketSettings, TicketType
from crm.db import utcnow
from crm.models import Call, CallRecord, Customer, Role, Ticket, TicketCall, TicketEvent, User
from crm.tickets.lifecycle import TicketError, clean_values, move_kind, promised_by, ticket_number

OWNER_ROLES = (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)


@dataclass
class Opening:
    """A ticket as registered: by hand, or from a call's record form."""

    type: str
    category: str
    title: str
    description: str = ""
    severity: str = "ordinary"
    major: bool = False
    confidential: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    contact: str = ""
    contact_phone: str = ""
    call: Call | None = None
    owner_id: int | None = None


def kind_of(kinds: TicketSettings, code: str) -> TicketType:
    found = kinds.type(code)
    if found is None:
        raise TicketError(f"type: one of {', '.join(t.code for t in kinds.types)}")
    return found


async def _owner(session: AsyncSession, owner_id: int) -> User:
    owner = await session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in OWNER_ROLES:
        raise TicketError(f"owner_id: no active agent, leader or supervisor {owner_id}")
    return owner


async def open_ticket(session: AsyncSession, kinds: TicketSettings, opening: Opening, *, actor: User, timezone: str) -> Ticket:
    kind = kind_of(kinds, opening.type)
    now = utcnow()
    due = promised_by(kind, opening.category, now)
    if opening.severity not in SEVERITIES:
        raise TicketError(f"severity: one of {', '.join(SEVERITIES)}")
    if opening.major and not kind.escalates:
        raise TicketError(f"major: a {kind.code} ticket is never escalated")
    values = clean_values(kind.fields, opening.fields, f"a {kind.code} ticket")
    customer_id = opening.customer_id if opening.customer_id is not None else (opening.call.customer_id if opening.call else None)
    if customer_id is not None and await session.get(Customer, customer_id) is None:
        raise TicketError(f"customer_id: no customer {customer_id}")
    owner_id = opening.owner_id if opening.owner_id is not None else actor.id
    await _owner(session, owner_id)
    ticket = Ticket(
        type=kind.code, category=opening.category, severity=opening.severity, major=opening.major,
        confidential=opening.confidential, status=kind.steps[0].code, title=opening.title, description=opening.description,
        fields=values, customer_id=customer_id, contact=opening.contact, contact_phone=opening.contact_phone,
        call_id=opening.call.id if opening.call else None, owner_id=owner_id, opened_by=actor.id, opened_at=now, due_at=due,
    )  # fmt: skip
    session.add(ticket)
    await session.flush()
    ticket.number = ticket_number(kind, now, ticket.id, timezone)
    session.add(TicketEvent(ticket_id=ticket.id, kind="opened", step=ticket.status, values=values, actor_id=actor.id, at=now))
    if opening.call is not None:
        session.add(TicketCall(ticket_id=ticket.id, call_id=opening.call.id, linked_by=actor.id, linked_at=now))
    await session.flush()
    return ticket


async def move(session: AsyncSession, kind: TicketType, ticket: Ticket, target: str, values: dict[str, Any], note: str, *, actor: User) -> TicketEvent:
    """Forward to ``target`` with that step's form, or back to it (rework: a note says why)."""
    how = move_kind(kind, ticket.status, target)
    step = kind.step(target)
    assert step is not None
    if how == "back":
        if values:
            raise TicketError("values: going back records no form, only a note")
        if not note.strip():
            raise TicketError("note: say why the ticket goes back")
        cleaned: dict[str, Any] = {}
    else:
        cleaned = clean_values(step.fields, values, f"the step {target!r}")
    now = utcnow()
    ticket.status = target
    if target == kind.replied_step and ticket.responded_at is None:
        ticket.responded_at = now
    if target == kind.steps[-1].code:
        ticket.closed_at = now
    event = TicketEvent(ticket_id=ticket.id, kind=how, step=target, values=cleaned, note=note.strip(), actor_id=actor.id, at=now)
    session.add(event)
    await session.flush()
    return event


async def reopen(session: AsyncSession, kind: TicketType, ticket: Ticket, note: str, *, actor: User) -> TicketEvent:
    """重开: a closed ticket goes back to the step after the first (the customer is not satisfied)."""
    if ticket.closed_at is None:
        raise TicketError("the ticket is not closed")
    if not note.strip():
        raise TicketError("note: say why the ticket is reopened")
    ticket.status, ticket.closed_at = kind.steps[1].code, None
    event = TicketEvent(ticket_id=ticket.id, kind="reopened", step=ticket.status, note=note.strip(), actor_id=actor.id)
    session.add(event)
    await session.flush()
    return event


async def assign(session: AsyncSession, ticket: Ticket, owner_id: int, note: str, *, actor: User) -> User:
    owner = await _owner(session, owner_id)
    ticket.owner_id = owner.id
    session.add(TicketEvent(ticket_id=ticket.id, kind="assigned", values={"owner_id": owner.id}, note=note.strip(), actor_id=actor.id))
    await session.flush()
    return owner


async def link_call(session: AsyncSession, ticket: Ticket, call: Call, *, actor: User) -> bool:
    """Attach a call (a callback, the customer calling again); False if it already was."""
    if await session.get(TicketCall, (ticket.id, call.id)) is not None:
        return False
    session.add(TicketCall(ticket_id=ticket.id, call_id=call.id, linked_by=actor.id))
    session.add(TicketEvent(ticket_id=ticket.id, kind="linked", values={"call_id": call.linkedid}, actor_id=actor.id))
    await session.flush()
    return True


async def tickets_of_call(session: AsyncSession, call_id: int) -> list[Ticket]:
    return list(await session.scalars(select(Ticket).join(TicketCall).where(TicketCall.call_id == call_id).order_by(Ticket.id)))


async def open_from_record(
    session: AsyncSession, kinds: TicketSettings, call: Call, record: CallRecord, details: dict[str, Any], *, actor: User, timezone: str
) -> list[Ticket]:
    """The record form's business type (投诉, 报修) or handling (work order) opens the ticket it calls
    for, prefilled from the call and the form; once per call and type."""
    linked = {t.type for t in await tickets_of_call(session, call.id)}
    wanted = [
        kind for kind in kinds.types
        if kind.code not in linked
        and (call.disposition_code in kind.dispositions or (record.handling is not None and record.handling in kind.handlings))
    ]  # fmt: skip
    category = details.get("category")
    if wanted and category and not any(kind.category(category) for kind in wanted):
        raise TicketError(f"category: one of {', '.join(c.code for c in wanted[0].categories)}")
    summary = record.summary.strip()
    opened = []
    for kind in wanted:
        opening = Opening(
            type=kind.code,
            category=category if category and kind.category(category) else kind.categories[0].code,
            severity=details.get("severity") or "ordinary",
            major=bool(details.get("major")) and kind.escalates,
            confidential=bool(details.get("confidential")),
            title=(summary.splitlines()[0] if summary else kind.en)[:200],
            description="\n\n".join(part for part in (summary, record.result.strip()) if part),
            customer_id=call.customer_id,
            contact=record.contact,
            contact_phone=call.caller_number or "",
            call=call,
        )
        opened.append(await open_ticket(session, kinds, opening, actor=actor, timezone=timezone))
    return opened


async def open_tickets_of_customer(session: AsyncSession, customer_id: int, limit: int = 5) -> list[Ticket]:
    rows = await session.scalars(
        select(Ticket).where(Ticket.customer_id == customer_id, Ticket.closed_at.is_(None)).order_by(Ticket.due_at).limit(limit)
    )
    return list(rows)


async def overdue_by_agent(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Open tickets past their promised reply, counted by the extension of who answers for them
    (the owner, else whoever opened it): the wallboard raises them to the leaders."""
    responsible = func.coalesce(Ticket.owner_id, Ticket.opened_by)
    rows = await session.execute(
        select(User.extension, func.count(Ticket.id))
        .join(User, User.id == responsible)
        .where(Ticket.closed_at.is_(None), Ticket.responded_at.is_(None), Ticket.due_at <= now, User.extension.is_not(None))
        .group_by(User.extension)
    )
    return {extension: count for extension, count in rows.all()}
