"""Where each queue callback stands. One row per request (the caller's call's Linkedid is unique), and
each attempt's Linkedid is written before its call is placed, so a request is never called twice
for one attempt — also across a restart — and an attempt's end settles it once.

waiting — a stand-in must be placed in the queue (first, or a retry once ``due_at`` has passed)
calling — the stand-in is in the queue, or an agent took it and the number is being called
done — the customer was reached; failed — attempts used up, or the queue gave up on the stand-in
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.models import Call, QueueCallback

STATUSES = ("waiting", "calling", "done", "failed")
RETRIED = {"no_answer", "busy", "failed"}  # the number did not answer: again after retry_s, while attempts are left


@dataclass(frozen=True)
class Request:
    requested_linkedid: str
    queue: str
    number: str
    customer_id: int | None
    priority: int
    waiting_since: datetime
    max_attempts: int
    retry_s: int


async def add(session: AsyncSession, request: Request) -> QueueCallback | None:
    """Store a request; None when this call asked already (the event seen twice)."""
    row = QueueCallback(**request.__dict__, status="waiting")
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


async def of_call(session: AsyncSession, requested_linkedid: str) -> QueueCallback | None:
    return await session.scalar(select(QueueCallback).where(QueueCallback.requested_linkedid == requested_linkedid))


async def due(session: AsyncSession, now: datetime | None = None) -> list[QueueCallback]:
    """Requests whose stand-in must be placed now, the longest waiting first."""
    now = now or utcnow()
    rows = await session.scalars(
        select(QueueCallback)
        .where(QueueCallback.status == "waiting", (QueueCallback.due_at.is_(None)) | (QueueCallback.due_at <= now))
        .order_by(QueueCallback.waiting_since, QueueCallback.id)
    )
    return list(rows)


async def start_attempt(session: AsyncSession, callback_id: int, linkedid: str) -> bool:
    """Claim the next attempt of a waiting request for the call ``linkedid``; False if it is not
    waiting any more (another tick or process took it)."""
    result = await session.execute(
        update(QueueCallback)
        .where(QueueCallback.id == callback_id, QueueCallback.status == "waiting")
        .values(status="calling", linkedid=linkedid, attempts=QueueCallback.attempts + 1, due_at=None, updated_at=utcnow())
    )
    return result.rowcount == 1


async def finish(session: AsyncSession, linkedid: str, outcome: str, now: datetime | None = None) -> QueueCallback | None:
    """Settle the attempt of call ``linkedid``: reached → done; not answered → waiting for a retry
    (or failed when no attempt is left); anything else (the queue gave up) → failed."""
    row = await session.scalar(select(QueueCallback).where(QueueCallback.linkedid == linkedid, QueueCallback.status == "calling"))
    if row is None:
        return None
    row.linkedid, row.outcome = None, outcome
    if outcome == "answered":
        row.status = "done"
    elif outcome in RETRIED and row.attempts < row.max_attempts:
        row.status, row.due_at = "waiting", (now or utcnow()) + timedelta(seconds=row.retry_s)
    else:
        row.status = "failed"
    return row


async def calling(session: AsyncSession) -> list[QueueCallback]:
    return list(await session.scalars(select(QueueCallback).where(QueueCallback.status == "calling")))


async def logged_outcome(session: AsyncSession, linkedid: str) -> str | None:
    """How the attempt's call ended by the call log (None: never logged as ended)."""
    row = (await session.execute(select(Call.disposition, Call.ended_at).where(Call.linkedid == linkedid))).first()
    if row is None or row.ended_at is None:
        return None
    return row.disposition


async def counts(session: AsyncSession, since: datetime) -> dict[str, dict[str, int]]:
    """Per queue: requests since ``since`` by status."""
    rows = await session.execute(
        select(QueueCallback.queue, QueueCallback.status, func.count())
        .where(QueueCallback.requested_at >= since)
        .group_by(QueueCallback.queue, QueueCallback.status)
    )
    result: dict[str, dict[str, int]] = {}
    for queue, status, n in rows:
        result.setdefault(queue, {})[status] = n
    return result
