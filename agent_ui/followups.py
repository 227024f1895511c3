"""The sweep that turns dropped calls into callback tasks (crm.tasks.dropped), every tasks.sweep_s.

It runs in every web process: the call log it reads may be written by another, and each dropped call
goes into one task however many sweep (a second process's insert of the same call is refused and
that sweep retried the next time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.tasks import TaskSettings
from crm.db import utcnow
from crm.tasks import dropped

log = logging.getLogger(__name__)


class DroppedCallSweeper:
    def __init__(self, settings: TaskSettings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._settings = settings
        self._sessions = sessions
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def sweep_once(self) -> int:
        async with self._sessions() as session, session.begin():
            return await dropped.sweep(session, self._settings, utcnow())

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                while await self.sweep_once() >= dropped.BATCH:
                    pass  # a backlog (the process was down): take it in batch by batch
            except exc.IntegrityError:
                log.info("tasks: another process took in the same dropped calls; sweeping again later")
            except Exception:  # noqa: BLE001 - the database away or refusing: the next sweep tries again
                log.exception("tasks: sweeping dropped calls failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._settings.sweep_s)

    async def start(self) -> None:
        if self._settings.dropped_calls:
            self._task = asyncio.create_task(self._loop(), name="dropped-call-sweeper")

    async def stop(self) -> None:
        # Let a sweep under way finish its transaction rather than cancel it mid-query.
        self._stopping.set()
        if self._task is not None:
            await self._task
