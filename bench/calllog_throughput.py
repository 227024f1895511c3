"""The call log through its production writer (issue 17): calls published on the bus as fast as it
takes them (three written events each: started, answered, ended), until every row is in the
database, on SQLite and PostgreSQL. Zero lost is checked by counting the ended rows. Against a peer
in the same run: the same store (``write_records``) with one transaction per event, what a writer
without batching does. The goal is PostgreSQL's: ≥ 3,000 calls a second."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.databases import on_both
from bench.report import Section
from crm.db import create_engine, session_factory
from crm.models import Call, Role, User
from telephony.calllog.store import AgentDirectory, write_records
from telephony.calllog.writer import CallLogWriter, call_record
from telephony.calls.state import CallPhase, CallSnapshot, Disposition
from telephony.events import CallAnswered, CallEnded, CallEvent, CallStarted, EventBus

CALLS, QUICK_CALLS = 30_000, 3_000
PEER_CALLS = 1_000
GOAL_PER_S = 3_000


def _events(number: int) -> list[CallEvent]:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(seconds=number)
    call = CallSnapshot(linkedid=f"bench-{number}", server="default", direction="inbound", started_at=at, did="4001",
                        caller_number=f"139{number:08d}", caller_name="张三", queue="support", entry_queue="support")  # fmt: skip
    started = CallStarted(server="default", at=at, call=call.copy())
    call.phase, call.agent, call.answered_at, call.wait_s = CallPhase.ANSWERED, "1001", at + timedelta(seconds=8), 8.0
    answered = CallAnswered(server="default", at=call.answered_at, call=call.copy(), agent="1001", interface="Local/1001@agents")
    call.phase, call.ended_at, call.talk_s = CallPhase.ENDED, at + timedelta(seconds=128), 120.0
    call.disposition, call.hangup_side = Disposition.ANSWERED, "caller"
    return [started, answered, CallEnded(server="default", at=call.ended_at, call=call.copy())]


async def _with_agent(url: str) -> str:
    """The agent the calls name has a user, as in a center (the writer looks it up once)."""
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        session.add(User(username="bench1001", password_hash="x", role=Role.AGENT, display_name="bench", extension="1001", phone_type="local"))
    await engine.dispose()
    return url


async def _ended_rows(url: str) -> int:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_not(None))) or 0
    await engine.dispose()
    return count


async def _ours(url: str, calls: int) -> float:
    events = [event for number in range(calls) for event in _events(number)]
    engine = create_engine(url)
    with tempfile.TemporaryDirectory() as spool:
        writer = CallLogWriter(session_factory(engine), Path(spool), batch_ms=200)
        bus = EventBus()
        writer.start(bus)
        started = time.perf_counter()
        for event in events:
            bus.publish(event)
        await writer.drained(600)
        seconds = time.perf_counter() - started
        assert writer.stats.written and not writer.health()["spooled"], writer.health()
        await writer.close()
    await engine.dispose()
    return seconds


async def _peer(url: str, calls: int) -> float:
    engine = create_engine(url)
    sessions, directory = session_factory(engine), AgentDirectory()
    records = [call_record(event) for number in range(calls) for event in _events(number)]
    started = time.perf_counter()
    for record in records:
        async with sessions() as session, session.begin():
            await write_records(session, [record], directory)
    seconds = time.perf_counter() - started
    await engine.dispose()
    return seconds


async def run(postgres_admin_url: str | None, make_database, quick: bool = False) -> Section:  # type: ignore[no-untyped-def]
    calls = QUICK_CALLS if quick else CALLS
    section = Section(
        "Call log: calls a second through the production writer",
        f"{calls:,} calls (started, answered, ended: three written events each, a Chinese caller name) published on the bus at once, "
        "timed until every row is in a fresh database; the peer writes the same records through the same store, one transaction "
        f"per event ({PEER_CALLS:,} calls). Goal on PostgreSQL: ≥ {GOAL_PER_S:,} calls/s.",
        ["database", "writer", "calls", "seconds", "calls/s", "rows ended", "lost"],
    )

    async def run_one(kind: str, fresh) -> None:  # type: ignore[no-untyped-def]
        url = await _with_agent(await fresh())
        seconds = await _ours(url, calls)
        rows = await _ended_rows(url)
        assert rows == calls, (rows, calls)  # the work was done: every call is in the log, ended
        section.rows.append([kind, "ours (batched upserts, spool)", f"{calls:,}", f"{seconds:.2f}", f"{calls / seconds:,.0f}", f"{rows:,}", f"{calls - rows}"])
        peer_url = await _with_agent(await fresh())
        peer_seconds = await _peer(peer_url, PEER_CALLS)
        peer_rows = await _ended_rows(peer_url)
        assert peer_rows == PEER_CALLS, peer_rows
        section.rows.append([kind, "peer: a transaction per event", f"{PEER_CALLS:,}", f"{peer_seconds:.2f}", f"{PEER_CALLS / peer_seconds:,.0f}",
                             f"{peer_rows:,}", f"{PEER_CALLS - peer_rows}"])  # fmt: skip
        section.notes.append(f"- {kind}: ours / peer = {(calls / seconds) / (PEER_CALLS / peer_seconds):.1f}× the calls a second.")

    await on_both(section, postgres_admin_url, make_database, run_one)
    return section
