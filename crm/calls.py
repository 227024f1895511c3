"""Reading the call log as a user may: one call, a filtered list, an agent's calls since a moment.
Who may see which call is crm.access's Scope; these functions only ask with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.access import Scope
from crm.models import Call


@dataclass(frozen=True)
class CallFilter:
    limit: int = 50
    since: datetime | None = None
    queue: str | None = None
    direction: str | None = None
    disposition: str | None = None
    agent_extension: str | None = None


async def visible_call(session: AsyncSession, scope: Scope, *, row_id: int | None = None, linkedid: str | None = None, write: bool = False) -> Call | None:
    """The call by row id or by Linkedid, if ``scope`` may read it (or, with ``write``, change it)."""
    match = Call.id == row_id if row_id is not None else Call.linkedid == linkedid
    return await session.scalar(select(Call).where(match, scope.writes_calls() if write else scope.calls()))


async def visible_calls(session: AsyncSession, scope: Scope, wanted: CallFilter) -> list[Call]:
    """The calls ``scope`` may see that match ``wanted``, newest first."""
    rows = select(Call).where(scope.calls()).order_by(Call.started_at.desc(), Call.id.desc()).limit(wanted.limit)
    if wanted.since is not None:
        rows = rows.where(Call.started_at >= wanted.since)
    for name in ("queue", "direction", "disposition", "agent_extension"):
        if (value := getattr(wanted, name)) is not None:
            rows = rows.where(getattr(Call, name) == value)
    return list(await session.scalars(rows))


async def agent_calls_since(session: AsyncSession, agent_id: int, since: datetime) -> list[Call]:
    """The calls an agent took or made since ``since``, newest first (the desktop's "my day")."""
    rows = select(Call).where(Call.agent_id == agent_id, Call.started_at >= since).order_by(Call.started_at.desc())
    return list(await session.scalars(rows))


async def calls_started_since(session: AsyncSession, since: datetime) -> list[Call]:
    """Every call started since ``since``, oldest first (the wallboard's rebuild of today)."""
    return list(await session.scalars(select(Call).where(Call.started_at >= since).order_by(Call.started_at)))
