"""Reading follow-up tasks as a user may (``seen``: crm.access Scope's clause): one task, a filtered
page of them, and what a list shows beside each (its call, how many calls dropped into it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Call, Queue, QueueMembership, Task, TaskCall


@dataclass(frozen=True)
class TaskFilter:
    state: str = "open"  # open, overdue, due_soon, done, all
    mine_for: int | None = None  # this user's tasks and the untaken ones of the queues they serve
    customer_id: int | None = None
    offset: int = 0
    limit: int = 50


async def visible_task(session: AsyncSession, seen: ColumnElement[bool], task_id: int) -> Task | None:
    return await session.scalar(select(Task).where(Task.id == task_id, seen))


def _mine(user_id: int) -> ColumnElement[bool]:
    served = select(Queue.name).join(QueueMembership, QueueMembership.queue_id == Queue.id).where(QueueMembership.user_id == user_id)
    return or_(Task.assignee_id == user_id, and_(Task.assignee_id.is_(None), Task.queue.in_(served)))


async def search(session: AsyncSession, seen: ColumnElement[bool], wanted: TaskFilter, *, now: datetime, near_due_min: float) -> tuple[int, list[Task]]:
    """How many tasks match, and the page asked for: the soonest due first (done ones: the last done first)."""
    undone = Task.done_at.is_(None)
    state = {
        "open": undone,
        "overdue": and_(undone, Task.due_at <= now),
        "due_soon": and_(undone, Task.due_at > now, Task.due_at <= now + timedelta(minutes=near_due_min)),
        "done": Task.done_at.is_not(None),
        "all": Task.id.is_not(None),
    }[wanted.state]
    where = [seen, state]
    if wanted.mine_for is not None:
        where.append(_mine(wanted.mine_for))
    if wanted.customer_id is not None:
        where.append(Task.customer_id == wanted.customer_id)
    order = (Task.done_at.desc(), Task.id.desc()) if wanted.state == "done" else (Task.due_at, Task.id)
    total = await session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
    rows = await session.scalars(select(Task).where(*where).order_by(*order).offset(wanted.offset).limit(wanted.limit))
    return total, list(rows)


async def linkedids_of(session: AsyncSession, call_ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in call_ids if i}
    if not wanted:
        return {}
    return dict((await session.execute(select(Call.id, Call.linkedid).where(Call.id.in_(wanted)))).all())  # type: ignore[arg-type]


async def drops_of(session: AsyncSession, task_ids: list[int]) -> dict[int, int]:
    """Task id → how many dropped calls were folded into it."""
    rows = await session.execute(select(TaskCall.task_id, func.count()).where(TaskCall.task_id.in_(task_ids)).group_by(TaskCall.task_id))
    return dict(rows.all())  # type: ignore[arg-type]


async def number_of_task(session: AsyncSession, seen: ColumnElement[bool], task_id: int) -> str | None:
    """The number a task the user may see asks to call."""
    return await session.scalar(select(Task.phone).where(Task.id == task_id, seen))
