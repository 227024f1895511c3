"""Schema versions: apply the Alembic migrations, and tell whether a database is up to date."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

UPGRADE_COMMAND = "callcenter db upgrade"


class SchemaOutOfDate(Exception):
    pass


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "crm:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations (blocking; it runs its own event loop, so call it from a thread in async code)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def check_up_to_date(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"the database schema is out of date ({state}, needs {head}); run `{UPGRADE_COMMAND}` first"
        )
