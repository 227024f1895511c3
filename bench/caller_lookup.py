"""Caller lookup with a million customers (issue 14: p99 ≤ 2 ms on SQLite and PostgreSQL): the
routing decision FastAGI asks for (telephony.routing.router.Router.route) and the screen pop's
card lookup (crm.customers.find_by_phone), against the peer of the same query sent straight to the
driver (sqlite3 / asyncpg, prepared), on the same data in the same run. The numbers are written in
the many ways callers' IDs arrive (13800138000, +86 138…, 0086…), one in five unknown."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.report import Section, latency_cells, percentile
from config import load_settings
from crm import schema
from crm.customers import find_by_phone
from crm.db import create_engine, session_factory
from crm.phones import normalize_phone
from crm.queues import sync_queues
from telephony.routing.router import Router

CUSTOMERS = 1_000_000
LOOKUPS = 3_000
QUICK_CUSTOMERS = 100_000
PEER_SQL = ("SELECT c.id, c.preferred_queue, c.at_risk, c.key_account, c.grade FROM customers c JOIN customer_phones p "
            "ON p.customer_id = c.id WHERE p.normalized = {} ORDER BY c.id LIMIT 1")  # fmt: skip


def mobile(i: int) -> str:
    return f"13{i:09d}"


def written(i: int, rng: random.Random) -> str:
    """Customer ``i``'s number as a caller ID might carry it; an unknown one for one lookup in five."""
    if rng.random() < 0.2:
        return f"159{rng.randrange(10**8):08d}"
    digits = mobile(i)
    return rng.choice([digits, f"+86{digits}", f"0086{digits}", f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"])


def _rows(count: int):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    customers = ((i + 1, f"客户{i}", "", "ABCD"[i % 4], "", i % 50 == 0, i % 97 == 0, "", None, now, now) for i in range(count))
    phones = ((i + 1, i + 1, mobile(i), f"+86{mobile(i)}", "") for i in range(count))
    return customers, phones


CUSTOMER_COLUMNS = ["id", "name", "company", "grade", "region", "key_account", "at_risk", "notes", "preferred_queue", "created_at", "updated_at"]
PHONE_COLUMNS = ["id", "customer_id", "number", "normalized", "label"]


def _fill_sqlite(path: Path, count: int) -> None:
    customers, phones = _rows(count)
    db = sqlite3.connect(path)
    stamp = lambda row: (*row[:9], row[9].strftime("%Y-%m-%d %H:%M:%S.%f"), row[10].strftime("%Y-%m-%d %H:%M:%S.%f"))  # noqa: E731
    with db:
        db.executemany(f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) VALUES ({', '.join('?' * 11)})", map(stamp, customers))
        db.executemany(f"INSERT INTO customer_phones ({', '.join(PHONE_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", phones)
    db.execute("ANALYZE")
    db.close()


def _asyncpg_args(url: str) -> dict:
    parsed = make_url(url)
    return {"user": parsed.username, "password": parsed.password, "host": parsed.host, "port": parsed.port, "database": parsed.database}


async def _fill_postgres(url: str, count: int) -> None:
    customers, phones = _rows(count)
    connection = await asyncpg.connect(**_asyncpg_args(url))
    try:
        await connection.copy_records_to_table("customers", records=customers, columns=CUSTOMER_COLUMNS)
        await connection.copy_records_to_table("customer_phones", records=phones, columns=PHONE_COLUMNS)
        await connection.execute("ANALYZE customers; ANALYZE customer_phones")
    finally:
        await connection.close()


async def _timed(lookup, numbers: list[str]) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    for number in numbers[:200]:  # warm: connections, caches, plans
        await lookup(number)
    samples, found = [], 0
    for number in numbers:
        started = time.perf_counter()
        hit = await lookup(number)
        samples.append(time.perf_counter() - started)
        found += bool(hit)
    return samples, found


async def run_one(kind: str, url: str, count: int, section: Section) -> None:
    await asyncio.to_thread(schema.upgrade, url)
    started = time.perf_counter()
    if kind == "SQLite":
        await asyncio.to_thread(_fill_sqlite, Path(make_url(url).database or ""), count)
    else:
        await _fill_postgres(url, count)
    loaded_s = time.perf_counter() - started
    settings = load_settings()
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, settings.queues)
    router = Router(settings, sessions, agent_available=lambda extension: False)
    rng = random.Random(14)
    numbers = [written(rng.randrange(count), rng) for _ in range(LOOKUPS)]
    known = sum(not n.startswith("159") for n in numbers)

    async def routed(number: str) -> bool:
        return (await router.route(did="4001", caller=number, default_queue="support")).customer_id is not None

    async def card(number: str) -> bool:
        async with sessions() as session:
            return bool(await find_by_phone(session, number))

    if kind == "SQLite":
        raw = await asyncio.to_thread(sqlite3.connect, make_url(url).database or "", check_same_thread=False)

        async def peer(number: str) -> bool:
            key = normalize_phone(number)
            return raw.execute(PEER_SQL.format("?"), (key,)).fetchone() is not None  # the driver's own floor, no thread hop
    else:
        pg = await asyncpg.connect(**_asyncpg_args(url))
        statement = await pg.prepare(PEER_SQL.format("$1"))

        async def peer(number: str) -> bool:
            return await statement.fetchrow(normalize_phone(number)) is not None

    results = {}
    for name, lookup in (("Router.route (FastAGI)", routed), ("find_by_phone (screen pop)", card), (f"peer: raw {'sqlite3' if kind == 'SQLite' else 'asyncpg'}, prepared", peer)):
        samples, found = await _timed(lookup, numbers)
        assert found == known, f"{kind} {name}: found {found} of {known} known callers"  # the work was done
        results[name] = samples
        section.rows.append([kind, f"{count:,}", name, *latency_cells(samples)])
    if kind == "SQLite":
        raw.close()
    else:
        await pg.close()
    await engine.dispose()
    peer_p99 = percentile(next(v for k, v in results.items() if k.startswith("peer")), 99)
    routed_p99, card_p99 = percentile(results["Router.route (FastAGI)"], 99), percentile(results["find_by_phone (screen pop)"], 99)
    section.notes.append(
        f"- {kind}: {count:,} customers loaded in {loaded_s:.0f} s; p99 routing {routed_p99 * 1000:.2f} ms, card {card_p99 * 1000:.2f} ms "
        f"(ours / raw driver = {routed_p99 / peer_p99:.1f}× and {card_p99 / peer_p99:.1f}×); target p99 ≤ 2 ms: "
        f"{'met' if max(routed_p99, card_p99) <= 0.002 else 'NOT met'}."
    )


async def run(postgres_url: str | None, quick: bool = False) -> Section:
    count = QUICK_CUSTOMERS if quick else CUSTOMERS
    section = Section(
        title="Caller lookup in a large CRM",
        intro=(f"{count:,} customers, one number each; {LOOKUPS:,} lookups one at a time of numbers written as caller IDs "
               "carry them (with and without +86 / 0086, spaced), one in five unknown. Latency in milliseconds."),  # fmt: skip
        header=["database", "customers", "lookup", "p50", "p95", "p99", "max", "mean"],
    )
    with tempfile.TemporaryDirectory() as scratch:
        await run_one("SQLite", f"sqlite+aiosqlite:///{Path(scratch) / 'lookup.db'}", count, section)
    if postgres_url:
        await run_one("PostgreSQL", postgres_url, count, section)
    else:
        section.notes.append("- PostgreSQL: not measured (no CALLCENTER_BENCH_POSTGRES_URL).")
    return section
