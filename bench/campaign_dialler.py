"""The progressive dialler's decisions (issue 15), on SQLite and PostgreSQL: 300 agents joined to a
running campaign of 100,000 contacts (10,000 numbers on the do-not-call list), every agent free at
every tick. A decision is what ``CampaignDialler.tick`` does for one free agent: claim the next due
contact in its calling hours, check the list, write the attempt and commit — all before its call is
placed (here a counted no-op: Asterisk is not what is measured). Against two peers in the same run:
the raw driver (one ``UPDATE … RETURNING`` of the next due row per decision, committed: no hours,
no list, no attempt), and the naive dialler that loads the campaign's due contacts to pick one. The
need it is compared with: 300 agents each taking a call every 30 s, 10 decisions a second."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bench.databases import on_both
from bench.report import Section
from crm.db import create_engine, session_factory
from crm.models import Campaign, CampaignAgent, CampaignAttempt, CampaignContact, DncEntry, Role, User
from telephony.campaigns.dialler import CampaignDialler

CONTACTS, QUICK_CONTACTS = 100_000, 10_000
AGENTS = 300
TICKS, QUICK_TICKS = 4, 2
NAIVE_DECISIONS = 10
NEEDED_PER_S = AGENTS / 30  # a call per agent every 30 s


@dataclass
class _Agents:
    def is_available(self, extension: str) -> bool:
        return True


@dataclass
class _Client:
    connected: bool = True


@dataclass
class _Dialer:
    placed: int = 0

    async def dial_for_campaign(self, agent: str, number: str, **_: object) -> None:
        self.placed += 1


@dataclass
class _Bridge:
    """What the dialler asks of the bridge: every agent free, a call placed by counting it."""

    agents: _Agents = field(default_factory=_Agents)
    clients: dict[str, _Client] = field(default_factory=lambda: {"default": _Client()})
    dialer: _Dialer = field(default_factory=_Dialer)
    resyncs: int = 1

    def find_call(self, linkedid: str) -> None:
        return None


async def _fill(url: str, contacts: int) -> int:
    engine = create_engine(url)
    now = datetime.now(UTC) - timedelta(minutes=1)
    async with session_factory(engine)() as session, session.begin():
        campaign = Campaign(name="bench", call_type="telemarketing", mode="progressive", status="running", caller_id="", ring_s=30,
                            purpose="", script="", hours={"start": "00:00", "end": "23:59", "days": [1, 2, 3, 4, 5, 6, 7]}, retry={})  # fmt: skip
        session.add(campaign)
        await session.flush()
        users = [{"username": f"bench{n}", "password_hash": "x", "role": Role.AGENT, "display_name": f"bench{n}", "extension": f"3{n:03d}",
                  "phone_type": "local", "active": True, "auto_answer": False} for n in range(AGENTS)]  # fmt: skip
        await session.execute(insert(User), users)
        ids = list(await session.scalars(select(User.id).where(User.username.like("bench%"))))
        await session.execute(insert(CampaignAgent), [{"campaign_id": campaign.id, "user_id": i, "joined_at": now} for i in ids])
        rows = [{"campaign_id": campaign.id, "name": "", "number": f"139{n:08d}", "normalized": f"+86139{n:08d}", "zones": ["Asia/Shanghai"],
                 "status": "pending", "attempts": 0, "next_at": now, "updated_at": now} for n in range(contacts)]  # fmt: skip
        for start in range(0, contacts, 10_000):
            await session.execute(insert(CampaignContact), rows[start : start + 10_000])
        listed = [{"normalized": f"+86139{n:08d}", "number": f"139{n:08d}", "reason": "regulator", "note": "", "source": "import",
                   "added_at": now} for n in range(0, contacts, 10)]  # fmt: skip
        await session.execute(insert(DncEntry), listed)
        campaign_id = campaign.id
    await engine.dispose()
    return campaign_id


async def _ours(url: str, ticks: int) -> tuple[float, int, int]:
    """Seconds for ``ticks`` ticks of 300 free agents; decisions made (calls placed); contacts found listed."""
    engine = create_engine(url)
    bridge = _Bridge()
    dialler = CampaignDialler(bridge, session_factory(engine))  # type: ignore[arg-type]
    started = time.perf_counter()
    for _ in range(ticks):
        await dialler.tick()
        dialler._calls.clear()  # every call ended at once: all 300 agents are free again
    seconds = time.perf_counter() - started
    async with session_factory(engine)() as session:
        attempts = await session.scalar(select(func.count()).select_from(CampaignAttempt)) or 0
        skipped = await session.scalar(select(func.count()).select_from(CampaignContact).where(CampaignContact.outcome == "dnc")) or 0
    await engine.dispose()
    assert attempts == bridge.dialer.placed == ticks * AGENTS, (attempts, bridge.dialer.placed)  # the work was done
    return seconds, attempts, skipped


NEXT_DUE = ("UPDATE campaign_contacts SET status = 'dialling', attempts = attempts + 1 WHERE id = (SELECT id FROM campaign_contacts "
            "WHERE campaign_id = {p} AND status = 'pending' AND next_at <= {n} ORDER BY next_at, id LIMIT 1) RETURNING id")  # fmt: skip


async def _floor(url: str, campaign_id: int, decisions: int) -> float:
    now = datetime.now(UTC)
    if url.startswith("sqlite"):
        def run() -> float:
            connection = sqlite3.connect(make_url(url).database or "")
            statement = NEXT_DUE.format(p="?", n="?")
            started = time.perf_counter()
            for _ in range(decisions):
                assert connection.execute(statement, (campaign_id, now.isoformat())).fetchone() is not None
                connection.commit()
            seconds = time.perf_counter() - started
            connection.close()
            return seconds

        return await asyncio.to_thread(run)
    parsed = make_url(url)
    connection = await asyncpg.connect(user=parsed.username, password=parsed.password, host=parsed.host, port=parsed.port, database=parsed.database)
    statement = NEXT_DUE.format(p="$1", n="$2")
    started = time.perf_counter()
    for _ in range(decisions):
        assert await connection.fetchval(statement, campaign_id, now) is not None
    seconds = time.perf_counter() - started
    await connection.close()
    return seconds


async def _naive(url: str, campaign_id: int, decisions: int) -> float:
    """Load the campaign's due contacts, take the first, mark it: what a dialler without the claim's query would do."""
    engine = create_engine(url)
    started = time.perf_counter()
    for _ in range(decisions):
        async with session_factory(engine)() as session, session.begin():
            due = list(await session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                                            CampaignContact.status == "pending")))  # fmt: skip
            due.sort(key=lambda c: (c.next_at, c.id))
            due[0].status = "dialling"
    seconds = time.perf_counter() - started
    await engine.dispose()
    return seconds


def _against(ours: float, peer: float) -> str:
    return f"{ours / peer:.1f}× as fast as" if ours >= peer else f"{peer / ours:.1f}× slower than"


async def run_one(kind: str, fresh, contacts: int, ticks: int, section: Section) -> None:  # type: ignore[no-untyped-def]
    url = await fresh()
    campaign_id = await _fill(url, contacts)
    seconds, decisions, skipped = await _ours(url, ticks)
    ours = decisions / seconds
    floor_s = await _floor(url, campaign_id, decisions)
    naive_s = await _naive(url, campaign_id, NAIVE_DECISIONS)
    naive = NAIVE_DECISIONS / naive_s
    section.rows += [
        [kind, f"{contacts:,}", "ours: tick (hours, do-not-call, attempt, commit)", f"{decisions:,}", f"{seconds:.2f}", f"{ours:,.0f}"],
        [kind, f"{contacts:,}", "peer: raw UPDATE … RETURNING per decision (no checks)", f"{decisions:,}", f"{floor_s:.2f}", f"{decisions / floor_s:,.0f}"],
        [kind, f"{contacts:,}", "peer: naive (load the due contacts each time)", f"{NAIVE_DECISIONS}", f"{naive_s:.2f}", f"{naive:,.1f}"],
    ]  # fmt: skip
    section.notes.append(
        f"- {kind}: {ours:,.0f} decisions/s, {ours / NEEDED_PER_S:,.0f}× the {NEEDED_PER_S:.0f}/s that 300 agents need; "
        f"{_against(ours, decisions / floor_s)} the raw driver's unchecked UPDATE per decision, {ours / naive:,.0f}× faster than the "
        "naive dialler; "
        f"{skipped} listed numbers passed over, never dialled."
    )


async def run(postgres_admin_url: str | None, make_database, quick: bool = False) -> Section:  # type: ignore[no-untyped-def]
    contacts, ticks = (QUICK_CONTACTS, QUICK_TICKS) if quick else (CONTACTS, TICKS)
    section = Section(
        title="Campaign dialler decisions",
        intro=(f"{AGENTS} agents joined to a running progressive campaign of {contacts:,} contacts (one in ten on the do-not-call "
               f"list), all free at each of {ticks} ticks. A decision claims a contact and commits its attempt before the call."),  # fmt: skip
        header=["database", "contacts", "dialler", "decisions", "seconds", "decisions/s"],
    )
    await on_both(section, postgres_admin_url, make_database, lambda kind, fresh: run_one(kind, fresh, contacts, ticks, section))
    return section
