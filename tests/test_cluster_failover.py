"""`callcenter serve --workers 2` on PostgreSQL, Redis and the sandbox, as real processes (issue 17):
the worker that owns the telephony is killed (SIGKILL) in the middle of calls; the other takes over
within 5 s, the calls that were up get complete rows, and agents connected after the take-over get
the screen pop of every call that rings them. The supervisor starts the killed worker again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from config import Settings
from config.settings import CallLogSettings
from crm.db import create_engine, session_factory
from crm.models import Call
from telephony.ami import AmiClient
from telephony.events import CallOffered
from telephony.sandbox.calls import place_call
from telephony.sandbox.instance import SandboxStatus
from telephony.service import TelephonyService
from tests.conftest import free_port, with_demo_data
from tests.live_calls import reset_agents, unknown_number
from tests.test_campaigns_restart import ROOT, serve_config
from tests.test_cluster import cluster_database, stack  # noqa: F401 - the fixture is used by name
from tests.web import agent_socket

CALLS_UP_AT_THE_KILL = 3  # the support queue's three agents, all talking
CALLS_AFTER = 4


@pytest.fixture
async def observer(sandbox_settings_: Settings, sandbox: SandboxStatus, tmp_path: Path) -> AsyncIterator[TelephonyService]:
    """A telephony of the test's own on its own SQLite (no Redis: alone): it sets the agents up and
    sees which agent each call rings."""
    url = await with_demo_data(f"sqlite+aiosqlite:///{tmp_path / 'observer.db'}", sandbox_settings_.queues)
    settings = sandbox_settings_.model_copy(update={
        "database": sandbox_settings_.database.model_copy(update={"url": url}),
        "agi": sandbox_settings_.agi.model_copy(update={"port": free_port()}),
        "calllog": CallLogSettings(spool_dir=tmp_path / "observer-spool", batch_ms=50),
    })  # fmt: skip
    service = TelephonyService(settings, secret_for=lambda server: sandbox.ami_secret, ari_secret_for=lambda server: sandbox.ari_secret)
    await service.start()
    yield service
    await service.close()


async def readiness(http: aiohttp.ClientSession, url: str) -> dict:
    try:
        async with http.get(f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
            return await response.json()  # type: ignore[no-any-return]
    except (aiohttp.ClientError, TimeoutError):
        return {}


async def owner_pid(http: aiohttp.ClientSession, url: str, *, other_than: int | None = None, timeout: float = 30) -> int:
    """The pid of the worker that owns the telephony (each request lands on either worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = await readiness(http, url)
        checks = body.get("checks", {})
        if checks.get("cluster", {}).get("role") == "owner" and body["ready"] and body["worker"] != other_than:  # AMI up too
            return int(body["worker"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no owner within {timeout} s: {body}")


async def test_killing_the_owner_mid_calls_hands_the_telephony_to_the_other_worker(
    cluster_database: str, sandbox_settings_: Settings, sandbox: SandboxStatus, ami: AmiClient, observer: TelephonyService,
    redis_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    config = serve_config(tmp_path / "serve.toml", sandbox_settings_, cluster_database)
    with config.open("a", encoding="utf-8") as file:
        file.write(f'[redis]\nurl = "{redis_url}"\nprefix = "failover-{uuid.uuid4().hex[:8]}"\n')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    supervisor = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_ui.cli", "--config", str(config), "-v", "serve", "--port", str(port), "--workers", "2",
        cwd=ROOT, stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    engine = create_engine(cluster_database)
    sessions = session_factory(engine)
    try:
        # A new connection each time: the kernel picks a worker per connection (SO_REUSEPORT).
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            first_owner = await owner_pid(http, url)
            await reset_agents(stack(observer, sandbox, ami))
            calls = [asyncio.create_task(place_call(ami, did="4001", caller=unknown_number(), talk_seconds=3))
                     for _ in range(CALLS_UP_AT_THE_KILL)]  # fmt: skip
            async with asyncio.timeout(15):
                while len(live := observer.bridge.live_calls()) < CALLS_UP_AT_THE_KILL or any(c.answered_at is None for c in live):
                    await asyncio.sleep(0.05)
            os.kill(first_owner, signal.SIGKILL)
            killed_at = time.monotonic()
            second_owner = await owner_pid(http, url, other_than=first_owner, timeout=10)
            took_over_s = time.monotonic() - killed_at
            print(f"take-over in {took_over_s:.2f} s")
            up_at_the_kill = [result.linkedid for result in await asyncio.gather(*calls)]

            # Every call that was up when the owner died has its complete row.
            ended = select(func.count()).select_from(Call).where(
                Call.linkedid.in_(up_at_the_kill), Call.ended_at.is_not(None), Call.disposition.is_not(None)
            )  # fmt: skip
            async with asyncio.timeout(15):
                while True:
                    async with sessions() as session:
                        if await session.scalar(ended) == CALLS_UP_AT_THE_KILL:
                            break
                    await asyncio.sleep(0.2)

            # Agents connected after the take-over get the pop of every call that rings them.
            await reset_agents(stack(observer, sandbox, ami))
            sockets = {extension: await agent_socket(url, f"agent{extension}", ("call.offered",)) for extension in ("1001", "1002", "1003")}
            try:
                rung: list[tuple[str, str]] = []
                with observer.bus.subscribe([CallOffered]) as offers:
                    for _ in range(CALLS_AFTER):
                        await place_call(ami, did="4001", caller=unknown_number(), talk_seconds=1)
                        while offers.pending():
                            offer = offers.get_nowait()
                            rung.append((offer.agent, offer.call.linkedid))  # type: ignore[attr-defined]
                        await reset_agents(stack(observer, sandbox, ami))
                await asyncio.sleep(1)
                popped = set()
                for extension, (_, received) in sockets.items():
                    while not received.empty():
                        popped.add((extension, received.get_nowait()[2]["call_id"]))
            finally:
                for client, _ in sockets.values():
                    await client.disconnect()
            assert rung and {(agent, call) for agent, call in rung if agent in sockets} <= popped
            assert second_owner != first_owner and took_over_s < 5, took_over_s
            assert supervisor.returncode is None, log.read_text()
            async with asyncio.timeout(10):  # the killed worker is back, following
                while (await readiness(http, url)).get("worker") in (None, first_owner, second_owner):
                    await asyncio.sleep(0.05)
    finally:
        if supervisor.returncode is None:
            supervisor.terminate()
            await supervisor.wait()
        await engine.dispose()
