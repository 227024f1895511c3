"""Screen-pop latency: from AgentCalled written on the AMI socket to ``call.offered`` (with the
customer card) received by that agent's socket.io client, with 300 agents connected and 30 new calls
a second; target p99 ≤ 25 ms on a 2-core machine.

The server runs in its own process as in production (bench/screen_pop_server.py: the AMI bridge,
the call logger writing every call, the web app), on a CRM of 10k customers and 50k past calls. This
process plays Asterisk (bench/fake_ami.py writes the events and notes the instant) and the 300
browsers. The peer is the polling desktop of the classic open-source dialers (VICIdial's agent
screen asks the server once a second): each agent polls ``GET /api/me/state`` every second and, on
a new call, fetches the customer.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import socketio
from sqlalchemy import insert, select

from bench.fake_ami import FakeAmi
from bench.report import Section, latency_cells
from bench.server import CpuMeter, polling_peer, server_process, web_worker
from config import load_settings
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call, CallDirection, Customer, CustomerPhone, Role, User
from crm.passwords import hash_password
from crm.queues import sync_queues
from crm.tokens import issue_token

AGENTS = 300
RATE = 30  # new calls a second
RING_S = 3.0  # each call rings its agent this long, then the caller hangs up
CUSTOMERS = 10_000
PAST_CALLS = 50_000
FIRST_EXTENSION = 2001


def phone(i: int) -> str:
    return f"137{i:08d}"


async def populate(url: str) -> dict[str, str]:
    """The CRM, and a login token per agent (extension → token)."""
    await asyncio.to_thread(schema.upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rng = random.Random(11)
    async with sessions() as session, session.begin():
        await sync_queues(session, load_settings().queues)
        password = hash_password("bench-password")
        await session.execute(
            insert(User),
            [
                {"username": f"bench{e}", "password_hash": password, "role": Role.AGENT, "extension": str(e), "display_name": f"Agent {e}", "active": True}
                for e in range(FIRST_EXTENSION, FIRST_EXTENSION + AGENTS)
            ],
        )
        await session.execute(
            insert(Customer),
            [{"id": i + 1, "name": f"客户{i}", "company": "", "grade": rng.choice("ABCD"), "region": "华东", "key_account": i % 40 == 0, "at_risk": False, "notes": ""} for i in range(CUSTOMERS)],
        )
        await session.execute(
            insert(CustomerPhone), [{"customer_id": i + 1, "number": phone(i), "normalized": f"+86{phone(i)}", "label": ""} for i in range(CUSTOMERS)]
        )
        agent_ids = list(await session.scalars(select(User.id)))
        now = datetime.now(UTC)
        await session.execute(
            insert(Call),
            [
                {
                    "linkedid": f"past-{i}", "server": "default", "direction": CallDirection.INBOUND, "customer_id": rng.randrange(CUSTOMERS) + 1,
                    "agent_id": rng.choice(agent_ids), "started_at": now - timedelta(minutes=rng.randrange(60 * 24 * 90)), "answered_at": now,
                    "disposition": "answered", "disposition_code": "inquiry", "hold_s": 0.0, "hold_count": 0, "priority": 0,
                    "offers": [], "transfers": [], "recordings": [], "notes": "按时回访",
                }
                for i in range(PAST_CALLS)
            ],
        )
        users = list(await session.scalars(select(User)))
        tokens = {user.extension or "": await issue_token(session, user) for user in users}
    await engine.dispose()
    return tokens


def call_events(linkedid: str, extension: str, caller: str, customer_id: int | None) -> tuple[list[dict[str, str]], dict[str, str], dict[str, str]]:
    """A queued call's events up to the ring, the AgentCalled itself, and the caller's hang-up."""
    channel = f"PJSIP/trunk-{linkedid}"
    base = {"Channel": channel, "Uniqueid": linkedid, "Linkedid": linkedid}
    before = [
        {"Event": "Newchannel", **base, "Context": "cc-inbound", "Exten": "4001", "CallerIDNum": caller, "CallerIDName": "客户"},
        {"Event": "UserEvent", "UserEvent": "CCRoute", **base, "DID": "4001", "Queue": "support", "QueuePriority": "0",
         "Customer": str(customer_id or ""), "Route": "queue", "Preferred": ""},
        {"Event": "QueueCallerJoin", **base, "Queue": "support", "Position": "1", "CallerIDNum": caller},
    ]
    called = {"Event": "AgentCalled", **base, "Queue": "support", "Interface": f"Local/{extension}@sim-phones/nm",
              "MemberName": f"Agent {extension}", "DestChannel": f"Local/{extension}@sim-phones-{linkedid};1"}
    hangup = {"Event": "Hangup", **base, "Cause": "16"}
    return before, called, hangup


class Load:
    """Plays the calls at RATE a second, round-robin over the agents; notes when each AgentCalled left."""

    def __init__(self, ami: FakeAmi, tag: str, seconds: float) -> None:
        self.ami, self.tag, self.seconds = ami, tag, seconds
        self.sent: dict[str, float] = {}
        self.callers: dict[str, str] = {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        rng = random.Random(5)
        start = loop.time()
        for n in range(int(RATE * self.seconds)):
            await asyncio.sleep(max(0.0, start + n / RATE - loop.time()))
            linkedid = f"{self.tag}-{n}"
            known = n % 5 != 0  # one caller in five is not a customer
            index = rng.randrange(CUSTOMERS)
            caller = phone(index) if known else f"155{n:08d}"
            before, called, hangup = call_events(linkedid, str(FIRST_EXTENSION + n % AGENTS), caller, index + 1 if known else None)
            self.callers[linkedid] = caller
            self.ami.send(*before)
            self.sent[linkedid] = self.ami.send(called)
            loop.call_later(RING_S, self.ami.send, hangup)
        await asyncio.sleep(RING_S + 1.0)


async def push_clients(base: str | list[str], tokens: dict[str, str], received: dict[str, float]) -> list[socketio.AsyncClient]:
    """One socket per agent; with several bases, the agents spread over them in turn."""
    bases = [base] if isinstance(base, str) else base
    clients = []
    for n, token in enumerate(tokens.values()):
        base = bases[n % len(bases)]
        client = socketio.AsyncClient(reconnection=False)
        client.on("call.offered", lambda data: received.setdefault(data["call_id"], time.time()) if data.get("customer") else None)
        await client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        clients.append(client)
    return clients


def poller(base: str, load: Load, seen: dict[str, float]):  # type: ignore[no-untyped-def]
    """The peer's poll: 'am I ringing?'; on a new call, the customer lookup."""

    async def poll(http: aiohttp.ClientSession, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{base}/api/me/state", headers=headers) as response:
            call_id = (await response.json()).get("call_id")
        if call_id and call_id not in seen and call_id in load.callers:
            async with http.get(f"{base}/api/customers", params={"phone": load.callers[call_id]}, headers=headers) as response:
                await response.read()
            seen.setdefault(call_id, time.time())

    return poll


def row(name: str, load: Load, got: dict[str, float], cpu: float) -> list[str]:
    latencies = [got[c] - load.sent[c] for c in load.sent if c in got]
    return [name, *latency_cells(latencies), f"{len(latencies)}/{len(load.sent)}", f"{cpu:.0f}%"]


async def run(quick: bool) -> Section:
    seconds = 5.0 if quick else 20.0
    folder = Path(tempfile.mkdtemp(prefix="cc-bench-pop-"))
    url = f"sqlite+aiosqlite:///{folder / 'crm.db'}"
    tokens = await populate(url)
    async with server_process(url, folder) as server:
        base = server.base
        received: dict[str, float] = {}
        clients = await push_clients(base, tokens, received)
        await asyncio.sleep(1.0)
        ours, meter = Load(server.ami, "push", seconds), CpuMeter(server.pid)
        await ours.run()
        ours_cpu = meter.percent()
        for client in clients:
            await client.disconnect()

        seen: dict[str, float] = {}
        peer = Load(server.ami, "poll", seconds)
        peer_cpu = await polling_peer(poller(base, peer, seen), list(tokens.values()), peer.run, server.pid)
    redis_url = os.environ.get("CALLCENTER_BENCH_REDIS_URL")
    if redis_url:  # issue 17: the same load with the agents split over two workers, every pop through Redis
        async with server_process(url, folder, redis_url) as owner, web_worker(url, folder, redis_url) as (other, other_pid):
            split: dict[str, float] = {}
            clients = await push_clients([owner.base, other], tokens, split)
            await asyncio.sleep(1.0)
            two, meters = Load(owner.ami, "split", seconds), (CpuMeter(owner.pid), CpuMeter(other_pid))
            await two.run()
            two_cpu = sum(m.percent() for m in meters)
            for client in clients:
                await client.disconnect()
    section = Section(
        title="Screen pop: AgentCalled on the AMI socket → the card in the agent's browser client",
        intro=(
            f"{AGENTS} agents connected, {RATE} new calls a second for {seconds:.0f} s, each ringing one agent for "
            f"{RING_S:.0f} s; the server process (bridge, call logger, web app) on SQLite with {CUSTOMERS:,} customers and "
            f"{PAST_CALLS:,} past calls; {os.cpu_count()} CPU cores. Target: p99 ≤ 25 ms. Milliseconds; CPU is the "
            "server process's share of one core while the calls ran."
        ),
        header=["desktop", "p50", "p95", "p99", "max", "mean", "pops", "server CPU"],
    )
    section.rows.append(row("ours: socket.io push on AgentCalled", ours, received, ours_cpu))
    section.rows.append(row("peer: polls every 1 s (VICIdial-style)", peer, seen, peer_cpu))
    ours_p99, peer_p99 = (float(r[3]) for r in section.rows)
    met = "met" if ours_p99 <= 25 else "NOT met"
    section.notes.append(f"- Target p99 ≤ 25 ms: {met} ({ours_p99:.1f} ms). The polling desktop's p99 is {peer_p99 / ours_p99:.0f}× ours.")
    if redis_url:
        section.rows.insert(1, row("ours: 2 workers, half the agents on each, pops through Redis", two, split, two_cpu))
        split_p99 = float(section.rows[1][3])
        section.notes.append(
            f"- Two workers (the second without telephony; CPU is both processes'): p99 {split_p99:.1f} ms, "
            f"{split_p99 / ours_p99:.2f}× the single process's: Redis in the path costs {split_p99 - ours_p99:.1f} ms at p99."
        )
    else:
        section.notes.append("- The two-worker row needs Redis (CALLCENTER_BENCH_REDIS_URL; `make bench` starts it).")
    return section
