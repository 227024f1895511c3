"""The call logger: domain events → batched, idempotent writes; a disk spool while the database is away.

It reads the bus at its own pace, so a slow or absent database never slows the AMI reader. Every
``batch_ms`` the records gathered are written in one transaction. When that fails they go to the
spool (fsync'ed), and so does everything after them until the spool has been replayed, in order,
into the database again: no call is lost, none is written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from telephony.agents.wrapup import WrapUpClock
from telephony.calllog.spool import Spool
from telephony.calllog.store import AgentDirectory, write_records
from telephony.events import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallQueued,
    CallRouted,
    CallStarted,
    CallTransferred,
    DomainEvent,
    EventBus,
    Subscription,
)

log = logging.getLogger(__name__)

WRITTEN_ON = (CallStarted, CallRouted, CallQueued, CallAnswered, CallTransferred, CallEnded)
MAX_BATCH = 500


def call_record(event: CallEvent) -> dict[str, Any]:
    call = event.call
    data = call.as_dict()
    data["agent_extension"] = data.pop("agent")
    data["disposition"] = call.disposition.value if call.disposition else None
    for transient in ("phase", "position", "preferred_agent", "held_since"):
        data.pop(transient)
    return {"kind": "call", "data": data}


@dataclass
class WriterStats:
    written: int = 0
    spooled: int = 0
    failures: int = 0
    last_error: str | None = None


class CallLogWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        spool_dir: Path,
        *,
        batch_ms: int = 200,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self.spool = Spool(spool_dir)
        self._batch_s = batch_ms / 1000
        self._max_backoff_s = max_backoff_s
        self._pending: list[dict[str, Any]] = []
        self._agents = AgentDirectory()
        self._wrapups = WrapUpClock()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._writing = False
        self.stats = WriterStats()

    # Turning events into records -------------------------------------------------------------------

    def add(self, event: DomainEvent) -> None:
        if isinstance(event, WRITTEN_ON):
            self._pending.append(call_record(event))
        elif isinstance(event, AgentStateChanged):
            self._agent_state(event)
        if wrapup := self._wrapups.observe(event):
            self._pending.append({"kind": "wrapup", "data": {"linkedid": wrapup.linkedid, "wrapup_s": wrapup.seconds}})

    def _agent_state(self, event: AgentStateChanged) -> None:
        agent = event.agent
        self._pending.append(
            {
                "kind": "agent_state",
                "data": {
                    "event_key": f"{event.server}:{agent.extension}:{event.at.isoformat()}:{agent.state.value}",
                    "agent_extension": agent.extension,
                    "server": event.server,
                    "state": agent.state.value,
                    "previous": event.previous,
                    "reason": agent.reason,
                    "call_linkedid": agent.call,
                    "at": event.at,
                },
            }
        )

    # Running ---------------------------------------------------------------------------------------

    def start(self, bus: EventBus) -> None:
        self._subscription = bus.subscribe()
        self._task = asyncio.create_task(self._run(self._subscription), name="calllog-writer")

    async def _run(self, subscription: Subscription) -> None:
        backoff = self._batch_s
        while True:
            try:
                event = await subscription.get(timeout=self._batch_s)
                self.add(event)
                while subscription.pending() and len(self._pending) < MAX_BATCH:
                    self.add(subscription.get_nowait())
            except TimeoutError:
                pass
            if await self.flush():
                backoff = self._batch_s
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    async def flush(self) -> bool:
        """Write what is pending (after the spool, if any). False when the database failed."""
        if not self._pending and self.spool.is_empty():
            return True
        self._writing = True
        try:
            return await self._flush()
        finally:
            self._writing = False

    async def _flush(self) -> bool:
        batch, self._pending = self._pending, []
        if not self.spool.is_empty():
            self.spool.append(batch)
            self.stats.spooled += len(batch)
            batch = self.spool.read()
            from_spool = True
        else:
            from_spool = False
        try:
            async with self._sessions() as session, session.begin():
                await write_records(session, batch, self._agents)
        except Exception as error:  # noqa: BLE001 - whatever the database did, keep the records
            self.stats.failures += 1
            self.stats.last_error = f"{type(error).__name__}: {error}"[:300]
            if not from_spool:
                self.spool.append(batch)
                self.stats.spooled += len(batch)
            if self.stats.failures == 1 or self.stats.failures % 20 == 0:
                log.warning("call log: database unavailable (%s); %d records spooled", self.stats.last_error, len(self.spool))
            return False
        if from_spool:
            self.spool.clear()
            log.info("call log: database back; %d spooled records replayed", len(batch))
        self.stats.written += len(batch)
        return True

    async def drained(self, timeout: float) -> None:
        """Wait until everything received so far is in the database (for tests and shutdown)."""
        async with asyncio.timeout(timeout):
            while True:
                await asyncio.sleep(self._batch_s)
                if self._subscription is not None and self._subscription.pending():
                    continue
                if not self._pending and not self._writing and self.spool.is_empty():
                    return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            while self._subscription.pending():
                self.add(self._subscription.get_nowait())
            self._subscription.close()
        if not await self.flush():
            self.spool.append(self._pending)
            self._pending = []
