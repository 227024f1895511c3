"""Who monitors whom: the leaders' ChanSpy legs now up, as domain events every worker sees.

A listen, whisper or barge starts when our Originate for the leader's phone is accepted, and ends
when that leg hangs up — stopped from the wallboard, the leader's own phone put down, never
answered, or the agent's call over (ChanSpy's ``E`` option leaves with it). Asterisk's Hangup is
the one end, so the picture is right whoever or whatever ended it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from telephony.events import AgentMonitored

MAX_LEGS = 100  # a bound on what is remembered, should Hangups be lost (a reconnect)


@dataclass(frozen=True)
class SpyLeg:
    leader: str
    leader_name: str
    agent: str
    mode: str
    server: str


class Monitors:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._legs: dict[str, SpyLeg] = {}  # spy_id (the leader's channel's Uniqueid) → its leg
        self._clock = clock

    def get(self, spy_id: str) -> SpyLeg | None:
        return self._legs.get(spy_id)

    def started(self, spy_id: str, leg: SpyLeg) -> AgentMonitored:
        self._legs = {**dict(list(self._legs.items())[-(MAX_LEGS - 1) :]), spy_id: leg}
        return self._event(spy_id, leg, leg.mode)

    def handle(self, server: str, event: Mapping[str, str]) -> list[AgentMonitored]:
        """The end of a leg, from its channel's Hangup."""
        if event.get("Event") != "Hangup":
            return []
        spy_id = event.get("Uniqueid", "")
        leg = self._legs.get(spy_id)
        if leg is None or leg.server != server:
            return []
        return [ended] if (ended := self.ended(spy_id)) is not None else []

    def ended(self, spy_id: str) -> AgentMonitored | None:
        """The leg is over (its Hangup, or Asterisk no longer knows its channel)."""
        leg = self._legs.pop(spy_id, None)
        return None if leg is None else self._event(spy_id, leg, None)

    def _event(self, spy_id: str, leg: SpyLeg, mode: str | None) -> AgentMonitored:
        return AgentMonitored(server=leg.server, at=self._clock(), agent=leg.agent, spy_id=spy_id, leader=leg.leader,
                              leader_name=leg.leader_name, mode=mode)  # fmt: skip
