"""The progressive dialler: each agent who joined a running progressive campaign and whom the bridge
sees available gets the campaign's next due contact — one call per agent, never more calls than
free agents. The attempt is committed before the call is placed; when the call ends its outcome
settles the attempt and the contact's next step (crm/campaigns/store.finish).

Restart-safe: every ``RECOVER_S`` (and first once the bridge has its snapshot) the attempts the
database still holds as dialling whose call is up neither in the bridge nor in Asterisk's channel
list are settled from the dial mark Asterisk kept (telephony/calls/dial_marks.py) — a customer who
answered while we were down is connected, one never dialled is due again without the attempt
counting — so none is forgotten and none is dialled again for that attempt. A call still up after a restart is adopted
by the bridge (or waited for) and settles when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from crm.campaigns import store
from crm.campaigns.plan import outcome_after_restart, outcome_of
from crm.db import utcnow
from telephony.ami import AmiError
from telephony.calls.dial_marks import dial_mark, forget_dial_mark
from telephony.events import CallEnded, Consumer, DomainEvent
from telephony.outbound.dialer import CAMPAIGN, DialError, NotDialable

if TYPE_CHECKING:
    from telephony.bridge import Bridge

log = logging.getLogger(__name__)

LINKEDID_PREFIX = CAMPAIGN  # a campaign call is known by its Linkedid, also after a restart
TICK_S = 0.5
QUIET_TICK_S = 2.0  # while no agent has joined a running campaign: a join is noticed within this
RECOVER_S = 10.0
IN_FLIGHT_S = 5.0  # an attempt this young may be between its commit and its Originate (here or in another process)
AGENT_BACKOFF_S = 5.0  # an agent whose call could not be placed waits this long for the next


class CampaignDialler:
    def __init__(self, bridge: Bridge, sessions: Callable[[], AsyncSession]) -> None:
        self._bridge = bridge
        self._sessions = sessions
        self._calls: dict[str, tuple[str, float]] = {}  # linkedid → (agent, monotonic time placed)
        self._backoff: dict[str, float] = {}  # agent → not before (monotonic)
        self._task: asyncio.Task[None] | None = None
        self._joined = True  # until the first tick says otherwise
        self._consumer: Consumer | None = None

    def start(self) -> None:
        self._consumer = Consumer(self._bridge.bus, [CallEnded], self._on_ended, name="campaign-dialler-ended")
        self._task = asyncio.create_task(self._run(), name="campaign-dialler")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    def calling(self) -> dict[str, str]:
        """Agent → the Linkedid of the campaign call they were given (until it ends)."""
        return {agent: linkedid for linkedid, (agent, _) in self._calls.items()}

    async def _run(self) -> None:
        next_recovery = 0.0
        while True:
            try:
                if time.monotonic() >= next_recovery:
                    await self.recover()
                    next_recovery = time.monotonic() + RECOVER_S
                await self.tick()
            except Exception:  # noqa: BLE001 - a database outage or one bad row never stops the dialler
                log.exception("campaign dialler: tick failed; again in %.1f s", TICK_S)
            await asyncio.sleep(TICK_S if self._joined else QUIET_TICK_S)

    async def tick(self) -> int:
        """Give each free joined agent a call: per campaign, one transaction claims the contacts of all
        its free agents, then their calls are placed together. How many were placed."""
        if not any(client.connected for client in self._bridge.clients.values()):
            return 0
        async with self._sessions() as session:
            joined = await store.dialling_agents(session)
        self._joined = bool(joined)
        busy = set(self.calling())
        placed = 0
        now = time.monotonic()
        for campaign_id, agents in joined.items():
            free = [a for a in agents if a not in busy and self._backoff.get(a, 0.0) <= now and self._bridge.agents.is_available(a)]
            if not free:
                continue
            callers = [(agent, f"{LINKEDID_PREFIX}{uuid.uuid4().hex[:16]}") for agent in free]
            async with self._sessions() as session, session.begin():
                claims = await store.claim_for(session, campaign_id, callers)
            agent_of = dict((linkedid, agent) for agent, linkedid in callers)
            for claim in claims:
                self._calls[claim.linkedid] = (agent_of[claim.linkedid], time.monotonic())
                busy.add(agent_of[claim.linkedid])
            results = await asyncio.gather(*(self._place(agent_of[claim.linkedid], claim) for claim in claims))
            placed += sum(results)
        return placed

    async def _place(self, agent: str, claim: store.Claim) -> bool:
        try:
            await self._bridge.dialer.dial_for_campaign(
                agent, claim.number, linkedid=claim.linkedid, campaign_id=claim.campaign_id, customer_id=claim.customer_id,
                caller_id=claim.caller_id, ring_s=claim.ring_s,
            )
        except DialError as error:
            log.warning("campaign %d: contact %d not dialled: %s", claim.campaign_id, claim.contact_id, error)
            self._calls.pop(claim.linkedid, None)
            self._backoff[agent] = time.monotonic() + AGENT_BACKOFF_S
            await self._settle(claim.linkedid, "failed" if isinstance(error, NotDialable) else None)
            return False
        return True

    async def _on_ended(self, event: DomainEvent) -> None:
        call = event.call  # type: ignore[attr-defined]
        if not call.linkedid.startswith(LINKEDID_PREFIX):
            return
        placed = self._calls.pop(call.linkedid, None)
        outcome = outcome_of(call.disposition, call.dial_status)  # also for a call adopted after a restart
        if outcome is None and placed is not None:  # the agent did not take the call: not the contact's attempt
            self._backoff[placed[0]] = time.monotonic() + AGENT_BACKOFF_S
        await self._settle(call.linkedid, outcome)

    async def _settle(self, linkedid: str, outcome: str | None) -> None:
        async with self._sessions() as session, session.begin():
            await store.finish(session, linkedid, outcome)
        await forget_dial_mark(self._bridge.clients.values(), linkedid)

    async def recover(self) -> int:
        """Settle the attempts the database holds as dialling whose call is not live anywhere; how
        many. An attempt younger than ``IN_FLIGHT_S`` may not have reached Asterisk yet, and a call
        the bridge does not follow (placed before a restart, still ringing its agent at the
        snapshot) may still be up: Asterisk's own channel list is asked before anything is settled."""
        if self._bridge.resyncs < len(self._bridge.clients):
            return 0
        async with self._sessions() as session, session.begin():
            await store.release_stale(session)  # previewed contacts whose agent went away
            open_attempts = await store.open_attempts(session)
        now, clock = utcnow(), time.monotonic()
        by_call = {
            attempt.linkedid: attempt for attempt in open_attempts
            if (now - attempt.started_at).total_seconds() >= IN_FLIGHT_S
            and clock - self._calls.get(attempt.linkedid, ("", 0.0))[1] >= IN_FLIGHT_S
        }  # fmt: skip
        try:
            gone = await self._bridge.calls_gone(list(by_call))
        except (AmiError, TimeoutError) as error:
            log.warning("campaign dialler: cannot list Asterisk's channels (%s); recovery waits", error)
            return 0
        settled = 0
        for linkedid in gone:
            try:
                mark = await dial_mark(self._bridge.clients.values(), linkedid)
            except (AmiError, TimeoutError) as error:
                log.warning("campaign dialler: cannot read Asterisk's dial marks (%s); recovery waits", error)
                break
            self._calls.pop(linkedid, None)
            await self._settle(linkedid, outcome_after_restart(mark, by_call[linkedid].disposition))
            settled += 1
        if settled:
            log.info("campaign dialler: %d attempt(s) settled from Asterisk's dial marks and the call log", settled)
        return settled
