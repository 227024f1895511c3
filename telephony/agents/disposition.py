"""No new call before the last one has a disposition code (agents.disposition_required).

When an agent's call ends without a code, the agent is paused in Asterisk with the reserved reason
``disposition`` at once. app_queue's wrap-up time still runs, so the desktop shows the wrap-up
countdown first; when it ends the agent shows as paused, "disposition required", and app_queue
offers them nothing. Saving the code (the record form or ``PATCH /api/calls/{id}``) unpauses them,
and going available is refused until then.

A code can only be saved on the call's row, so the guard first waits for the call log to store the
call. If it does not (the database is away, or refused the record), the agent is not held: a pause
nobody could lift would strand them.

TelephonyService builds the guard; the web app starts and stops it, since a code can only be given
there (without the app nobody would be held for one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import DISPOSITION_PAUSE
from crm.models import Call
from telephony.agents.control import AgentControl, AgentControlError
from telephony.agents.tracker import AgentTracker
from telephony.calllog.writer import CallLogWriter
from telephony.calls.state import CallSnapshot
from telephony.events import CallEnded, Consumer, DomainEvent, EventBus

log = logging.getLogger(__name__)

STORED_WAIT_S = 5.0  # how long a call's row may take to reach the database before the agent is let go


def needs_disposition(call: CallSnapshot) -> bool:
    """Calls an agent must code: those they talked on, and every click-to-dial attempt they made. A
    campaign's unanswered attempt is the dialler's, coded by its outcome (no answer, busy)."""
    return bool(call.agent) and (call.answered_at is not None or (call.direction == "outbound" and call.campaign_id is None))


class DispositionGuard:
    def __init__(
        self, bus: EventBus, calllog: CallLogWriter, agents: AgentTracker, control: AgentControl, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._bus = bus
        self._calllog = calllog
        self._agents = agents
        self._control = control
        self._sessions = sessions
        self._pending: dict[str, str] = {}  # agent extension → the Linkedid waiting for a code
        self._consumer: Consumer | None = None
        self._checks: set[asyncio.Task[None]] = set()

    def pending(self, extension: str) -> str | None:
        return self._pending.get(extension)

    async def start(self) -> None:
        """Follow the calls' ends from now on; nobody is awaited yet (a web app started again over the
        same telephony starts, as a restarted server does, with no code owed)."""
        self._pending.clear()
        self._consumer = Consumer(self._bus, [CallEnded], self._call_ended, "disposition-guard")

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        for check in list(self._checks):
            check.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)

    async def _call_ended(self, event: DomainEvent) -> None:
        assert isinstance(event, CallEnded)
        if needs_disposition(event.call):  # each call waits for its row on its own: none holds up the next
            check = asyncio.create_task(self._hold_for_code(event.call), name=f"disposition-{event.call.linkedid}")
            self._checks.add(check)
            check.add_done_callback(self._checked)

    def _checked(self, check: asyncio.Task[None]) -> None:
        self._checks.discard(check)
        if not check.cancelled() and check.exception() is not None:
            log.error("disposition guard failed", exc_info=check.exception())

    async def _hold_for_code(self, call: CallSnapshot) -> None:
        agent = call.agent or ""
        stored = await self._calllog.stored(call.linkedid, STORED_WAIT_S)
        if not stored:
            log.warning(
                "disposition guard: call %s is not in the call log (%s); agent %s is not held for its code",
                call.linkedid, "refused" if stored is False else "database away", agent,
            )  # fmt: skip
            return
        async with self._sessions() as session:
            code = await session.scalar(select(Call.disposition_code).where(Call.linkedid == call.linkedid))
        if code:
            return
        self._pending[agent] = call.linkedid
        try:
            await self._control.pause_for_disposition(agent, server=call.server)
        except AgentControlError as error:  # not logged in to any queue: nothing would be offered anyway
            log.info("disposition guard: %s", error)

    async def settled(self, extension: str | None, linkedid: str) -> None:
        """A disposition code was saved for ``linkedid``: release its agent if it was the one awaited."""
        if not extension:
            return
        awaited = self._pending.get(extension)
        if awaited not in (None, linkedid):
            return
        self._pending.pop(extension, None)
        agent = self._agents.get(extension)
        if agent is not None and agent.pause_reason == DISPOSITION_PAUSE:
            with contextlib.suppress(AgentControlError):
                await self._control.unpause(extension, server=agent.server)
