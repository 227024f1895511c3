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

import pytest
from sqlalchemy.engine import make_url

from config import Settings, load_settings
from config.settings import DEFAULT_QUEUES, QueueSettings
from crm import schema
from crm.db import create_engine, session_factory
from telephony.ami import AmiClient
from telephony.sandbox import Sandbox, SandboxStatus, SandboxUnavailable

IN_CI = os.environ.get("CI") == "true"
POSTGRES_ADMIN_URL = os.environ.get("CALLCENTER_TEST_POSTGRES_URL")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox_settings(data_dir: Path) -> Settings:
    return load_settings(
        data_dir=data_dir,
        asterisk=[{"ami_port": free_port()}],
        agi={"port": free_port()},
        # A queue nobody answers, for callers who give up.
        queues=[*DEFAULT_QUEUES, QueueSettings(name="nobody", dids=["4999"])],
    )


# The sandbox Asterisk ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_settings_(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return sandbox_settings(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="session")
async def sandbox(sandbox_settings_: Settings) -> AsyncIterator[SandboxStatus]:
    instance = Sandbox(sandbox_settings_, log=lambda line: None)
    try:
        status = await instance.up()
    except SandboxUnavailable as error:
        unavailable(f"sandbox Asterisk: {error}")
    yield status
    instance.down()


@pytest.fixture
async def ami(sandbox: SandboxStatus) -> AsyncIterator[AmiClient]:
    client = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret)
    await client.connect()
    yield client
    await client.close()


# Databases -----------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    if not POSTGRES_ADMIN_URL:
        unavailable("PostgreSQL: set CALLCENTER_TEST_POSTGRES_URL (scripts/test.sh does)")
    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
