"""A benchmark run on both databases: a fresh, migrated SQLite file, then (when the run has one) a
fresh, migrated PostgreSQL database."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.report import Section
from crm import schema

Fresh = Callable[[], Awaitable[str]]


async def on_both(
    section: Section, postgres_admin_url: str | None, make_database: Callable[[], Awaitable[str]],
    run_one: Callable[[str, Fresh], Awaitable[None]],
) -> None:
    """``run_one(kind, fresh)``, where ``fresh()`` gives the URL of a new, migrated, empty database."""
    with tempfile.TemporaryDirectory() as scratch:
        made = iter(range(1000))

        async def fresh_sqlite() -> str:
            url = f"sqlite+aiosqlite:///{Path(scratch) / f'bench{next(made)}.db'}"
            await asyncio.to_thread(schema.upgrade, url)
            return url

        await run_one("SQLite", fresh_sqlite)
    if not postgres_admin_url:
        section.notes.append("- PostgreSQL: not measured (no CALLCENTER_BENCH_POSTGRES_URL).")
        return

    async def fresh_postgres() -> str:
        url = await make_database()
        await asyncio.to_thread(schema.upgrade, url)
        return url

    await run_one("PostgreSQL", fresh_postgres)
