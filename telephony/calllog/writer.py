"""The call logger: domain events → batched, idempotent writes; a disk spool while the database is away.

It reads the bus at its own pace, so a slow or absent database never slows the AMI reader. Every
``batch_ms`` the records gathered are written in one transaction. When that fails they go to the
spool (fsync'ed), and so does everything after them until the spool has been replayed, in order,
into the database again: no call is lost, none is written twice.

Being away is not the only way a write fails: the database may refuse one record (a value it cannot
store). Then the batch is written again record by record, and a record refused alone goes to the
dead letters with the reason, so one bad record never holds up the ones behind it. The task that
does all this is supervised: an error it did not expect (a full disk under the spool) is logged,
reported by :meth:`CallLogWriter.health`, and the writer carries on with the records it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from telephony.agents.wrapup import WrapUpClock
from telephony.calllog.deadletters import DeadLetters
from telephony.calllog.spool import Spool
from telephony.calllog.store import AgentDirectory, write_records
from telephony.calls.state import CallSnapshot
from telephony.events import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallQueued,
    CallRecordingPaused,
    CallRouted,
    CallStarted,
    CallTransferred,
    DomainEvent,
    EventBus,
    Subscription,
    SurveyAnswered,
)

log = logging.getLogger(__name__)

WRITTEN_ON = (CallStarted, CallRouted, CallQueued, CallAnswered, CallTransferred, CallRecordingPaused, CallEnded)
MAX_BATCH = 500  # records a transaction, and a spool segment
RECENT_OUTCOMES = 2000  # ended calls whose outcome (stored or refused) is remembered for stored()


TRANSIENT = {"phase", "position", "preferred_agent", "held_since", "waiting_since"}  # live state, not the log's
RECORDED = tuple(f.name for f in fields(CallSnapshot) if f.name not in TRANSIENT)


def call_record(event: CallEvent) -> dict[str, Any]:
    # The event's snapshot is a copy nobody changes, so its values are taken as they are:
    # dataclasses.asdict's deep copy was half the call log's CPU.
    call = event.call
    data = {name: getattr(call, name) for name in RECORDED}
    data["agent_extension"] = data.pop("agent")
    data["disposition"] = call.disposition.value if call.disposition else None
    return {"kind": "call", "data": data}


@dataclass
class WriterStats:
    written: int = 0
    spooled: int = 0
    failures: int = 0
    restarts: int = 0  # the writer task failed unexpectedly and was started again
    last_error: str | None = None


def database_away(error: BaseException) -> bool:
    """The database could not be reached or is busy (retry later), as opposed to refusing a record."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError, OSError, TimeoutError))


class CallLogWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        spool_dir: Path,
        *,
        batch_ms: int = 200,
        max_backoff_s: float = 5.0,
        spool_max_bytes: int = 256 * 2**20,
    ) -> None:
        self._sessions = sessions
        self.spool = Spool(spool_dir, max_bytes=spool_max_bytes, segment_records=MAX_BATCH)
        self.dead_letters = DeadLetters(spool_dir)
        self._batch_s = batch_ms / 1000
        self._max_backoff_s = max_backoff_s
        self._pending: list[dict[str, Any]] = []
        self._agents = AgentDirectory()
        self._wrapups = WrapUpClock()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._writing = False
        self.stats = WriterStats()
        self._outcomes: OrderedDict[str, bool] = OrderedDict()  # Linkedid of an ended call → stored?
        self._waiters: dict[str, list[asyncio.Future[bool]]] = {}

    # Turning events into records -------------------------------------------------------------------

    def add(self, event: DomainEvent) -> None:
        if isinstance(event, WRITTEN_ON):
            self._pending.append(call_record(event))
        elif isinstance(event, AgentStateChanged):
            self._agent_state(event)
        elif isinstance(event, SurveyAnswered):
            self._pending.append({"kind": "survey", "data": {"linkedid": event.linkedid, "satisfaction": event.score}})
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
        self._task = asyncio.create_task(self._supervise(self._subscription), name="calllog-writer")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _supervise(self, subscription: Subscription) -> None:
        """Whatever goes wrong in a round (a full disk under the spool...), the writer goes on."""
        backoff = self._batch_s
        while True:
            try:
                await self._run(subscription)
            except Exception as error:  # noqa: BLE001 - logged, reported by health(), and retried
                self.stats.restarts += 1
                self.stats.last_error = f"{type(error).__name__}: {error}"[:300]
                log.exception("call log: the writer failed (%d pending records kept); again in %.1f s", len(self._pending), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    async def _run(self, subscription: Subscription) -> None:
        await self.spool.load()  # both once: what a previous run left on disk
        await self.dead_letters.load()
        backoff = self._batch_s
        while True:
            try:
                event = await subscription.get(timeout=self._batch_s)
                self.add(event)
                while subscription.pending() and len(self._pending) < MAX_BATCH:
                    self.add(subscription.get_nowait())
            except TimeoutError:
                pass
            flushed_at = asyncio.get_running_loop().time()
            if await self.flush():
                backoff = self._batch_s
                if not subscription.pending():
                    # A trickle of events would otherwise take a transaction each (most of the
                    # call log's cost at a few calls a second): at most one per batch_ms, while
                    # a backlog still goes out in full batches back to back.
                    await asyncio.sleep(max(0.0, flushed_at + self._batch_s - asyncio.get_running_loop().time()))
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    async def flush(self) -> bool:
        """Write what is pending (after the spool, if any). False when the database is away."""
        if not self._pending and self.spool.is_empty():
            return True
        self._writing = True
        try:
            return await self._flush()
        finally:
            self._writing = False

    async def _flush(self) -> bool:
        batch, self._pending = self._pending, []
        if self.spool.is_empty():
            if await self._write(batch):
                return True
            await self._spool(batch)
            return False
        await self._spool(batch)  # behind what is already waiting, in order
        replayed = 0
        while (oldest := await self.spool.oldest()) is not None:
            segment, records = oldest
            if not await self._write(records):
                return False
            await self.spool.consume(segment)
            replayed += len(records)
        log.info("call log: database back; %d spooled records replayed", replayed)
        return True

    async def _spool(self, batch: list[dict[str, Any]]) -> None:
        try:
            await self.spool.append(batch)
        except OSError:
            self._pending[:0] = batch  # kept in memory until the disk takes them or the database is back
            raise
        self.stats.spooled += len(batch)

    async def _write(self, records: list[dict[str, Any]]) -> bool:
        """Store records in one transaction; if the database refuses the batch (not for being away),
        store them one by one, and a record refused alone goes to the dead letters. False only
        when the database is away: then nothing is lost and the caller keeps the records."""
        try:
            await self._transaction(records)
        except Exception as error:  # noqa: BLE001 - whatever the database did, keep the records
            if database_away(error):
                return self._away(error)
            log.warning("call log: a batch of %d was refused (%s); writing its records one by one", len(records), error)
            for record in records:
                try:
                    await self._transaction([record])
                except Exception as single:  # noqa: BLE001
                    if database_away(single):
                        return self._away(single)
                    await self.dead_letters.add(record, single)
                    self._settle(record, stored=False)
                else:
                    self._settle(record, stored=True)
                    self.stats.written += 1
            return True
        for record in records:
            self._settle(record, stored=True)
        self.stats.written += len(records)
        return True

    async def _transaction(self, records: list[dict[str, Any]]) -> None:
        async with self._sessions() as session, session.begin():
            await write_records(session, records, self._agents)

    def _away(self, error: BaseException) -> bool:
        self.stats.failures += 1
        self.stats.last_error = f"{type(error).__name__}: {error}"[:300]
        if self.stats.failures == 1 or self.stats.failures % 20 == 0:
            log.warning("call log: database unavailable (%s); %d records spooled", self.stats.last_error, len(self.spool))
        return False

    # Whether an ended call reached the database -------------------------------------------------------

    def _settle(self, record: dict[str, Any], *, stored: bool) -> None:
        if record["kind"] != "call" or record["data"].get("ended_at") is None:
            return
        linkedid = record["data"]["linkedid"]
        self._outcomes[linkedid] = stored
        self._outcomes.move_to_end(linkedid)
        while len(self._outcomes) > RECENT_OUTCOMES:
            self._outcomes.popitem(last=False)
        for waiter in self._waiters.pop(linkedid, []):
            if not waiter.done():
                waiter.set_result(stored)

    async def stored(self, linkedid: str, timeout: float) -> bool | None:
        """Whether the ended call ``linkedid`` is in the database: True, False (refused: a dead
        letter), or None when that is not known within ``timeout`` (the database is away)."""
        if linkedid in self._outcomes:
            return self._outcomes[linkedid]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(linkedid, []).append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(linkedid, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(linkedid, None)

    def health(self) -> dict[str, Any]:
        if not self.running:
            state = "stopped"
        elif not self.spool.is_empty() or self._pending and self.stats.last_error:
            state = "spooling"
        else:
            state = "ok"
        return {
            "state": state,
            "written": self.stats.written,
            "queued": len(self._pending),
            "spooled": len(self.spool),
            "spool_bytes": self.spool.size,
            "spool_dropped": self.spool.dropped,
            "dead_letters": self.dead_letters.count,
            "last_dead_letter": self.dead_letters.last_reason,
            "restarts": self.stats.restarts,
            "last_error": self.stats.last_error,
        }

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
        await self.spool.load()
        try:
            if not await self.flush():
                await self._spool(self._pending)
                self._pending = []
        except OSError as error:
            log.error("call log: %d records could not be kept on closing: %s", len(self._pending), error)
