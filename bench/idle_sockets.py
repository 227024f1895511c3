"""Connected idle agents per worker (issue 17): the resident memory of a worker (AMI bridge, call
logger, web app) holding 2,000 logged-in socket.io connections that do nothing; goal ≤ 300 MB.

The peer is python-socketio's bare aiohttp server in its own process (bench/bare_socketio_server.py),
holding the same 2,000 connections: the difference is what our login check, rooms and wallboard
cost per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import socketio
from sqlalchemy import insert, select

from bench.report import Section
from bench.server import child_server, free_port, server_process
from config import load_settings
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Role, User
from crm.passwords import hash_password
from crm.queues import sync_queues
from crm.tokens import issue_token

CONNECTIONS = 2000
FIRST_EXTENSION = 20001
MB = 2**20


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for {pid}")


async def populate(url: str, count: int) -> list[str]:
    """``count`` agents and a login token each."""
    await asyncio.to_thread(schema.upgrade, url)
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, load_settings().queues)
        password = hash_password("bench-password")
        await session.execute(
            insert(User),
            [{"username": f"idle{e}", "password_hash": password, "role": Role.AGENT, "extension": str(e), "display_name": f"座席 {e}", "active": True}
             for e in range(FIRST_EXTENSION, FIRST_EXTENSION + count)],
        )  # fmt: skip
        tokens = [await issue_token(session, user) for user in await session.scalars(select(User).where(User.username.like("idle%")))]
    await engine.dispose()
    return tokens


async def connect_all(base: str, tokens: list[str]) -> list[socketio.AsyncClient]:
    clients: list[socketio.AsyncClient] = []

    async def one(token: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=30)
        clients.append(client)

    for start in range(0, len(tokens), 100):  # a hundred at a time, as a shift logs in
        await asyncio.gather(*(one(t) for t in tokens[start : start + 100]))
    return clients


def bare_peer() -> contextlib.AbstractAsyncContextManager[tuple[str, int]]:
    port = free_port()
    return child_server("bench.bare_socketio_server", port, str(port))


async def held(base: str, pid: int, tokens: list[str]) -> tuple[int, int, int]:
    """(RSS before, RSS with every connection up and settled, connections up)."""
    before = rss(pid)
    clients = await connect_all(base, tokens)
    await asyncio.sleep(2.0)  # the welcomes sent, nothing moving
    during = rss(pid)
    up = sum(1 for c in clients if c.connected)
    await asyncio.gather(*(c.disconnect() for c in clients))
    return before, during, up


def cells(name: str, before: int, during: int, up: int) -> list[str]:
    per = (during - before) / up if up else float("nan")
    return [name, f"{up:,}", f"{before / MB:.0f}", f"{during / MB:.0f}", f"{per / 1024:.1f}"]


async def run(quick: bool) -> Section:
    count = 500 if quick else CONNECTIONS
    folder = Path(tempfile.mkdtemp(prefix="cc-bench-idle-"))
    url = f"sqlite+aiosqlite:///{folder / 'crm.db'}"
    tokens = await populate(url, count)
    async with server_process(url, folder) as server:
        ours = await held(server.base, server.pid, tokens)
    async with bare_peer() as (base, pid):
        peer = await held(base, pid, tokens)
    section = Section(
        title="Idle agents connected to one worker: resident memory",
        intro=(
            f"{count:,} logged-in agents' socket.io connections (websocket) held open and idle, made a hundred at a time; the worker "
            f"process (bridge, call logger, web app, wallboard) on SQLite; {os.cpu_count()} CPU cores. RSS from /proc before and with "
            "every connection up. Goal: ≤ 300 MB for 2,000."
        ),
        header=["server", "connections", "RSS before (MB)", "RSS connected (MB)", "KiB per connection"],
    )
    section.rows.append(cells("ours: a serve worker", *ours))
    section.rows.append(cells("peer: python-socketio's bare aiohttp server", *peer))
    assert ours[2] == count and peer[2] == count, "every connection must be up"
    ours_per, peer_per = (ours[1] - ours[0]) / count, (peer[1] - peer[0]) / count
    projected = (ours[0] + ours_per * CONNECTIONS) / MB  # the measured figure itself on a full run
    met = "met" if projected <= 300 else "NOT met"
    section.notes.append(
        f"- Goal ≤ 300 MB with {CONNECTIONS:,}: {met} ({projected:.0f} MB). Per connection ours costs "
        f"{ours_per / peer_per:.1f}× the bare library's ({ours_per / 1024:.1f} against {peer_per / 1024:.1f} KiB)."
    )
    return section
