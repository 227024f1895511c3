"""Idempotent writes of call-log records: calls upserted by Linkedid, agent states by event key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import AgentStateLog, Call, User

# Columns the bridge owns. disposition_code and notes belong to the agent's desktop and are never
# touched here; customer_id is only ever filled in, never cleared (the desktop may set it later).
CALL_COLUMNS = (
    "server", "direction", "did", "caller_number", "caller_name", "called_number", "queue", "priority",
    "route", "agent_extension", "agent_id", "agent_interface", "started_at", "queued_at", "offered_at",
    "answered_at", "ended_at", "wait_s", "talk_s", "hold_s", "hold_count", "disposition", "hangup_side",
    "offers", "transfers", "recordings",
)  # fmt: skip


NOT_NULL = {"server", "direction", "started_at", "hold_s", "hold_count", "priority"}
LISTS = {"offers", "transfers", "recordings"}


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


class AgentDirectory:
    """Extension → users.id, cached; an extension nobody has stays unresolved (None)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    async def resolve(self, session: AsyncSession, extension: str | None) -> int | None:
        if not extension:
            return None
        if extension not in self._ids:
            user_id = await session.scalar(select(User.id).where(User.extension == extension))
            if user_id is None:
                return None
            self._ids[extension] = user_id
        return self._ids[extension]


async def write_records(session: AsyncSession, records: list[dict[str, Any]], agents: AgentDirectory) -> None:
    """Write records in order in the session's transaction (the caller commits)."""
    insert = _insert(session)
    for record in _coalesce(records):
        kind, data = record["kind"], record["data"]
        if kind == "call":
            values = {"linkedid": data["linkedid"], **{c: data.get(c) for c in CALL_COLUMNS}}
            values["agent_id"] = await agents.resolve(session, data.get("agent_extension"))
            values["customer_id"] = data.get("customer_id")
            statement = insert(Call).values(**values)
            # What is known is never unlearnt: a value this record lacks keeps the stored one (a
            # call adopted after a reconnection knows less than the row written before it).
            changes = {
                c: statement.excluded[c] if c in NOT_NULL else func.coalesce(statement.excluded[c], getattr(Call, c))
                for c in CALL_COLUMNS
                if c not in LISTS or values[c]
            }
            changes["customer_id"] = func.coalesce(statement.excluded.customer_id, Call.customer_id)
            if data.get("adopted"):
                for column in ("started_at", "hold_s", "hold_count", "priority"):
                    changes.pop(column, None)
            await session.execute(statement.on_conflict_do_update(index_elements=["linkedid"], set_=changes))
        elif kind == "wrapup":
            await session.execute(
                update(Call).where(Call.linkedid == data["linkedid"]).values(wrapup_s=data["wrapup_s"])
            )
        elif kind == "agent_state":
            values = dict(data)
            values["agent_id"] = await agents.resolve(session, data["agent_extension"])
            statement = insert(AgentStateLog).values(**values).on_conflict_do_nothing(index_elements=["event_key"])
            await session.execute(statement)


def _coalesce(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of several snapshots of one call in a batch only the last one matters; order is kept."""
    last: dict[str, int] = {}
    for index, record in enumerate(records):
        if record["kind"] == "call":
            last[record["data"]["linkedid"]] = index
    return [r for i, r in enumerate(records) if r["kind"] != "call" or last[r["data"]["linkedid"]] == i]
