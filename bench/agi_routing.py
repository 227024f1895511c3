"""FastAGI routing latency on a warm, populated CRM: ours against panoramisk's FastAGI server
running the same router (the peer), both spoken to over TCP exactly as Asterisk does."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from panoramisk.fast_agi import Application
from sqlalchemy import insert, select

from bench.report import Section, latency_cells, percentile
from config import load_settings
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call, CallDirection, Customer, CustomerPhone, User
from crm.passwords import hash_password
from crm.queues import sync_queues
from telephony.routing.fastagi import FastAgiServer
from telephony.routing.router import Router

CUSTOMERS = 50_000
CALLS = 200_000
REQUESTS = 2_000
CONCURRENT = 50


def number(i: int) -> str:
    return f"139{i:08d}"


async def populate(url: str) -> None:
    await asyncio.to_thread(schema.upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, load_settings().queues)
        password = hash_password("bench-password")
        await session.execute(
            insert(User), [{"username": f"agent{e}", "password_hash": password, "role": "agent", "extension": str(e), "display_name": "", "active": True} for e in range(1001, 1101)]
        )
        agents = list(await session.scalars(select(User.id)))
        rng = random.Random(7)
        for start in range(0, CUSTOMERS, 5000):
            await session.execute(
                insert(Customer),
                [{"id": i + 1, "name": f"Customer {i}", "company": "", "grade": rng.choice("ABCD"), "region": "", "key_account": i % 50 == 0, "at_risk": i % 97 == 0, "notes": ""} for i in range(start, start + 5000)],
            )
            await session.execute(
                insert(CustomerPhone),
                [{"customer_id": i + 1, "number": number(i), "normalized": f"+86{number(i)}", "label": ""} for i in range(start, start + 5000)],
            )
        now = datetime.now(UTC)
        for start in range(0, CALLS, 10000):
            await session.execute(
                insert(Call),
                [
                    {
                        "linkedid": f"bench-{i}", "server": "default", "direction": CallDirection.INBOUND,
                        "customer_id": rng.randrange(CUSTOMERS) + 1, "agent_id": rng.choice(agents),
                        "started_at": now - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                        "answered_at": now, "hold_s": 0.0, "hold_count": 0, "priority": 0,
                        "offers": [], "transfers": [], "recordings": [], "notes": "",
                    }
                    for i in range(start, start + 10000)
                ],
            )
    await engine.dispose()


def agi_lines(i: int) -> bytes:
    caller = number(random.randrange(CUSTOMERS)) if i % 5 else f"155{i:08d}"  # one in five unknown
    return (
        "agi_network: yes\nagi_network_script: route\nagi_request: agi://127.0.0.1/route\n"
        f"agi_channel: PJSIP/trunk-{i:08x}\nagi_callerid: {caller}\nagi_calleridname: 客户\n"
        "agi_arg_1: 4001\nagi_arg_2: support\n\n"
    ).encode()


async def one_request(port: int, i: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(agi_lines(i))
    await writer.drain()
    while line := await reader.readline():
        if line.startswith(b"SET VARIABLE"):
            writer.write(b"200 result=1\n")
            await writer.drain()
    writer.close()
    return time.perf_counter() - started


async def measure(port: int) -> tuple[list[float], list[float]]:
    for i in range(100):  # warm up: connections, caches, query plans
        await one_request(port, i)
    sequential = [await one_request(port, i) for i in range(REQUESTS)]
    burst: list[float] = []
    for round_ in range(REQUESTS // CONCURRENT):
        burst += await asyncio.gather(*(one_request(port, round_ * CONCURRENT + k) for k in range(CONCURRENT)))
    return sequential, burst


def panoramisk_server(router: Router) -> Application:
    app = Application()

    async def route(request) -> None:  # type: ignore[no-untyped-def]
        headers = request.headers
        decision = await router.route(did=headers.get("agi_arg_1", ""), caller=headers.get("agi_callerid", ""), default_queue=headers.get("agi_arg_2"))
        if decision is not None:
            for name, value in decision.variables().items():
                await request.send_command(f'SET VARIABLE {name} "{value}"')

    app.add_route("route", route)
    return app


async def run_one(kind: str, url: str, section: Section) -> None:
    await populate(url)
    settings = load_settings(routing={"lookup_timeout_ms": 5000})
    engine = create_engine(url)
    router = Router(settings, session_factory(engine), agent_available=lambda extension: True)
    ours = FastAgiServer(router)
    await ours.start("127.0.0.1", 0)
    peer = await asyncio.start_server(panoramisk_server(router).handler, "127.0.0.1", 0)
    peer_port = peer.sockets[0].getsockname()[1]
    results = {}
    for name, port in (("ours (telephony.routing.fastagi)", ours.port), ("panoramisk.fast_agi, same router", peer_port)):
        results[name] = await measure(port)
    await ours.close()
    peer.close()
    await engine.dispose()
    ours_seq, ours_burst = results["ours (telephony.routing.fastagi)"]
    for name, (sequential, burst) in results.items():
        section.rows.append([kind, name, "one at a time", *latency_cells(sequential)])
        section.rows.append([kind, name, f"{CONCURRENT} at once", *latency_cells(burst)])
    peer_seq, peer_burst = results["panoramisk.fast_agi, same router"]
    section.notes.append(
        f"- {kind}: p99 ours / peer = {percentile(ours_seq, 99) / percentile(peer_seq, 99):.2f} one at a time, "
        f"{percentile(ours_burst, 99) / percentile(peer_burst, 99):.2f} in bursts of {CONCURRENT}; "
        f"target p99 < 50 ms one at a time: {'met' if percentile(ours_seq, 99) < 0.05 else 'NOT met'}."
    )


async def run(postgres_url: str | None) -> Section:
    section = Section(
        title="FastAGI routing latency",
        intro=(
            f"A warm CRM with {CUSTOMERS:,} customers and {CALLS:,} past calls; {REQUESTS:,} routing requests "
            "(one in five from an unknown number), timed from TCP connect to the close after the last "
            "`SET VARIABLE`, as Asterisk sees it. Latency in milliseconds."
        ),
        header=["database", "server", "load", "p50", "p95", "p99", "max", "mean"],
    )
    with tempfile.TemporaryDirectory() as scratch:
        await run_one("SQLite", f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}", section)
    if postgres_url:
        await run_one("PostgreSQL", postgres_url, section)
    else:
        section.notes.append("- PostgreSQL: not measured (no CALLCENTER_BENCH_POSTGRES_URL).")
    return section
