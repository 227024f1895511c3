"""Which worker runs the telephony: the one holding a PostgreSQL advisory lock.

The lock belongs to a database session, so it goes when its holder dies (kill -9 closes the socket
and PostgreSQL ends the session) and a follower's next try takes it. The holder keeps its own
connection, outside any pool, and checks it every second: when PostgreSQL restarts, the holder
takes the lock back as soon as the database answers; if another worker got it first, the holder
hears so and must stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

CHECK_S = 1.0  # how often a follower tries the lock and the owner checks it still holds it
RETAKE_S = 0.2  # how often an owner whose database went away tries to take its lock back
GRACE_S = 3.0  # how long a follower leaves the lock to its owner once the database is back


class OwnershipLost(RuntimeError):
    """Another worker holds the lock: this one must stop driving Asterisk."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Ownership:
    def __init__(self, database_url: str, name: str) -> None:
        if not database_url.startswith("postgresql"):
            raise ValueError("several workers need PostgreSQL (database.url): its advisory lock elects the telephony's owner")
        self._engine = create_async_engine(database_url, poolclass=NullPool)
        self._key = lock_key(name)
        self._connection: AsyncConnection | None = None
        self.owner = False

    async def acquire(self) -> None:
        """Return once this worker holds the lock (tries every CHECK_S). After the database was
        away, wait GRACE_S before trying again: a living owner takes its lock back first, and the
        telephony does not change hands because PostgreSQL restarted."""
        while (got := await self._try()) is not True:
            if got is None:
                while not await self._database_answers():
                    await asyncio.sleep(CHECK_S)
                await asyncio.sleep(GRACE_S)
            else:
                await asyncio.sleep(CHECK_S)
        log.info("cluster: this worker owns the telephony now")

    async def kept(self) -> None:
        """Run while the lock is ours; raise OwnershipLost when another worker has it."""
        while True:
            await asyncio.sleep(CHECK_S)
            if await self._session_alive():  # a session-level lock lasts as long as its session
                continue
            log.warning("cluster: the database session that holds the lock is gone; taking it back")
            while (got := await self._try()) is not True:
                if got is False:
                    self.owner = False
                    raise OwnershipLost("another worker took over the telephony")
                await asyncio.sleep(RETAKE_S)
            log.info("cluster: lock taken back")

    async def release(self) -> None:
        self.owner = False
        await self._drop()
        await self._engine.dispose()

    async def _try(self) -> bool | None:
        """True: the lock is ours; False: another worker's; None: the database does not answer."""
        try:
            if self._connection is None:
                self._connection = await self._engine.connect()
            got = bool(await self._connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
        except (SQLAlchemyError, OSError) as error:
            log.debug("cluster: lock not tried: %s", error)
            await self._drop()
            return None
        if not got:
            await self._drop()  # its session must not linger
        self.owner = got
        return got

    async def _database_answers(self) -> bool:
        """Without touching the lock."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except (SQLAlchemyError, OSError):
            return False

    async def _session_alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            await asyncio.wait_for(self._connection.execute(text("SELECT 1")), CHECK_S * 2)
            return True
        except (SQLAlchemyError, OSError, TimeoutError):
            await self._drop()
            return False

    async def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close()
            except (SQLAlchemyError, OSError) as error:  # already broken: nothing to hand back
                log.debug("cluster: lock connection closed with %s", error)
