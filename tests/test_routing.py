"""Routing decisions from the CRM (on SQLite and PostgreSQL), opening hours, and the FastAGI
protocol as Asterisk speaks it — including garbage and a CRM that is down or hangs."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from config.settings import Schedule
from crm.db import create_engine, session_factory
from crm.demo_data import load_demo_data
from crm.models import Customer
from crm.queues import sync_queues
from telephony.routing.fastagi import FastAgiServer
from telephony.routing.hours import is_open
from telephony.routing.router import Router
from tests.conftest import free_port, sandbox_settings
from tests.tcp_proxy import TcpProxy

WORKDAYS = Schedule(timezone="Asia/Shanghai", weekly={d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, holidays=[date(2026, 10, 1)])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_opening_hours_in_the_schedule_time_zone() -> None:
    assert is_open(WORKDAYS, utc(2026, 11, 26, 1, 0))  # Thursday 09:00 in Shanghai
    assert not is_open(WORKDAYS, utc(2026, 11, 26, 0, 59))  # 08:59
    assert not is_open(WORKDAYS, utc(2026, 11, 26, 4, 30))  # lunch, 12:30
    assert not is_open(WORKDAYS, utc(2026, 11, 26, 10, 0))  # 18:00 sharp: closed
    assert not is_open(WORKDAYS, utc(2026, 11, 28, 3, 0))  # Saturday
    assert not is_open(WORKDAYS, utc(2026, 10, 1, 3, 0))  # National Day
    assert is_open(None, utc(2026, 11, 28, 3, 0))
    assert is_open(Schedule(weekly={"sat": ["00:00-24:00"]}), utc(2026, 11, 28, 15, 59))


def test_schedule_and_routing_settings_are_validated() -> None:
    from config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="not a range"):
        load_settings(routing={"schedules": {"x": {"weekly": {"mon": ["18:00-09:00"]}}}})
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(routing={"schedules": {"x": {"timezone": "Mars/Olympus"}}})
    with pytest.raises(ConfigError, match="unknown schedule"):
        load_settings(queues=[{"name": "q", "schedule": "nope"}], routing={"risk_queue": None})
    with pytest.raises(ConfigError, match="routing.risk_queue"):
        load_settings(routing={"risk_queue": "vip"})


@pytest.fixture
async def crm(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    settings = sandbox_settings(tmp_path)
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
    yield settings, sessions
    await engine.dispose()


async def test_routing_decisions_from_the_crm(crm) -> None:  # type: ignore[no-untyped-def]
    settings, sessions = crm
    router = Router(settings, sessions)
    vip = await router.route(did="4001", caller="+86 138 0013 8000")
    assert (vip.route, vip.queue, vip.priority, vip.risk) == ("queue", "support", 10, False)
    assert vip.customer_id is not None and vip.variables()["CC_CUSTOMER_ID"] == str(vip.customer_id)
    risky = await router.route(did="4001", caller="13700137000")
    assert (risky.queue, risky.risk, risky.priority) == ("senior", True, 0)
    unknown = await router.route(did="4002", caller="15500009999")
    assert (unknown.route, unknown.queue, unknown.customer_id) == ("queue", "sales", None)
    assert unknown.variables()["CC_CUSTOMER_ID"] == ""
    assert await router.route(did="9999", caller="1") is None  # no queue for this DID
    closed = await router.route(did="4998", caller="13800138000")
    assert closed.route == "closed"

    async with sessions() as session, session.begin():
        customer = await session.scalar(select(Customer).where(Customer.name == "李四"))
        customer.preferred_queue = "sales"
    assert (await router.route(did="4001", caller="13900139000")).queue == "sales"


async def test_preferred_agent_only_when_available(crm) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from crm.models import Call, CallDirection, User

    settings, sessions = crm
    async with sessions() as session, session.begin():
        customer = await session.scalar(select(Customer.id).where(Customer.name == "John Smith"))
        agent = await session.scalar(select(User.id).where(User.extension == "1003"))
        now = datetime.now(UTC)
        for days, linkedid in ((40, "old"), (2, "recent")):
            session.add(Call(linkedid=linkedid, direction=CallDirection.INBOUND, customer_id=customer, agent_id=agent,
                             started_at=now - timedelta(days=days), answered_at=now - timedelta(days=days)))
    available: set[str] = set()
    router = Router(settings, sessions, agent_available=lambda extension: extension in available)
    assert (await router.route(did="4001", caller="+14155552671")).route == "queue"
    available.add("1003")
    decision = await router.route(did="4001", caller="+14155552671")
    assert (decision.route, decision.preferred_agent) == ("preferred", "1003")
    assert decision.variables()["CC_PREFERRED_INTERFACE"] == "Local/1003@sim-phones/nm"


async def test_crm_down_or_hanging_routes_to_the_did_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = sandbox_settings(tmp_path, routing={"lookup_timeout_ms": 300, "schedules": {"never": {}}})
    down = create_engine(f"postgresql+asyncpg://x:y@127.0.0.1:{free_port()}/none")
    decision = await Router(settings, session_factory(down)).route(did="4001", caller="13700137000")
    assert (decision.route, decision.queue, decision.customer_id) == ("fallback", "support", None)
    await down.dispose()

    proxy = TcpProxy("127.0.0.1", 9)
    proxy.stalled = True
    port = await proxy.start()
    hanging = create_engine(f"postgresql+asyncpg://x:y@127.0.0.1:{port}/none")
    started = asyncio.get_running_loop().time()
    decision = await Router(settings, session_factory(hanging)).route(did="4002", caller="13700137000")
    assert (decision.route, decision.queue) == ("fallback", "sales")
    assert asyncio.get_running_loop().time() - started < 2  # gave up at its own deadline, not the driver's
    await proxy.close()
    await hanging.dispose()


async def agi_request(port: int, lines: list[str], replies: bool = True) -> dict[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("\n".join(lines) + "\n\n").encode())
    await writer.drain()
    variables = {}
    while line := await asyncio.wait_for(reader.readline(), 5):
        command = line.decode().strip()
        assert command.startswith("SET VARIABLE ")
        name, _, value = command.removeprefix("SET VARIABLE ").partition(" ")
        variables[name] = value.strip('"')
        if replies:
            writer.write(b"200 result=1\n")
            await writer.drain()
    writer.close()
    return variables


async def test_fastagi_speaks_asterisk_and_survives_garbage(crm) -> None:  # type: ignore[no-untyped-def]
    settings, sessions = crm
    server = FastAgiServer(Router(settings, sessions))
    await server.start("127.0.0.1", 0)
    request = ["agi_network: yes", "agi_network_script: route", "agi_callerid: 13800138000", "agi_calleridname: 张三",
               "agi_arg_1: 4001", "agi_arg_2: support"]
    variables = await agi_request(server.port, request)
    assert variables["CC_QUEUE"] == "support" and variables["CC_PRIORITY"] == "10" and variables["CC_ROUTE"] == "queue"

    # garbage, a half request, an unknown script: each connection is closed, the server lives on
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(bytes(range(256)) * 4 + b"\n\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    _, half = await asyncio.open_connection("127.0.0.1", server.port)
    half.write(b"agi_network: yes\n")
    half.close()
    assert await agi_request(server.port, ["agi_network_script: reboot"]) == {}
    assert (await agi_request(server.port, request))["CC_QUEUE"] == "support"
    await server.close()
