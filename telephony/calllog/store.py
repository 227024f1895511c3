"""Idempotent writes of call-log records: calls upserted by Linkedid, agent states by event key, and
what comes after a call's end (the agent's wrap-up time, the caller's satisfaction score)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import AgentStateLog, Call, User

# Columns the bridge owns. disposition_code and notes belong to the agent's desktop and are never
# touched here; customer_id is only ever filled in, never cleared (the desktop may set it later).
CALL_COLUMNS = (
    "server", "direction", "did", "caller_number", "caller_name", "called_number", "queue", "entry_queue", "priority",
    "route", "agent_extension", "agent_id", "agent_interface", "started_at", "queued_at", "offered_at",
    "answered_at", "ended_at", "wait_s", "talk_s", "hold_s", "hold_count", "disposition", "hangup_side",
    "offers", "transfers", "recordings", "campaign_id", "callback_id", "surveyed_at", "recording_paused",
)  # fmt: skip


NOT_NULL = {"server", "direction", "started_at", "hold_s", "hold_count", "priority"}
LISTS = {"offers", "transfers", "recordings", "recording_paused"}
LATE = {"wrapup", "survey"}  # records that come after their call's end and only fill in one column
ADOPTED_KEEPS = {"started_at", "hold_s", "hold_count", "priority", "entry_queue"}  # an adopted call's guesses never overwrite these


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class AgentDirectory:
    """Extension → users.id, cached; an extension nobody has stays unresolved (None)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    async def learn(self, session: AsyncSession, extensions: set[str]) -> None:
        """Look up the extensions not known yet, in one query for a whole batch (one per record
        was the call log's largest cost when an extension has no user)."""
        missing = [extension for extension in extensions if extension and extension not in self._ids]
        if missing:
            rows = await session.execute(select(User.extension, User.id).where(User.extension.in_(missing)))
            self._ids.update({extension: user_id for extension, user_id in rows.all() if extension})

    def get(self, extension: str | None) -> int | None:
        return self._ids.get(extension) if extension else None


async def write_records(session: AsyncSession, records: list[dict[str, Any]], agents: AgentDirectory) -> None:
    """Write a batch in the session's transaction (the caller commits): the calls first (one row
    per Linkedid; rows of the same shape in one executemany), then agent states and wrap-ups."""
    dialect = session.bind.dialect.name
    calls: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    states: list[dict[str, Any]] = []
    wrapups: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    records = _coalesce(records)
    await agents.learn(session, {record["data"].get("agent_extension") or "" for record in records if record["kind"] not in LATE})
    for record in records:
        kind, data = record["kind"], record["data"]
        if kind == "call":
            values = {"linkedid": data["linkedid"], **{c: data.get(c) for c in CALL_COLUMNS}}
            values["agent_id"] = agents.get(data.get("agent_extension"))
            values["customer_id"] = data.get("customer_id")
            # What is known is never unlearnt: a value this record lacks keeps the stored one (a
            # call adopted after a reconnection knows less than the row written before it).
            kept = tuple(
                c for c in CALL_COLUMNS
                if (c not in LISTS or values[c]) and not (data.get("adopted") and c in ADOPTED_KEEPS)
            )
            calls.setdefault(kept, []).append(values)
        elif kind == "wrapup":
            wrapups.append({"key": data["linkedid"], "wrapup_s": data["wrapup_s"]})
        elif kind == "survey":
            surveys.append({"key": data["linkedid"], "satisfaction": data["satisfaction"]})
        elif kind == "agent_state":
            states.append({**data, "agent_id": agents.get(data["agent_extension"])})
    for kept, rows in calls.items():
        await session.execute(_call_upsert(dialect, kept), rows)
    if states:
        await session.execute(_insert(dialect)(AgentStateLog).on_conflict_do_nothing(index_elements=["event_key"]), states)
    table = Call.__table__  # Core, so a list is an executemany, not the ORM's update by primary key
    if wrapups:
        await session.execute(
            update(table).where(table.c.linkedid == bindparam("key")).values(wrapup_s=bindparam("wrapup_s")), wrapups
        )
    if surveys:
        await session.execute(
            update(table).where(table.c.linkedid == bindparam("key")).values(satisfaction=bindparam("satisfaction")), surveys
        )


@functools.cache
def _call_upsert(dialect: str, kept: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The upsert of calls that updates the columns ``kept`` (built once per shape: building the
    ``excluded`` alias of 30 columns each batch was most of the call log's CPU)."""
    statement = _insert(dialect)(Call)
    changes = {c: statement.excluded[c] if c in NOT_NULL else func.coalesce(statement.excluded[c], getattr(Call, c)) for c in kept}
    changes["customer_id"] = func.coalesce(statement.excluded.customer_id, Call.customer_id)
    return statement.on_conflict_do_update(index_elements=["linkedid"], set_=changes)


def _coalesce(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of several snapshots of one call in a batch only the last one matters; order is kept."""
    last: dict[str, int] = {}
    for index, record in enumerate(records):
        if record["kind"] == "call":
            last[record["data"]["linkedid"]] = index
    return [r for i, r in enumerate(records) if r["kind"] != "call" or last[r["data"]["linkedid"]] == i]
