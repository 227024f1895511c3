"""Tasks in the database: opened by hand or from a call's record form, taken, given to someone,
finished with an outcome. The rules of who may do it are crm.access's; these check the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.tasks import CALLBACK, REPLY, TaskKind, TaskSettings
from crm.db import utcnow
from crm.models import Call, CallRecord, Customer, Role, Task, User

STAFF = (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)


class TaskError(ValueError):
    """A task that cannot be opened or finished as asked; the message names the field."""


@dataclass
class Opening:
    kind: str
    title: str
    note: str = ""
    customer_id: int | None = None
    phone: str = ""
    call: Call | None = None
    ticket_id: int | None = None
    assignee_id: int | None = None
    queue: str | None = None
    due_at: datetime | None = None


def kind_of(settings: TaskSettings, code: str) -> TaskKind:
    kind = settings.kind(code)
    if kind is None:
        raise TaskError(f"kind: one of {', '.join(k.code for k in settings.kinds)}")
    return kind


async def _assignee(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.active or user.role not in STAFF:
        raise TaskError(f"assignee_id: no active agent, leader or supervisor {user_id}")
    return user


async def open_task(session: AsyncSession, settings: TaskSettings, opening: Opening, *, actor: User | None, now: datetime | None = None) -> Task:
    kind = kind_of(settings, opening.kind)
    now = now or utcnow()
    if opening.customer_id is not None and await session.get(Customer, opening.customer_id) is None:
        raise TaskError(f"customer_id: no customer {opening.customer_id}")
    if opening.assignee_id is not None:
        await _assignee(session, opening.assignee_id)
    elif opening.queue is None:
        raise TaskError("assignee_id: a task is someone's, or its queue's")
    task = Task(
        kind=kind.code, title=opening.title[:200], note=opening.note, customer_id=opening.customer_id, phone=opening.phone[:40],
        call_id=opening.call.id if opening.call else None, ticket_id=opening.ticket_id, assignee_id=opening.assignee_id,
        queue=opening.queue, created_by=actor.id if actor else None, created_at=now,
        due_at=opening.due_at or now + timedelta(minutes=kind.due_min),
    )  # fmt: skip
    session.add(task)
    await session.flush()
    return task


async def from_record(session: AsyncSession, settings: TaskSettings, call: Call, record: CallRecord, *, actor: User) -> list[Task]:
    """The record form's promises: 下次联系时间 (next_contact_at) is a callback (on a campaign's call the
    campaign calls the contact back: crm.campaigns.store.call_back), 是否需回复 with its 回复时限 a
    reply. Saving the form again moves an open one's due time; one of each per call."""
    wanted = []
    if record.next_contact_at is not None and call.campaign_id is None:  # a campaign redials its contact itself
        wanted.append((CALLBACK, record.next_contact_at, record.feedback or record.purpose))
    if record.reply_needed:
        wanted.append((REPLY, record.reply_deadline, record.summary))
    tasks = []
    for code, due, text in wanted:
        task = await session.scalar(select(Task).where(Task.call_id == call.id, Task.kind == code))
        if task is None:
            number = call.caller_number if call.direction.value == "inbound" else call.called_number
            opening = Opening(kind=code, title=(text.strip().splitlines() or [""])[0], note=text.strip(),
                              customer_id=record.customer_id or call.customer_id, phone=number or "", call=call,
                              assignee_id=actor.id, due_at=due)  # fmt: skip
            task = await open_task(session, settings, opening, actor=actor)
        elif task.done_at is None and due is not None:
            task.due_at = due
        tasks.append(task)
    await session.flush()
    return tasks


async def take(session: AsyncSession, task: Task, assignee_id: int) -> User:
    user = await _assignee(session, assignee_id)
    task.assignee_id = user.id
    await session.flush()
    return user


async def finish(
    session: AsyncSession, settings: TaskSettings, task: Task, outcome: str, note: str, *, actor: User, again_at: datetime | None = None
) -> Task | None:
    """Done with an outcome (reached, no answer …). ``again_at``: try again then; the new task is the
    same follow-up, the finisher's, and is returned."""
    if task.done_at is not None:
        raise TaskError("the task is already done")
    if settings.outcome(outcome) is None:
        raise TaskError(f"outcome: one of {', '.join(o.code for o in settings.outcomes)}")
    now = utcnow()
    if again_at is not None and again_at <= now:
        raise TaskError("again_at: a time still to come")
    task.done_at, task.done_by, task.outcome, task.outcome_note = now, actor.id, outcome, note.strip()
    if task.assignee_id is None:
        task.assignee_id = actor.id  # whoever did a queue's task is who it was done by and for
    again = None
    if again_at is not None:
        again = Task(kind=task.kind, title=task.title, note=task.note, customer_id=task.customer_id, phone=task.phone,
                     call_id=task.call_id, ticket_id=task.ticket_id, assignee_id=actor.id, created_by=actor.id,
                     created_at=now, due_at=again_at)  # fmt: skip
        session.add(again)
    await session.flush()
    return again


async def overdue(session: AsyncSession, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """Open tasks past due, counted by their agent's extension and, for the untaken ones, by queue:
    the wallboard raises both to the leaders."""
    mine = await session.execute(
        select(User.extension, func.count(Task.id)).join(User, User.id == Task.assignee_id)
        .where(Task.done_at.is_(None), Task.due_at <= now, User.extension.is_not(None)).group_by(User.extension)
    )  # fmt: skip
    pooled = await session.execute(
        select(Task.queue, func.count(Task.id))
        .where(Task.done_at.is_(None), Task.due_at <= now, Task.assignee_id.is_(None), Task.queue.is_not(None)).group_by(Task.queue)
    )  # fmt: skip
    return {extension: count for extension, count in mine.all()}, {queue: count for queue, count in pooled.all()}
