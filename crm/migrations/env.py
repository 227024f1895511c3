"""Alembic environment: runs the migrations over an async engine (SQLite or PostgreSQL)."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from crm.db import create_engine
from crm.models import Base

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `callcenter db upgrade`")
asyncio.run(run_online())
