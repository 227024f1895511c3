"""Nothing is lost when Asterisk restarts mid-call or the database goes away while calls run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from config import Settings
from crm.models import Call
from telephony.bridge import Bridge
from telephony.events import EventBus
from telephony.sandbox import Sandbox, SandboxStatus
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import next_event, of_call, reset_agents, stored_call, unknown_number


async def test_asterisk_restart_during_a_queued_call(live: LiveStack, sandbox_instance: Sandbox) -> None:
    await reset_agents(live)
    bridge = live.service.bridge
    resyncs = bridge.resyncs
    linkedid = f"sim-restart-{uuid.uuid4().hex[:12]}"
    with live.service.bus.subscribe() as events:
        await live.ami.originate(
            Channel="Local/4999@cc-inbound/n",
            Context="sim-customer",
            Exten="s",
            Priority="1",
            CallerID=unknown_number(),
            ChannelId=linkedid,
            OtherChannelId=f"{linkedid}-i",
            Timeout="30000",
            Variable=["SIM_MAX_SECONDS=120"],
        )
        await next_event(events, of_call(linkedid, "call.queued"))
    await asyncio.to_thread(sandbox_instance.down)
    await sandbox_instance.up()
    deadline = time.monotonic() + 20
    while bridge.resyncs == resyncs:  # reconnected and resynchronised by itself
        assert time.monotonic() < deadline, "the bridge did not reconnect after Asterisk restarted"
        await asyncio.sleep(0.1)

    row = await stored_call(live, linkedid)
    assert row.queue == "nobody" and row.queued_at is not None and row.ended_at >= row.queued_at
    assert row.disposition in ("failed", "abandoned") and row.wait_s is not None and row.hangup_side is not None
    assert bridge.find_call(linkedid) is None

    await reset_agents(live)  # the agents' queue memberships are back too
    result = await place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=1)
    assert (await stored_call(live, result.linkedid)).disposition == "answered"


@contextlib.asynccontextmanager
async def database_outage(live: LiveStack) -> AsyncIterator[None]:
    """PostgreSQL: the call logger's connections are cut and refused. SQLite: another process
    holds the write lock, so every write fails with "database is locked"."""
    if live.proxy is not None:
        live.proxy.cut()
        try:
            yield
        finally:
            live.proxy.restore()
        return
    # Taken off the event loop: a call-log transaction already open needs the loop to commit.
    locker = sqlite3.connect(make_url(live.url).database, isolation_level=None, timeout=30, check_same_thread=False)
    await asyncio.to_thread(locker.execute, "BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        await asyncio.to_thread(locker.execute, "COMMIT")
        locker.close()


async def test_twenty_calls_during_a_database_outage_are_all_logged(live: LiveStack) -> None:
    await reset_agents(live)
    writer = live.service.calllog
    async with database_outage(live):
        calls = [
            *(place_call(live.ami, did="4999", caller=unknown_number(), hangup_after_wait=1 + i / 10) for i in range(16)),
            *(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=1) for _ in range(4)),
        ]
        results = await asyncio.gather(*calls)
        deadline = time.monotonic() + 10
        while len(writer.spool) == 0:
            assert time.monotonic() < deadline, "nothing was spooled while the database was away"
            await asyncio.sleep(0.1)
        linkedids = [r.linkedid for r in results]
        async with live.sessions() as session:
            written = await session.scalar(select(func.count()).select_from(Call).where(Call.linkedid.in_(linkedids)))
        assert written == 0  # really not in the database: only on disk
        await asyncio.sleep(1)  # calls keep ending while it is away
    rows = [await stored_call(live, linkedid, timeout=20) for linkedid in linkedids]
    assert sorted(row.disposition for row in rows) == ["abandoned"] * 16 + ["answered"] * 4
    assert all(row.ended_at and row.started_at for row in rows)
    await writer.drained(10)
    assert writer.spool.is_empty()


RESTARTS = int(os.environ.get("CALLCENTER_TEST_RESTARTS", "4"))  # the soak: CALLCENTER_TEST_RESTARTS=30


async def test_the_bridge_comes_back_after_every_restart_in_a_row(
    sandbox: SandboxStatus, sandbox_settings_: Settings, sandbox_instance: Sandbox
) -> None:
    bridge = Bridge(sandbox_settings_, EventBus(), secret_for=lambda server: sandbox.ami_secret)
    await bridge.start()
    try:
        for restart in range(RESTARTS):
            resyncs = bridge.resyncs
            await asyncio.to_thread(sandbox_instance.down)
            await sandbox_instance.up()
            deadline = time.monotonic() + 15
            while bridge.resyncs == resyncs or not bridge.client().connected:
                assert time.monotonic() < deadline, f"restart {restart + 1}: the bridge did not come back"
                await asyncio.sleep(0.05)
            await bridge.client().action("Ping")
            assert {q.get("Queue") for q in bridge.queue_summary[bridge.client().server].values()} >= {"support", "sales"}
    finally:
        await bridge.close()
