"""Several web workers (issue 17) on one Redis: the login limiter is shared, and socket.io's own
pushes (python-socketio's Redis manager) cross workers and resume when Redis comes back. The
telephony's events across workers are tests/test_cluster.py's."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as redis

from agent_ui.app import REALTIME, create_app
from agent_ui.realtime import agent_room
from config import Settings, load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD
from crm.users import add_user
from tests.conftest import free_port, unavailable
from tests.web import agent_socket, running


@pytest.fixture
def two_workers_settings(migrated_url: str, tmp_path: Path, redis_url: str) -> Settings:
    return load_settings(data_dir=tmp_path, database={"url": migrated_url}, redis={"url": redis_url, "prefix": f"scale-{uuid.uuid4().hex[:8]}"})


async def test_a_guesser_refused_by_one_worker_is_refused_by_the_other(two_workers_settings: Settings) -> None:
    settings = two_workers_settings
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await add_user(session, username="scaleagent", password=DEMO_PASSWORD, role="agent", extension="1097")

    async def attempt(url: str, password: str) -> int:
        async with aiohttp.ClientSession() as http, http.post(f"{url}/api/login", json={"username": "scaleagent", "password": password}) as r:
            return r.status

    try:
        async with running(create_app(settings, engine)) as first, running(create_app(settings, engine)) as second:
            assert [await attempt(first, "guess") for _ in range(5)] == [401] * 5
            assert await attempt(second, DEMO_PASSWORD) == 429  # the other worker knows, right password or not
            assert await attempt(first, DEMO_PASSWORD) == 429
    finally:
        await engine.dispose()


class PrivateRedis:
    """A redis-server of this test's own, to stop and start again (Debian's, as scripts/redis.sh runs it)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server (scripts/setup.sh installs it)")
        self._process = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.from_url(self.url)
        try:
            async with asyncio.timeout(10):
                while True:
                    try:
                        await client.ping()
                        return
                    except redis.ConnectionError:
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()


async def ready(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        return response.status


async def test_pushes_resume_and_readiness_recovers_when_redis_comes_back(migrated_url: str, tmp_path: Path) -> None:
    server = PrivateRedis()
    await server.start()
    settings = load_settings(data_dir=tmp_path, database={"url": migrated_url}, redis={"url": server.url})
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as session, session.begin():
        await add_user(session, username="scaleagent2", password=DEMO_PASSWORD, role="agent", extension="1096")
    first, second = create_app(settings, engine), create_app(settings, engine)
    try:
        async with running(first), running(second) as second_url:
            client, received = await agent_socket(second_url, "scaleagent2", ("agent.state",))
            try:
                async def told(marker: str) -> None:
                    await first[REALTIME].sio.emit("agent.state", {"agent": "1096", "state": marker}, room=agent_room("1096"))
                    async with asyncio.timeout(5):
                        while (await received.get())[2].get("state") != marker:
                            pass

                await told("before")
                await server.stop()
                async with asyncio.timeout(10):
                    while await ready(second_url) != 503:  # the deaf worker says so
                        await asyncio.sleep(0.2)
                await server.start()
                async with asyncio.timeout(20):  # python-socketio retries after 1, 2, 4… s
                    while await ready(second_url) != 200:
                        await asyncio.sleep(0.2)
                await told("after")  # and it hears the other worker again
            finally:
                await client.disconnect()
    finally:
        await server.stop()
        await engine.dispose()
