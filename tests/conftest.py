"""Shared fixtures: one sandbox Asterisk for the whole run, and databases on SQLite and PostgreSQL.

A test that needs a service which is missing is skipped on a developer's machine and fails in CI
(CI=true), so CI never passes by skipping.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config import Settings, load_settings
from config.settings import CallLogSettings, QueueSettings, Schedule, SimulatedAgent
from crm import schema
from crm.db import create_engine, session_factory
from crm.demo_data import load_demo_data
from crm.queues import sync_queues
from telephony.ami import AmiClient
from telephony.ami.client import CHATTY_EVENTS
from telephony.sandbox import Sandbox, SandboxStatus, SandboxUnavailable
from telephony.service import TelephonyService
from tests.tcp_proxy import TcpProxy

IN_CI = os.environ.get("CI") == "true"
POSTGRES_ADMIN_URL = os.environ.get("CALLCENTER_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS_URL")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    """The test Redis (scripts/redis.sh), emptied of our keys' prefix by each test's own prefix."""
    if not REDIS_URL:
        unavailable("Redis: set CALLCENTER_TEST_REDIS_URL (scripts/test.sh does)")
    return REDIS_URL  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TEST_QUEUES = [
    # Short rings and wrap-ups keep simulated calls to a few seconds.
    QueueSettings(name="support", dids=["4001"], ring_timeout_s=3, wrapup_s=1),
    QueueSettings(name="sales", dids=["4002"], ring_timeout_s=3, wrapup_s=1),
    QueueSettings(name="senior", dids=[], ring_timeout_s=3, wrapup_s=1),
    QueueSettings(name="nobody", dids=["4999"]),  # nobody answers: callers give up
    QueueSettings(name="empty", dids=["4997"], max_wait_s=2),  # the queue gives up: no agent
    QueueSettings(name="closed", dids=["4998"], schedule="never"),  # out of hours, always: voicemail
    QueueSettings(name="closedmsg", dids=["4995"], schedule="never", out_of_hours="message"),
    QueueSettings(name="rna", dids=["4996"], strategy="linear", ring_timeout_s=2, wrapup_s=1),  # 1001 first
    # Only the wallboard test calls it, so its figures can be worked out by hand.
    QueueSettings(name="board", dids=["4994"], ring_timeout_s=3, wrapup_s=1, short_abandon_s=3),
    # The browser-phone tests' queue: the browser agent first, a simulated one behind it when a test adds one.
    QueueSettings(name="browser", dids=["4993"], strategy="linear", ring_timeout_s=8, wrapup_s=1),
    # The queue-callback tests' queue: no member until a test adds one.
    QueueSettings(name="callback", dids=["4992"], ring_timeout_s=3, wrapup_s=1, callback_after_s=30, callback_retry_s=10),
    # The satisfaction survey's queue: no member until a test adds one.
    QueueSettings(name="survey", dids=["4991"], ring_timeout_s=3, wrapup_s=1, survey=True),
]
TEST_AGENTS = [
    SimulatedAgent(extension="1001", name="Agent 1001", language="zh", queues=["support", "rna"]),
    SimulatedAgent(extension="1002", name="Agent 1002", language="en", queues=["support", "rna"]),
    SimulatedAgent(extension="1003", name="Agent 1003", language="zh", queues=["support", "sales", "board"]),
    SimulatedAgent(extension="1004", name="Agent 1004", language="en", queues=["sales", "senior"]),
]


def sandbox_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "asterisk": [{"ami_port": free_port(), "http_port": free_port(), "wss_port": free_port()}],
        "agi": {"port": free_port()},
        "queues": TEST_QUEUES,
        "sandbox": {"agents": TEST_AGENTS},
        "routing": {"schedules": {"never": Schedule(weekly={})}},
        "agents": {"outbound_wrapup_s": 1},
        "calllog": {"batch_ms": 50},
    }
    return load_settings(**{**values, **overrides})


# The sandbox Asterisk ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_settings_(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return sandbox_settings(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="session")
def sandbox_instance(sandbox_settings_: Settings) -> Sandbox:
    return Sandbox(sandbox_settings_, log=lambda line: None)


@pytest.fixture(scope="session")
async def sandbox(sandbox_instance: Sandbox) -> AsyncIterator[SandboxStatus]:
    try:
        status = await sandbox_instance.up()
    except SandboxUnavailable as error:
        unavailable(f"sandbox Asterisk: {error}")
    yield status
    sandbox_instance.down()
    sandbox_instance.purge()


@pytest.fixture
async def ami(sandbox: SandboxStatus) -> AsyncIterator[AmiClient]:
    client = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_admin_username, sandbox.ami_admin_secret)
    await client.connect()
    yield client
    await client.close()


# Databases -----------------------------------------------------------------------------------------


def empty_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'test.db'}"
        return
    if not POSTGRES_ADMIN_URL:
        unavailable("PostgreSQL: set CALLCENTER_TEST_POSTGRES_URL (scripts/test.sh does)")
    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    yield from empty_database(request.param, tmp_path)


async def new_postgres_database(prefix: str) -> tuple[str, str]:
    """A PostgreSQL database of a test's own: (its name, its URL). Drop it with _postgres_admin."""
    if not POSTGRES_ADMIN_URL:
        unavailable("PostgreSQL: set CALLCENTER_TEST_POSTGRES_URL (scripts/test.sh does)")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    return name, make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def with_demo_data(url: str, queues: list[QueueSettings]) -> str:
    """Migrate the database at ``url`` and give it the demo's users and customers and ``queues``."""
    await asyncio.to_thread(schema.upgrade, url)
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, queues)
        await load_demo_data(session)
    await engine.dispose()
    return url


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    try:
        connection = await asyncpg.connect(
            user=url.username, password=url.password, host=url.host, port=url.port, database=url.database
        )
    except (OSError, asyncpg.PostgresError) as error:
        unavailable(f"PostgreSQL at {url.host}:{url.port}: {error}")
    try:
        for attempt in range(10):
            try:
                await connection.execute(statement)
                return
            except (asyncpg.ObjectInUseError, asyncpg.InsufficientPrivilegeError):
                # CREATE DATABASE while another copies template1; DROP … WITH (FORCE) while autovacuum
                # (which only a superuser may stop) is still on the database: both pass in a moment.
                await asyncio.sleep(0.2 * (attempt + 1))
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    schema.upgrade(database_url)
    return database_url


@pytest.fixture
async def session(migrated_url: str):
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        yield session
    await engine.dispose()


# The telephony stack (bridge, FastAGI, call log) on the sandbox, once per database --------------


@dataclass
class LiveStack:
    kind: str  # sqlite | postgresql
    url: str
    service: TelephonyService
    sessions: async_sessionmaker[AsyncSession]
    sandbox: SandboxStatus
    proxy: TcpProxy | None  # between the call logger and PostgreSQL, so a test can take it away
    admin: AmiClient  # the sandbox's own AMI user: the simulated phones' AstDB keys, which the bridge may not touch

    @property
    def ami(self) -> AmiClient:
        return self.service.bridge.client()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def live(
    request: pytest.FixtureRequest,
    sandbox: SandboxStatus,
    sandbox_settings_: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveStack]:
    kind = request.param
    folder = tmp_path_factory.mktemp(f"live-{kind}")
    proxy = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'live.db'}"
        calllog_engine = create_engine(url, sqlite_busy_timeout_s=0.5)
    else:
        if not POSTGRES_ADMIN_URL:
            unavailable("PostgreSQL: set CALLCENTER_TEST_POSTGRES_URL (scripts/test.sh does)")
        name = f"cc_live_{uuid.uuid4().hex[:12]}"
        await _postgres_admin(f'CREATE DATABASE "{name}"')
        parsed = make_url(POSTGRES_ADMIN_URL).set(database=name)
        url = parsed.render_as_string(hide_password=False)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        proxy_port = await proxy.start()
        calllog_engine = create_engine(parsed.set(host="127.0.0.1", port=proxy_port).render_as_string(hide_password=False))
    await asyncio.to_thread(schema.upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, sandbox_settings_.queues)
        await load_demo_data(session)
    settings = sandbox_settings_.model_copy(
        update={"calllog": CallLogSettings(spool_dir=folder / "spool", batch_ms=50)}
    )
    service = TelephonyService(
        settings, database_url=url, secret_for=lambda server: sandbox.ami_secret, ari_secret_for=lambda server: sandbox.ari_secret,
        calllog_engine=calllog_engine,
    )
    await service.start()
    # It hears the keypad's digits too (the bridge has no use for them).
    admin = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_admin_username, sandbox.ami_admin_secret,
                      ignored=CHATTY_EVENTS - {"DTMFBegin", "DTMFEnd"})  # fmt: skip
    await admin.connect()
    yield LiveStack(kind, url, service, sessions, sandbox, proxy, admin)
    await admin.close()
    await service.close()
    await calllog_engine.dispose()
    await engine.dispose()
    if proxy is not None:
        await proxy.close()
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
