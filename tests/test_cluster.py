"""Several workers on one PostgreSQL and one Redis (issue 17), in one test process: the owner of the
telephony (the advisory lock's holder) drives the real sandbox; a follower gets its events for its
own sockets, reads the live state it publishes, and sends it its commands. When the owner goes, the
follower takes over and finishes the calls the owner was following."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from agent_ui.app import create_app
from config import Settings
from config.settings import CallLogSettings, RedisSettings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD
from crm.models import Call, CallDirection, Customer, User
from telephony.agents.state import AgentState
from telephony.ami import AmiClient
from telephony.cluster import remote
from telephony.cluster.ownership import Ownership
from telephony.sandbox.calls import place_call
from telephony.sandbox.instance import SandboxStatus
from telephony.service import TelephonyService
from tests.conftest import LiveStack, _postgres_admin, free_port, new_postgres_database, with_demo_data
from tests.live_calls import reset_agents, unknown_number
from tests.tcp_proxy import TcpProxy
from tests.test_routing import agi_request
from tests.web import agent_socket, running


CALLS_THROUGH_A_RESTART = 50


@pytest.fixture
async def cluster_database(sandbox_settings_: Settings) -> AsyncIterator[str]:
    """A PostgreSQL database of the test's own: several workers need PostgreSQL (its advisory lock)."""
    name, url = await new_postgres_database("cc_cluster")
    yield await with_demo_data(url, sandbox_settings_.queues)
    await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cluster_settings(sandbox_settings_: Settings, cluster_database: str, redis_url: str, tmp_path: Path) -> Settings:
    return sandbox_settings_.model_copy(update={
        "database": sandbox_settings_.database.model_copy(update={"url": cluster_database}),
        "redis": RedisSettings(url=redis_url, prefix=f"cluster-{uuid.uuid4().hex[:8]}"),
        "agi": sandbox_settings_.agi.model_copy(update={"port": free_port()}),  # the sandbox routes through the live stack's
        "calllog": CallLogSettings(spool_dir=tmp_path / "spool", batch_ms=50),
    })  # fmt: skip


def worker(settings: Settings, sandbox: SandboxStatus) -> TelephonyService:
    return TelephonyService(settings, secret_for=lambda server: sandbox.ami_secret, ari_secret_for=lambda server: sandbox.ari_secret)


async def until(condition, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    """Wait for ``condition()``; the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def two_workers(settings: Settings, sandbox: SandboxStatus) -> tuple[TelephonyService, TelephonyService]:
    """The first started owns the telephony; the second follows."""
    own_agi = settings.model_copy(update={"agi": settings.agi.model_copy(update={"port": free_port()})})  # to ask it alone
    first, second = worker(settings, sandbox), worker(own_agi, sandbox)
    await first.start()
    await until(lambda: first.owner, 10, "the first worker owns the telephony")
    await second.start()
    return first, second


def stack(service: TelephonyService, sandbox: SandboxStatus, ami: AmiClient) -> LiveStack:
    return LiveStack("postgresql", service.settings.database_url, service, session_factory(service.engine), sandbox, None, ami)


async def login(http: aiohttp.ClientSession, base_url: str, username: str) -> dict[str, str]:
    async with http.post(f"{base_url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as response:
        return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_follower_pushes_the_owners_events_to_its_own_agents_and_sends_the_owner_their_commands(
    cluster_settings: Settings, sandbox: SandboxStatus, ami: AmiClient
) -> None:
    owner, follower = await two_workers(cluster_settings, sandbox)
    try:
        await until(lambda: follower.cluster.follower.following, 5, "the second worker follows")  # type: ignore[union-attr]
        assert not follower.owner and not any(s["connected"] for s in follower.owner_commands.status().values())  # one AMI connection: the owner's
        await reset_agents(stack(owner, sandbox, ami))
        owner_app = create_app(cluster_settings, owner.engine, owner)
        follower_app = create_app(cluster_settings, follower.engine, follower)
        async with running(owner_app), running(follower_app) as follower_url, aiohttp.ClientSession() as http:
            agent, received = await agent_socket(follower_url, "agent1001")
            try:
                call = await place_call(owner.bridge.client(), did="4996", caller=unknown_number(), talk_seconds=1)
                await until(lambda: follower.commands.find_call(call.linkedid) is None and received.qsize() >= 3, 10, "the call's pushes")
                await asyncio.sleep(0.5)  # a second copy of any push would be here by now
                pushes = []
                while not received.empty():
                    name, _, data = received.get_nowait()
                    if data.get("call_id") == call.linkedid:
                        pushes.append(name)
                assert pushes.count("call.offered") == 1 and pushes.count("call.answered") == 1 and pushes.count("call.ended") == 1, pushes

                # The call owes a disposition code (agents.disposition_required): the owner's guard
                # holds the agent; the follower tells them so, refuses "available", and takes the code.
                headers = await login(http, follower_url, "agent1001")

                async def my_state() -> dict:
                    async with http.get(f"{follower_url}/api/me/state", headers=headers) as response:
                        return await response.json()

                deadline = time.monotonic() + 10
                while (await my_state())["pending_disposition"] != call.linkedid:
                    assert time.monotonic() < deadline, await my_state()
                    await asyncio.sleep(0.2)
                async with http.put(f"{follower_url}/api/me/state", json={"state": "available"}, headers=headers) as response:
                    assert response.status == 409
                async with session_factory(follower.engine)() as session:
                    call_id = await session.scalar(select(Call.id).where(Call.linkedid == call.linkedid))
                async with http.patch(f"{follower_url}/api/calls/{call_id}", json={"disposition_code": "inquiry"}, headers=headers) as response:
                    assert response.status == 200, await response.text()
                await until(lambda: owner.bridge.agents.is_available("1001"), 5, "the owner lets the agent go")
                assert (await my_state())["pending_disposition"] is None

                # The agent pauses through the follower: the owner does it, and both workers know.
                async with http.put(f"{follower_url}/api/me/state", json={"state": "paused", "reason": "break"}, headers=headers) as response:
                    body = await response.json()
                    assert response.status == 200, body
                assert body["state"] == "paused"
                assert owner.bridge.agents.get("1001").state == AgentState.PAUSED  # type: ignore[union-attr]
                await until(lambda: (a := follower.commands.agent("1001")) is not None and a.state == AgentState.PAUSED, 2, "the mirror")
                async with http.get(f"{follower_url}/api/me/state", headers=headers) as response:
                    assert (await response.json())["state"] == "paused"
                async with http.put(f"{follower_url}/api/me/state", json={"state": "available"}, headers=headers) as response:
                    assert (await response.json())["state"] == "available"
                # The follower's FastAGI routes from the mirror: a known customer goes to their last
                # agent while that agent is free there.
                async with session_factory(follower.engine)() as session, session.begin():
                    customer = await session.scalar(select(Customer.id).where(Customer.name == "John Smith"))
                    agent_id = await session.scalar(select(User.id).where(User.extension == "1003"))
                    session.add(Call(linkedid=f"earlier-{uuid.uuid4().hex[:8]}", direction=CallDirection.INBOUND, customer_id=customer,
                                     agent_id=agent_id, started_at=datetime.now(UTC), answered_at=datetime.now(UTC)))  # fmt: skip
                route = ["agi_network: yes", "agi_network_script: route", "agi_callerid: +14155552671", "agi_arg_1: 4001", "agi_arg_2: support"]
                await until(lambda: (a := follower.commands.agent("1003")) is not None and a.state == AgentState.AVAILABLE, 5, "1003 free")
                variables = await agi_request(follower.settings.agi.port, route)
                assert (variables["CC_ROUTE"], variables["CC_PREFERRED_AGENT"]) == ("preferred", "1003")
                await owner.commands.set_agent_state("1003", "paused", queues=["support"], reason="break")
                await until(lambda: follower.commands.agent("1003").state == AgentState.PAUSED, 2, "the mirror")  # type: ignore[union-attr]
                assert (await agi_request(follower.settings.agi.port, route))["CC_ROUTE"] == "queue"
                await owner.commands.set_agent_state("1003", "available", queues=["support"])

                async with http.get(f"{follower_url}/readyz") as response:
                    checks = (await response.json())["checks"]
                assert checks["cluster"] == {"ok": True, "role": "follower"} and "calllog" not in checks
            finally:
                await agent.disconnect()
    finally:
        await follower.close()
        await owner.close()


async def test_a_command_the_owner_does_not_answer_is_a_503_not_a_refusal(
    cluster_settings: Settings, sandbox: SandboxStatus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is held by an owner that runs nothing (hung): a follower's command is not refused as
    if the request were wrong; the agent is told the service did not answer and may try again."""
    monkeypatch.setattr(remote, "ANSWER_TIMEOUT_S", 1.0)
    hung = Ownership(cluster_settings.database_url, f"{cluster_settings.redis.prefix}:telephony")
    await hung.acquire()
    follower = worker(cluster_settings, sandbox)
    await follower.start()
    try:
        assert not follower.owner
        async with running(create_app(cluster_settings, follower.engine, follower)) as url, aiohttp.ClientSession() as http:
            headers = await login(http, url, "agent1001")
            async with http.put(f"{url}/api/me/state", json={"state": "paused", "reason": "break"}, headers=headers) as response:
                assert response.status == 503, await response.text()
                assert "not answering" in (await response.json())["error"]
            async with http.post(f"{url}/api/me/dial", json={"number": "13800138000"}, headers=headers) as response:
                assert response.status == 503, await response.text()
    finally:
        await follower.close()
        await hung.release()


async def test_the_follower_takes_over_and_completes_the_calls_the_owner_was_following(
    cluster_settings: Settings, sandbox: SandboxStatus, ami: AmiClient
) -> None:
    first, second = await two_workers(cluster_settings, sandbox)
    try:
        await reset_agents(stack(first, sandbox, ami))
        with first.bus.subscribe() as events:
            talking = asyncio.create_task(place_call(ami, did="4001", caller=unknown_number(), talk_seconds=3))
            answered = await events.wait_for(lambda e: e.name == "call.answered", 15)
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        await first.close()  # the owner goes in the middle of the conversation
        took = await until(lambda: second.owner, 8, "the follower takes over")
        assert took < 5
        await asyncio.wait_for(talking, 15)
        engine = create_engine(cluster_settings.database_url)
        try:
            async with session_factory(engine)() as session:
                async def ended() -> Call | None:
                    return await session.scalar(select(Call).where(Call.linkedid == linkedid, Call.ended_at.is_not(None)))

                deadline = time.monotonic() + 10
                while (row := await ended()) is None:
                    assert time.monotonic() < deadline, "the call in flight at the take-over has no complete row"
                    await asyncio.sleep(0.2)
                    session.expire_all()
            assert row.disposition == "answered" and row.agent_extension == answered.agent  # type: ignore[attr-defined]
            # When it was answered is what the first owner saw, not when the second found it.
            assert abs((row.answered_at - answered.call.answered_at).total_seconds()) < 0.01  # type: ignore[attr-defined, operator]
        finally:
            await engine.dispose()
        # New calls are followed by the new owner from the start.
        with second.bus.subscribe() as events:
            call = await place_call(ami, did="4001", caller=unknown_number(), talk_seconds=1)
            offered = await events.wait_for(lambda e: e.name == "call.offered" and e.call.linkedid == call.linkedid, 10)  # type: ignore[attr-defined]
        assert offered.call.adopted is False  # type: ignore[attr-defined]
    finally:
        await second.close()
        await first.close()


async def test_a_database_restart_during_calls_loses_no_call_row_and_keeps_the_owner(
    cluster_settings: Settings, sandbox: SandboxStatus, ami: AmiClient
) -> None:
    """PostgreSQL goes away for a few seconds (every connection of both workers cut, new ones
    refused) while 50 callers come and go: the owner keeps following them, spools their rows,
    takes its lock back first, and every row reaches the database."""
    direct = make_url(cluster_settings.database_url)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    through = direct.set(host="127.0.0.1", port=await proxy.start()).render_as_string(hide_password=False)
    settings = cluster_settings.model_copy(update={"database": cluster_settings.database.model_copy(update={"url": through})})
    owner, follower = await two_workers(settings, sandbox)
    try:
        calls = []
        for number in range(CALLS_THROUGH_A_RESTART):
            if number == 10:
                proxy.cut()
            elif number == 35:
                proxy.restore()
            calls.append(asyncio.create_task(place_call(ami, did="4999", caller=unknown_number(), hangup_after_wait=1.0)))
            await asyncio.sleep(0.1)
        linkedids = [result.linkedid for result in await asyncio.gather(*calls)]
        await until(lambda: not owner.bridge.live_calls(), 10, "every caller gone")
        await owner.calllog.drained(30)
        engine = create_engine(cluster_settings.database_url)
        try:
            async with session_factory(engine)() as session:
                written = await session.scalar(
                    select(func.count()).select_from(Call).where(Call.linkedid.in_(linkedids), Call.ended_at.is_not(None))
                )  # fmt: skip
        finally:
            await engine.dispose()
        assert written == CALLS_THROUGH_A_RESTART
        assert owner.owner and not follower.owner  # the restart did not move the telephony
        health = owner.calllog.health()
        assert health["last_error"] is not None and health["spooled"] == 0  # the outage was felt, and is behind it
    finally:
        await follower.close()
        await owner.close()
        await proxy.close()
