"""Dropped callers become callback tasks (handbook §2: call back within 10 minutes).

Swept from the call log rather than heard on the bus, so a call logged while the web process was
down, or by another process, is not missed; each dropped call is in one task (task_calls), and a
caller who drops again joins their open task instead of opening another."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.tasks import DROPPED_CALL, TaskSettings
from crm.models import Call, Task, TaskCall
from crm.tasks.store import Opening, kind_of, open_task

ABANDONED = "abandoned"
BATCH = 200


async def sweep(session: AsyncSession, settings: TaskSettings, now: datetime) -> int:
    """Turn the abandoned calls not yet in a task into tasks (in the session's transaction); the
    number of calls taken in."""
    if not settings.dropped_calls:
        return 0
    kind = kind_of(settings, DROPPED_CALL)
    calls = list(await session.scalars(
        select(Call)
        .where(Call.disposition == ABANDONED, Call.ended_at >= now - timedelta(hours=settings.dropped_within_h),
               Call.caller_number.is_not(None), Call.caller_number != "", or_(Call.entry_queue.is_not(None), Call.queue.is_not(None)),
               ~Call.id.in_(select(TaskCall.call_id)))
        .order_by(Call.ended_at).limit(BATCH)
    ))  # fmt: skip
    for call in calls:
        number = call.caller_number or ""
        task = await session.scalar(
            select(Task).where(Task.kind == DROPPED_CALL, Task.done_at.is_(None), Task.phone == number).order_by(Task.id).limit(1)
        )
        if task is None:
            ended = call.ended_at or now
            opening = Opening(kind=DROPPED_CALL, title=call.caller_name or "",
                              customer_id=call.customer_id, phone=number, call=call, queue=call.entry_queue or call.queue,
                              due_at=ended + timedelta(minutes=kind.due_min))  # fmt: skip
            task = await open_task(session, settings, opening, actor=None, now=now)
        session.add(TaskCall(call_id=call.id, task_id=task.id))
        await session.flush()
    return len(calls)
