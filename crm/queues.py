"""Keep the queues table in step with the queues in the settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import QueueSettings
from crm.models import Queue, QueueMembership


async def sync_queues(session: AsyncSession, configured: list[QueueSettings]) -> list[Queue]:
    """Create or update a row per configured queue. Rows of queues no longer configured stay
    (past calls and reports name them)."""
    existing = {q.name: q for q in (await session.scalars(select(Queue))).all()}
    for settings in configured:
        row = existing.get(settings.name) or Queue(name=settings.name)
        row.display_name = settings.display_name or settings.name
        row.service_level_s = settings.service_level_s
        row.service_level_target = settings.service_level_target
        session.add(row)
    await session.flush()
    return list((await session.scalars(select(Queue).order_by(Queue.name))).all())


async def queues_of_user(session: AsyncSession, user_id: int) -> list[str]:
    """The names of the queues an agent belongs to (what logging in adds them to)."""
    rows = await session.scalars(select(Queue.name).join(QueueMembership, QueueMembership.queue_id == Queue.id).where(QueueMembership.user_id == user_id).order_by(Queue.name))
    return list(rows)
