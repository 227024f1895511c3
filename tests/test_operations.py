"""/healthz, /readyz and /metrics (issue 17): what a load balancer and a monitoring system are told,
and that /metrics is read only from where the settings allow."""

from __future__ import annotations

import asyncio
import re

from pathlib import Path

import aiohttp
import pytest

from agent_ui.app import create_app
from config import Settings, load_settings
from config.settings import RedisSettings
from crm.db import create_engine
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack, free_port
from tests.live_calls import reset_agents, unknown_number
from tests.web import agent_socket, running


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


@pytest.fixture
def migrated_settings(migrated_url: str, tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, database={"url": migrated_url})


def metric(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name}{labels} not in /metrics"
    return float(found.group(1))


async def test_alive_ready_and_metrics_without_telephony(migrated_settings: Settings) -> None:
    settings = migrated_settings
    engine = create_engine(settings.database_url)
    try:
        async with running(create_app(settings, engine)) as url:
            assert await fetch(f"{url}/healthz") == (200, '{"status": "alive"}')
            status, body = await fetch(f"{url}/readyz")
            assert status == 200 and '"database": {"ok": true' in body
            status, text = await fetch(f"{url}/metrics")
            assert status == 200
            assert metric(text, "callcenter_socketio_connections") == 0 and metric(text, "callcenter_qa_backlog") >= 0
            assert metric(text, "callcenter_pops_total") == 0
        closed = settings.model_copy(update={"web": settings.web.model_copy(update={"metrics_from": ["10.0.0.0/8"]})})
        async with running(create_app(closed, engine)) as url:
            assert (await fetch(f"{url}/metrics"))[0] == 403  # the test connects from 127.0.0.1
            assert (await fetch(f"{url}/healthz"))[0] == 200
    finally:
        await engine.dispose()


async def test_not_ready_while_redis_is_away(migrated_settings: Settings) -> None:
    """A worker that cannot reach Redis would not hear the other workers' pushes: it says so."""
    settings = migrated_settings.model_copy(update={"redis": RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")})
    engine = create_engine(settings.database_url)
    try:
        async with running(create_app(settings, engine)) as url:
            status, body = await fetch(f"{url}/readyz")
    finally:
        await engine.dispose()
    assert status == 503
    assert '"redis": {"ok": false' in body and '"shared_push": {"ok": false' in body and '"database": {"ok": true' in body


async def test_ready_with_redis_and_listening(migrated_settings: Settings, redis_url: str) -> None:
    settings = migrated_settings.model_copy(update={"redis": RedisSettings(url=redis_url, prefix="ops-test")})
    engine = create_engine(settings.database_url)
    try:
        async with running(create_app(settings, engine)) as url:
            for _ in range(50):  # the subscription comes up a moment after the start
                status, body = await fetch(f"{url}/readyz")
                if status == 200:
                    break
                await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    assert status == 200 and '"redis": {"ok": true' in body and '"shared_push": {"ok": true}' in body


async def test_metrics_count_the_ami_events_and_the_pops_of_a_real_call(live: LiveStack) -> None:
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        status, body = await fetch(f"{url}/readyz")
        assert status == 200 and '"asterisk:' in body and '"calllog": {"ok": true' in body
        before = metric((await fetch(f"{url}/metrics"))[1], "callcenter_pops_total")
        client, received = await agent_socket(url, "agent1001")
        try:
            await place_call(live.ami, did="4996", caller=unknown_number(), talk_seconds=0.5)
            async with asyncio.timeout(10):
                while (await received.get())[0] != "call.offered":
                    pass
            text = (await fetch(f"{url}/metrics"))[1]
            assert metric(text, "callcenter_socketio_connections") >= 1
        finally:
            await client.disconnect()
    await reset_agents(live)
    server = live.service.settings.asterisk[0].name
    assert metric(text, "callcenter_pops_total") >= before + 1
    assert metric(text, "callcenter_pop_latency_seconds_count") >= 1
    assert metric(text, "callcenter_ami_events_total", f'{{server="{server}"}}') > 10
    assert metric(text, "callcenter_ami_connected", f'{{server="{server}"}}') == 1
