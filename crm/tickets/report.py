"""The tickets report: tickets opened over a range, by type and category — how many are still
open and at which step, closed, past their promised reply, answered late, and the hours to close."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.tickets import TicketSettings
from crm.models import Ticket


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


async def ticket_report(
    session: AsyncSession, kinds: TicketSettings, start: datetime, end: datetime, now: datetime, visible: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """One row per type and category that had a ticket opened in [start, end), in the order the
    settings list them; ``visible`` is the reader's scope (crm.access)."""
    found = await session.execute(
        select(Ticket.type, Ticket.category, Ticket.status, Ticket.opened_at, Ticket.due_at, Ticket.responded_at, Ticket.closed_at)
        .where(Ticket.opened_at >= start, Ticket.opened_at < end, visible)
    )
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in found.all():
        groups.setdefault((row.type, row.category), []).append(row)
    order = {(k.code, c.code): (i, j) for i, k in enumerate(kinds.types) for j, c in enumerate(k.categories)}
    rows = []
    for (kind, category), tickets in sorted(groups.items(), key=lambda item: order.get(item[0], (len(order), 0))):
        open_ = [t for t in tickets if t.closed_at is None]
        replied = [t for t in tickets if t.responded_at is not None]
        to_close = [(t.closed_at - t.opened_at).total_seconds() for t in tickets if t.closed_at is not None]
        rows.append({
            "type": kind,
            "category": category,
            "opened": len(tickets),
            "open": len(open_),
            "closed": len(to_close),
            "overdue": sum(1 for t in open_ if t.responded_at is None and t.due_at <= now),
            "replied_on_time": sum(1 for t in replied if t.responded_at <= t.due_at),
            "replied_late": sum(1 for t in replied if t.responded_at > t.due_at),
            "avg_hours_to_close": _hours(sum(to_close) / len(to_close)) if to_close else None,
            "median_hours_to_close": _hours(median(to_close)) if to_close else None,
            "open_by_step": dict(Counter(t.status for t in open_)),
        })  # fmt: skip
    return rows
