"""Reading tickets as a user may (``seen``: crm.access Scope's clause): one ticket, a filtered page of
them, a ticket's history and its linked calls, and the teams that decide who handles it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Call, Ticket, TicketCall, TicketEvent, User


@dataclass(frozen=True)
class TicketFilter:
    state: str = "open"  # open, overdue, due_soon, closed, all
    type: str | None = None
    category: str | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    number: str | None = None  # a ticket number, or its start
    offset: int = 0
    limit: int = 50


async def visible_ticket(session: AsyncSession, seen: ColumnElement[bool], *, ticket_id: int | None = None, number: str | None = None) -> Ticket | None:
    match = Ticket.id == ticket_id if ticket_id is not None else Ticket.number == number
    return await session.scalar(select(Ticket).where(match, seen))


async def search(session: AsyncSession, seen: ColumnElement[bool], wanted: TicketFilter, *, now: datetime, near_due_h: float) -> tuple[int, list[Ticket]]:
    """How many tickets match, and the page of them asked for, the nearest promised response first."""
    waiting = and_(Ticket.closed_at.is_(None), Ticket.responded_at.is_(None))
    state = {
        "open": Ticket.closed_at.is_(None),
        "overdue": and_(waiting, Ticket.due_at <= now),
        "due_soon": and_(waiting, Ticket.due_at > now, Ticket.due_at <= now + timedelta(hours=near_due_h)),
        "closed": Ticket.closed_at.is_not(None),
        "all": Ticket.id.is_not(None),
    }[wanted.state]
    where = [seen, state]
    for name in ("type", "category", "customer_id", "owner_id"):
        if (value := getattr(wanted, name)) is not None:
            where.append(getattr(Ticket, name) == value)
    if wanted.number:
        where.append(Ticket.number.startswith(wanted.number.strip().upper(), autoescape=True))
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    rows = await session.scalars(select(Ticket).where(*where).order_by(Ticket.due_at, Ticket.id).offset(wanted.offset).limit(wanted.limit))
    return total, list(rows)


async def teams_of(session: AsyncSession, ticket: Ticket) -> tuple[int | None, int | None]:
    """The team of the ticket's owner and of whoever opened it."""
    teams = dict((await session.execute(select(User.id, User.team_id).where(User.id.in_([ticket.owner_id or 0, ticket.opened_by or 0])))).all())
    return teams.get(ticket.owner_id), teams.get(ticket.opened_by)


async def events_of(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    return list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))


async def linked_calls(session: AsyncSession, ticket_id: int, calls_seen: ColumnElement[bool]) -> list[dict[str, Any]]:
    """The calls linked to the ticket that ``calls_seen`` lets the reader see, oldest first."""
    rows = await session.execute(
        select(Call.id, Call.linkedid, Call.started_at, Call.direction, Call.agent_extension, Call.recordings)
        .join(TicketCall, TicketCall.call_id == Call.id).where(TicketCall.ticket_id == ticket_id, calls_seen)
        .order_by(Call.started_at)
    )  # fmt: skip
    return [{"id": c.id, "linkedid": c.linkedid, "started_at": c.started_at.isoformat(), "direction": c.direction.value,
             "agent_extension": c.agent_extension, "recordings": c.recordings} for c in rows]  # fmt: skip
