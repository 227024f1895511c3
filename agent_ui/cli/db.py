"""`callcenter db upgrade|current`: the CRM database schema."""

from __future__ import annotations

import argparse
import asyncio

from agent_ui.cli.errors import CommandError
from config import Settings
from crm import schema
from crm.db import open_engine, session_factory
from crm.queues import sync_queues
from qa.store import ensure_default_scorecard


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("db", help="create or upgrade the CRM database", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations, sync queues from the settings, add the default QA scorecard")
    upgrade.set_defaults(handler=run_upgrade)
    current = actions.add_parser("current", help="show the schema revision of the database")
    current.set_defaults(handler=run_current)


def upgrade_database(settings: Settings) -> None:
    try:
        schema.upgrade(settings.database_url)
    except Exception as error:  # the driver's own errors: unreachable server, bad credentials...
        raise CommandError(f"cannot upgrade {_safe_url(settings)}: {error}") from None
    asyncio.run(_sync_queues(settings))


async def _sync_queues(settings: Settings) -> None:
    async with open_engine(settings.database_url) as engine, session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await ensure_default_scorecard(session)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    upgrade_database(settings)
    print(f"database {_safe_url(settings)} is at revision {schema.head_revision()}")
    return 0


def run_current(args: argparse.Namespace, settings: Settings) -> int:
    async def current() -> str | None:
        async with open_engine(settings.database_url) as engine:
            return await schema.current_revision(engine)

    revision = asyncio.run(current())
    print(f"current: {revision or '(empty)'}; latest: {schema.head_revision()}")
    return 0 if revision == schema.head_revision() else 1


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
