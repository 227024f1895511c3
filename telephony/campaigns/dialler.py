"""The progressive dialler: each agent who joined a running progressive campaign and whom the bridge
sees available gets the campaign's next due contact — one call per agent, never more calls than
free agents. The attempt is committed before the call is placed; when the call ends its outcome
settles the attempt and the contact's next step (crm/campaigns/store.finish).

Restart-safe: every ``RECOVER_S`` (and first at start) the attempts the database still holds as
dialling whose call the bridge does not have are settled from the call log — or as failed when
Asterisk never had the call — so none is forgotten and none is dialled again for that attempt.
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
from crm.campaigns.plan import outcome_from_log, outcome_of
from telephony.events import CallEnded, Consumer, DomainEvent
from telephony.outbound.dialer import DialError, NotDialable

if TYPE_CHECKING:
    from telephony.bridge import Bridge

log = logging.getLogger(__name__)

LINKEDID_PREFIX = "cc-camp-"  # a campaign call is known by its Linkedid, also after a restart
TICK_S = 0.5
RECOVER_S = 10.0
IN_FLIGHT_S = 40.0  # an attempt this young may still be on its way to Asterisk: never settled by recovery
AGENT_BACKOFF_S = 5.0  # an agent whose call could not be placed waits this long for the next


class CampaignDialler:
    def __init__(self, bridge: Bridge, sessions: Callable[[], AsyncSession], *, region: str) -> None:
        self._bridge = bridge
        self._sessions = sessions
        self._region = region
        self._calls: dict[str, tuple[str, float]] = {}  # linkedid → (agent, monotonic time placed)
        self._backoff: dict[str, float] = {}  # agent → not before (monotonic)
        self._task: asyncio.Task[None] | None = None
        self._consumer: Consumer | None = None
        self.placed = 0  # calls placed since start (the benchmark and the tests read it)

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
            await asyncio.sleep(TICK_S)

    async def tick(self) -> int:
        """Give each free joined agent a call; how many calls were placed."""
        if not any(client.connected for client in self._bridge.clients.values()):
            return 0
        async with self._sessions() as session:
            joined = await store.dialling_agents(session)
        busy = set(self.calling())
        placed = 0
        now = time.monotonic()
        for campaign_id, agents in joined.items():
            for agent in agents:
                if agent in busy or self._backoff.get(agent, 0.0) > now or not self._bridge.agents.is_available(agent):
                    continue
                if not await self._place(campaign_id, agent):
                    break  # nothing due in this campaign now
                busy.add(agent)
                placed += 1
        return placed

    async def _place(self, campaign_id: int, agent: str) -> bool:
        linkedid = f"{LINKEDID_PREFIX}{uuid.uuid4().hex[:16]}"
        async with self._sessions() as session, session.begin():
            claim = await store.claim(session, campaign_id, agent, linkedid=linkedid, region=self._region)
        if claim is None:
            return False
        self._calls[linkedid] = (agent, time.monotonic())
        try:
            await self._bridge.dialer.dial_for_campaign(
                agent, claim.number, linkedid=linkedid, campaign_id=campaign_id, customer_id=claim.customer_id, caller_id=claim.caller_id,
                ring_s=claim.ring_s,
            )
        except DialError as error:
            log.warning("campaign %d: contact %d not dialled: %s", campaign_id, claim.contact_id, error)
            self._calls.pop(linkedid, None)
            self._backoff[agent] = time.monotonic() + AGENT_BACKOFF_S
            await self._settle(linkedid, "failed" if isinstance(error, NotDialable) else None)
            return True
        self.placed += 1
        return True

    async def _on_ended(self, event: DomainEvent) -> None:
        call = event.call  # type: ignore[attr-defined]
        if not call.linkedid.startswith(LINKEDID_PREFIX):
            return
        placed = self._calls.pop(call.linkedid, None)
        if call.adopted or placed is None:  # followed since a reconnection: only the call log's facts
            outcome = outcome_from_log(call.disposition)
        else:
            outcome = outcome_of(call.disposition, call.dial_status)
            if outcome is None:  # the agent did not take the call: not the contact's attempt
                self._backoff[placed[0]] = time.monotonic() + AGENT_BACKOFF_S
        await self._settle(call.linkedid, outcome)

    async def _settle(self, linkedid: str, outcome: str | None) -> None:
        async with self._sessions() as session, session.begin():
            await store.finish(session, linkedid, outcome)

    async def recover(self) -> int:
        """Settle the attempts the database holds as dialling whose call is not live here; how many.
        Not before every server's first snapshot: until then a live call may not be known yet."""
        if self._bridge.resyncs < len(self._bridge.clients):
            return 0
        async with self._sessions() as session:
            open_attempts = await store.open_attempts(session)
        settled = 0
        now = time.monotonic()
        for linkedid, disposition in open_attempts:
            placed = self._calls.get(linkedid)
            if self._bridge.find_call(linkedid) is not None or (placed is not None and now - placed[1] < IN_FLIGHT_S):
                continue
            self._calls.pop(linkedid, None)
            await self._settle(linkedid, outcome_from_log(disposition))
            settled += 1
        if settled:
            log.info("campaign dialler: %d attempt(s) settled from the call log", settled)
        return settled
