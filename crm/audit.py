"""The audit log of customer data (handbook §6): every read outside the reader's own calls, every
search, reveal, export and change, written in the same transaction as what it records. The table is
append-only in the database (migration 0010); supervisors read it through GET /api/audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.access import Scope
from crm.models import AuditEntry, Call, User

DETAIL_TEXT = 200  # a search's text is kept, bounded


@dataclass(frozen=True)
class Actor:
    """Who does it, from where."""

    user_id: int | None  # None: an operator at the command line
    username: str
    role: str
    remote: str = ""

    @classmethod
    def of(cls, user: User, remote: str | None) -> Actor:
        return cls(user.id, user.username, user.role.value, (remote or "")[:64])


def record(session: AsyncSession, actor: Actor, action: str, resource: str, resource_id: int | None = None, **detail: Any) -> None:
    """Add one entry to the session (it is written with the session's transaction)."""
    bounded = {key: value[:DETAIL_TEXT] if isinstance(value, str) else value for key, value in detail.items()}
    session.add(
        AuditEntry(user_id=actor.user_id, username=actor.username, role=actor.role, action=action, resource=resource,
                   resource_id=resource_id, detail=bounded, remote=actor.remote)  # fmt: skip
    )


async def on_their_calls(session: AsyncSession, scope: Scope, customer_id: int) -> bool:
    """Whether the customer is on a call the reader may read as theirs (their own, their team's): such
    a read is the work itself, not one to audit. Supervisors read the whole center: always audited."""
    if scope.whole_center:
        return False
    mine = select(Call.id).where(Call.customer_id == customer_id, scope.calls())
    return bool(await session.scalar(select(exists(mine))))


@dataclass(frozen=True)
class AuditQuery:
    action: str | None = None
    user_id: int | None = None
    resource: str | None = None
    resource_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # paging: the entries older than this one
    limit: int = 100


async def entries(session: AsyncSession, query: AuditQuery) -> list[AuditEntry]:
    """Newest first."""
    wanted = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit)
    for column, value in (
        (AuditEntry.action, query.action), (AuditEntry.user_id, query.user_id),
        (AuditEntry.resource, query.resource), (AuditEntry.resource_id, query.resource_id),
    ):  # fmt: skip
        if value is not None:
            wanted = wanted.where(column == value)
    if query.since is not None:
        wanted = wanted.where(AuditEntry.at >= query.since)
    if query.until is not None:
        wanted = wanted.where(AuditEntry.at < query.until)
    if query.before_id is not None:
        wanted = wanted.where(AuditEntry.id < query.before_id)
    return list(await session.scalars(wanted))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "user_id": entry.user_id,
        "username": entry.username,
        "role": entry.role,
        "action": entry.action,
        "resource": entry.resource,
        "resource_id": entry.resource_id,
        "detail": entry.detail,
        "remote": entry.remote,
    }
