"""Scorecards in the database: immutable versions; saving a definition under an existing key makes
the next version. The handbook's default scorecard is added once, at ``db upgrade``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Scorecard
from qa.scorecards import DEFAULT_SCORECARD, ScorecardDefinition


async def save_scorecard(session: AsyncSession, definition: ScorecardDefinition, author_id: int | None = None) -> Scorecard:
    latest = await session.scalar(select(func.max(Scorecard.version)).where(Scorecard.key == definition.key))
    row = Scorecard(key=definition.key, version=(latest or 0) + 1, definition=definition.model_dump(mode="json"), created_by=author_id)
    session.add(row)
    await session.flush()
    return row


async def latest_scorecard(session: AsyncSession, key: str) -> Scorecard | None:
    return await session.scalar(select(Scorecard).where(Scorecard.key == key).order_by(Scorecard.version.desc()).limit(1))


async def ensure_default_scorecard(session: AsyncSession) -> Scorecard:
    return await latest_scorecard(session, DEFAULT_SCORECARD.key) or await save_scorecard(session, DEFAULT_SCORECARD)


def definition_of(row: Scorecard) -> ScorecardDefinition:
    return ScorecardDefinition.model_validate(row.definition)


async def latest_versions(session: AsyncSession) -> list[Scorecard]:
    """The latest version of each scorecard, by key."""
    latest: dict[str, Scorecard] = {}
    for row in await session.scalars(select(Scorecard).order_by(Scorecard.key, Scorecard.version.desc())):
        latest.setdefault(row.key, row)
    return list(latest.values())
