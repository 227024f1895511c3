"""Queue callbacks: a waiting caller pressed for one and cc-queue-exit asks our FastAGI
(``/callback``, :meth:`CallbackService.agi_request`) to store the request; only once it is stored does
the caller hear so and leave. Then a stand-in joins the queue at the caller's place — behind everyone
who was waiting before them, ahead of everyone who came after — with their priority. The agent who
answers the stand-in sees "callback" and the waited time on the pop, and its other half dials the
number (cc-callback). Flow and rules: docs/callbacks.md.

Each attempt's Linkedid is written before its stand-in is placed, and only a waiting request can
start an attempt, so one request is never called twice at once, also with two processes or after a
restart; the end of the attempt's call settles it (store.finish), retries included. Every
``RECOVER_S`` the attempts whose call is neither followed by the bridge nor up in Asterisk are
settled from the dial mark Asterisk kept and the call log (a number that answered while we were
down is not called again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import QueueSettings
from crm.callbacks import store
from crm.db import utcnow
from telephony.ami import AmiError
from telephony.calls.dial_marks import DIALLING, dial_mark, forget_dial_mark
from telephony.calls.live import DIAL_DISPOSITIONS
from telephony.calls.state import Disposition
from telephony.events import CallEnded, Consumer, DomainEvent

if TYPE_CHECKING:
    from telephony.bridge import Bridge

log = logging.getLogger(__name__)

LINKEDID_PREFIX = "cc-cb-"
TICK_S = 1.0
RECOVER_S = 10.0
IN_FLIGHT_S = 5.0  # an attempt this young may be between its commit and its Originate
NUMBER = re.compile(r"^[0-9]{3,20}$")
OUTCOMES = {"answered": "answered", "no_answer": "no_answer", "busy": "busy", "failed": "failed"}


def outcome_after_restart(mark: str | None, logged: str | None) -> str:
    """An attempt whose call ended while nobody listened: by the Dial status Asterisk kept
    (telephony/calls/dial_marks.py) read as the call log reads it, else by the call log; failed (so
    retried) when neither knows."""
    if mark is None or mark == DIALLING:
        return OUTCOMES.get(logged or "", "failed")
    return Disposition.ANSWERED.value if mark == "ANSWER" else DIAL_DISPOSITIONS.get(mark, Disposition.FAILED).value


def attempt_linkedid(callback_id: int, attempt: int) -> str:
    return f"{LINKEDID_PREFIX}{callback_id}-{attempt}"


def place_in_queue(waiting: list[tuple[int, datetime]], priority: int, since: datetime) -> int:
    """app_queue's position for a caller of ``priority`` who joined at ``since``, among the callers
    waiting now as (priority, joined at): behind those of higher priority and those of the same
    priority who joined earlier, ahead of everyone else."""
    return 1 + sum(1 for p, joined in waiting if p > priority or (p == priority and joined <= since))


class CallbackService:
    def __init__(self, bridge: Bridge, sessions: Callable[[], AsyncSession], queues: list[QueueSettings]) -> None:
        self._bridge = bridge
        self._sessions = sessions
        self._queues = {queue.name: queue for queue in queues}
        self._placed: dict[str, float] = {}  # linkedid → monotonic time placed, by this process
        self._placing: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one placing pass at a time: the tick and a new request
        self._task: asyncio.Task[None] | None = None
        self._consumer: Consumer | None = None
        self.originated = 0  # stand-ins placed by this process

    def start(self) -> None:
        self._consumer = Consumer(self._bridge.bus, [CallEnded], self._on_ended, name="queue-callbacks")
        self._task = asyncio.create_task(self._run(), name="queue-callbacks")

    async def close(self) -> None:
        for task in list(self._placing):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        next_recovery = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() >= next_recovery:
                    await self.recover()
                    next_recovery = loop.time() + RECOVER_S
                await self.place_due()
            except Exception:  # noqa: BLE001 - a database outage or one bad row never stops the callbacks
                log.exception("queue callbacks: tick failed; again in %.1f s", TICK_S)
            # No queue offers callbacks: no request can come, and those left from before are placed
            # at the recovery's pace, without a query a second for nothing.
            offered = any(queue.callback_after_s for queue in self._queues.values())
            await asyncio.sleep(TICK_S if offered else RECOVER_S)

    async def _on_ended(self, event: DomainEvent) -> None:
        call = event.call  # type: ignore[attr-defined]
        if call.callback_id is not None:
            outcome = OUTCOMES.get(call.disposition or "", "failed") if call.answered_at is not None else "no_agent"
            await self._settle(call.linkedid, outcome)

    async def agi_request(self, headers: dict[str, str]) -> dict[str, str]:
        """``AGI(…/callback,<queue>,<number>,<priority>,<customer id>,<queued at: epoch>,<linkedid>)``:
        store the request and answer ``CC_CALLBACK_ID``; nothing when it is refused, and the caller
        goes back to the queue. Every argument is the dialplan's, but bounded and checked here."""
        args = [headers.get(f"agi_arg_{n}", "").strip() for n in range(1, 7)]
        queue_name, number, priority, customer, queued_at, linkedid = args
        queue = self._queues.get(queue_name)
        if queue is None or not queue.callback_after_s:
            log.warning("callback asked in queue %r, which offers none", queue_name[:64])
            return {}
        if not NUMBER.match(number) or not 0 < len(linkedid) <= 64:
            log.warning("callback refused: number %r, call %r", number[:40], linkedid[:64])
            return {}
        now = utcnow()
        known = self._bridge.find_call(linkedid)  # the bridge's time of joining is the one it orders the queue by
        since = (known.queued_at if known is not None else None) or _epoch(queued_at)
        request = store.Request(
            requested_linkedid=linkedid, queue=queue.name, number=number, customer_id=_int(customer),
            priority=_int(priority) or 0, waiting_since=since if since and since <= now else now,
            max_attempts=queue.callback_attempts, retry_s=queue.callback_retry_s,
        )  # fmt: skip
        async with self._sessions() as session, session.begin():
            row = await store.add(session, request) or await store.of_call(session, linkedid)
            callback_id = row.id if row is not None else None
        if callback_id is None:
            return {}
        self._spawn_placing()
        return {"CC_CALLBACK_ID": str(callback_id)}

    def _spawn_placing(self) -> None:
        """Place the new stand-in now rather than at the next tick; the AGI answers meanwhile. Only
        where the callbacks run (the owner of the telephony): another worker's FastAGI stores the
        request and the owner's next tick places it."""
        if self._task is None:
            return

        async def place() -> None:
            try:
                await self.place_due()
            except Exception:  # noqa: BLE001 - the tick places it again
                log.exception("queue callbacks: placing failed; the next tick tries again")

        task = asyncio.create_task(place())
        self._placing.add(task)
        task.add_done_callback(self._placing.discard)

    async def place_due(self) -> int:
        """Place the stand-ins of the requests that are due; how many."""
        if not any(client.connected for client in self._bridge.clients.values()):
            return 0
        async with self._lock:
            async with self._sessions() as session:
                due = await store.due(session)
            placed = 0
            for row in due:
                placed += await self._place(row)
            return placed

    async def _place(self, row: store.QueueCallback) -> bool:
        linkedid = attempt_linkedid(row.id, row.attempts + 1)
        async with self._sessions() as session, session.begin():
            if not await store.start_attempt(session, row.id, linkedid):
                return False
        queue = self._queues.get(row.queue) or QueueSettings(name=row.queue)
        # A retry's turn has come already: it goes to the front (of its priority).
        since = row.waiting_since if row.attempts == 0 else datetime.min.replace(tzinfo=row.waiting_since.tzinfo)
        position = place_in_queue(self._waiting(row.queue), row.priority, since)
        server = self._bridge.settings.asterisk[0].name
        self._bridge.calls[server].expect_callback(
            linkedid, callback_id=row.id, number=row.number, queue=row.queue, customer_id=row.customer_id,
            waiting_since=row.waiting_since, priority=row.priority,
        )  # fmt: skip
        wait_s = queue.max_wait_s or 4 * 3600
        self._placed[linkedid] = asyncio.get_running_loop().time()
        try:
            await self._bridge.client(server).originate(
                Channel=f"Local/cb-{row.id}@cc-callback-queue/n",
                Context="cc-callback",
                Exten=row.number,
                Priority="1",
                CallerID=f'"callback" <{row.number}>',
                ChannelId=linkedid,
                OtherChannelId=f"{linkedid}-2",
                Timeout=str((wait_s + 60) * 1000),
                Variable=[
                    f"__CC_QUEUE={row.queue}", f"__CC_PRIORITY={row.priority}", f"__CC_POSITION={position}",
                    f"__CC_QUEUE_TIMEOUT={queue.max_wait_s or ''}", "CC_RING_S=30",
                ],
            )  # fmt: skip
        except (AmiError, TimeoutError) as error:
            log.warning("callback %d: stand-in not placed: %s", row.id, error)
            await self._settle(linkedid, "failed")
            return False
        self.originated += 1
        log.info("callback %d (attempt %d) waits in %s at position %d", row.id, row.attempts + 1, row.queue, position)
        return True

    def _waiting(self, queue: str) -> list[tuple[int, datetime]]:
        """The callers (and stand-ins) in ``queue`` now: (priority, when they joined the queue)."""
        return [
            (call.priority, call.waiting_since or call.queued_at or call.started_at)
            for call in self._bridge.live_calls()
            if call.queue == queue and call.position is not None
        ]

    async def _settle(self, linkedid: str, outcome: str) -> None:
        self._placed.pop(linkedid, None)
        async with self._sessions() as session, session.begin():
            row = await store.finish(session, linkedid, outcome)
        await forget_dial_mark(self._bridge.clients.values(), linkedid)
        if row is not None:
            log.info("callback %d: attempt %d %s → %s", row.id, row.attempts, outcome, row.status)

    async def recover(self) -> int:
        """Settle the attempts the database holds as calling whose call is up nowhere; how many."""
        if self._bridge.resyncs < len(self._bridge.clients):
            return 0
        async with self._sessions() as session:
            rows = await store.calling(session)
        now, clock = utcnow(), asyncio.get_running_loop().time()
        candidates = [
            row.linkedid for row in rows
            if row.linkedid and (now - row.updated_at).total_seconds() >= IN_FLIGHT_S
            and clock - self._placed.get(row.linkedid, 0.0) >= IN_FLIGHT_S
        ]  # fmt: skip
        try:
            gone = await self._bridge.calls_gone(candidates)
        except (AmiError, TimeoutError) as error:
            log.warning("queue callbacks: cannot list Asterisk's channels (%s); recovery waits", error)
            return 0
        settled = 0
        for linkedid in gone:
            try:
                mark = await dial_mark(self._bridge.clients.values(), linkedid)
            except (AmiError, TimeoutError) as error:
                log.warning("queue callbacks: cannot read Asterisk's dial marks (%s); recovery waits", error)
                break
            async with self._sessions() as session:
                logged = await store.logged_outcome(session, linkedid)
            await self._settle(linkedid, outcome_after_restart(mark, logged))
            settled += 1
        return settled


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _epoch(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None
