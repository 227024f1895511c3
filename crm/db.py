"""Engine, sessions and the column types shared by the models."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

from config.settings import DatabaseSettings


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one (datetime.now(UTC))")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, limits: DatabaseSettings | None = None, *, sqlite_busy_timeout_s: float = 30) -> AsyncEngine:
    """An async engine; for SQLite, the folder is created and foreign keys are enforced. On
    PostgreSQL, connecting, each statement and waiting for a pooled connection are bounded by
    ``limits`` (the defaults of DatabaseSettings if not given): a hung server raises, it never
    holds a request or a push for ever."""
    limits = limits or DatabaseSettings()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": sqlite_busy_timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "timeout": limits.connect_timeout_s,
            "command_timeout": limits.statement_timeout_s,  # the client's bound: also a server that stopped answering
            "server_settings": {"statement_timeout": str(int(limits.statement_timeout_s * 1000))},
        }
    return create_async_engine(url, pool_pre_ping=True, pool_timeout=limits.pool_timeout_s, connect_args=connect_args)


@contextlib.asynccontextmanager
async def open_engine(url: str, limits: DatabaseSettings | None = None) -> AsyncIterator[AsyncEngine]:
    """An engine for the length of a block, disposed of (connections closed) at its end."""
    engine = create_engine(url, limits)
    try:
        yield engine
    finally:
        await engine.dispose()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database (readiness); raises when it does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
