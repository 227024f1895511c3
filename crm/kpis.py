"""The KPI arithmetic shared by the live wallboard and the reports (definitions: docs/kpis.md).

Both feed :class:`CallFacts` — one call as the KPIs see it — into tallies. The wallboard puts a
call's facts again each time the call changes; a tally first takes back what the call's previous
facts added, so the figures are always the same function of the latest facts of each call, live
or rebuilt from the call log, and the wallboard agrees with the report of the same day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from config.settings import QueueSettings

ANSWERED, ABANDONED, NO_AGENT, OUT_OF_HOURS = "answered", "abandoned", "no_agent", "out_of_hours"
CALLBACK = "callback"  # the caller left the queue asking to be called back (docs/callbacks.md)


@dataclass(frozen=True, slots=True)
class CallFacts:
    linkedid: str
    direction: str  # inbound | outbound
    queue: str | None  # the entry queue: where the call first went
    agent: str | None  # the extension of the (last) agent on the call
    counted_at: datetime  # when the call joined its queue, or started if it never did
    answered: bool
    ended: bool
    disposition: str | None  # set once ended
    closed: bool = False  # routed out of hours
    wait_s: float | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_s: float = 0.0
    transferred: bool = False
    satisfaction: int | None = None  # the caller's survey key, 1-5 (None: not asked or no answer)

    @classmethod
    def from_call(cls, call: Any) -> CallFacts:
        """From anything shaped like a call row (crm.models.Call or the bridge's call snapshot)."""
        direction = getattr(call.direction, "value", call.direction)
        disposition = getattr(call.disposition, "value", call.disposition)
        agent = getattr(call, "agent_extension", None) or getattr(call, "agent", None)
        return cls(
            linkedid=call.linkedid,
            direction=direction,
            queue=call.entry_queue or call.queue,
            agent=agent,
            counted_at=call.queued_at or call.started_at,
            answered=call.answered_at is not None,
            ended=call.ended_at is not None,
            disposition=disposition,
            closed=call.route == "closed" or disposition == OUT_OF_HOURS,
            wait_s=call.wait_s,
            talk_s=call.talk_s or 0.0,
            hold_s=call.hold_s or 0.0,
            wrapup_s=getattr(call, "wrapup_s", None) or 0.0,
            transferred=bool(call.transfers),
            satisfaction=getattr(call, "satisfaction", None),
        )


@dataclass(frozen=True)
class Thresholds:
    service_level_s: float = 20
    service_level_target: float = 0.8
    short_abandon_s: float = 5


def thresholds_by_queue(queues: Iterable[QueueSettings]) -> Callable[[str | None], Thresholds]:
    """Each configured queue's thresholds; the defaults for a queue no longer configured."""
    known = {q.name: Thresholds(q.service_level_s, q.service_level_target, q.short_abandon_s) for q in queues}
    return lambda name: known.get(name or "", Thresholds())


@dataclass
class _Sums:
    """Additive counts; a call's contribution is one of these, taken back when it changes."""

    def add(self, other: _Sums, sign: int = 1) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + sign * getattr(other, f.name))


@dataclass
class QueueSums(_Sums):
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    no_agent: int = 0
    callbacks: int = 0  # callers who left asking to be called back: neither answered nor abandoned
    answered_in_sl: int = 0
    wait_s: float = 0.0  # of answered calls
    handled: int = 0  # answered and ended: the calls whose handle time is known
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_s: float = 0.0
    transferred: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0  # scored 4 or 5
    csat_points: int = 0


@dataclass
class AgentSums(_Sums):
    handled: int = 0  # answered calls that ended, both directions
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_s: float = 0.0
    transferred: int = 0
    outbound_attempts: int = 0
    outbound_connects: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_points: int = 0


SATISFIED = 4  # CSAT counts the callers who pressed 4 or 5


def _satisfaction(sums: QueueSums | AgentSums, facts: CallFacts) -> None:
    if facts.satisfaction is not None:
        sums.csat_responses, sums.csat_points = 1, facts.satisfaction
        sums.csat_satisfied = int(facts.satisfaction >= SATISFIED)


def _csat(sums: QueueSums | AgentSums) -> dict[str, Any]:
    return {
        "csat_responses": sums.csat_responses,
        "csat": _ratio(sums.csat_satisfied, sums.csat_responses, 4),
        "csat_avg": _ratio(sums.csat_points, sums.csat_responses, 2),
    }


def queue_contribution(facts: CallFacts, limits: Thresholds) -> QueueSums:
    sums = QueueSums()
    if facts.direction != "inbound" or facts.queue is None or facts.closed:
        return sums
    sums.offered = 1
    sums.transferred = int(facts.transferred)
    if facts.answered:
        sums.answered = 1
        sums.wait_s = facts.wait_s or 0.0
        sums.answered_in_sl = int((facts.wait_s or 0.0) <= limits.service_level_s)
        if facts.ended:
            sums.handled = 1
            sums.talk_s, sums.hold_s, sums.wrapup_s = facts.talk_s, facts.hold_s, facts.wrapup_s
        _satisfaction(sums, facts)
    elif facts.disposition == ABANDONED:
        sums.abandoned = 1
        sums.short_abandoned = int((facts.wait_s or 0.0) < limits.short_abandon_s)
    elif facts.disposition == NO_AGENT:
        sums.no_agent = 1
    elif facts.disposition == CALLBACK:
        sums.callbacks = 1
    return sums


def agent_contribution(facts: CallFacts) -> AgentSums:
    sums = AgentSums()
    if facts.direction == "outbound":
        sums.outbound_attempts = 1
        sums.outbound_connects = int(facts.answered)
    if facts.answered and facts.ended:
        sums.handled = 1
        sums.talk_s, sums.hold_s, sums.wrapup_s = facts.talk_s, facts.hold_s, facts.wrapup_s
        sums.transferred = int(facts.transferred)
        _satisfaction(sums, facts)
    return sums


def _ratio(part: float, whole: float, digits: int = 1) -> float | None:
    return round(part / whole, digits) if whole else None


def queue_figures(sums: QueueSums, longest_talk_s: float = 0.0) -> dict[str, Any]:
    """The KPIs of docs/kpis.md from a queue's sums."""
    resolved = sums.answered + sums.abandoned + sums.no_agent - sums.short_abandoned
    handle = sums.talk_s + sums.hold_s + sums.wrapup_s
    return {
        "offered": sums.offered,
        "answered": sums.answered,
        "abandoned": sums.abandoned,
        "short_abandoned": sums.short_abandoned,
        "no_agent": sums.no_agent,
        "callbacks": sums.callbacks,
        "transferred": sums.transferred,
        "service_level": _ratio(sums.answered_in_sl, resolved, 4),
        "abandon_rate": _ratio(sums.abandoned, sums.offered, 4),
        "asa_s": _ratio(sums.wait_s, sums.answered),
        "aht_s": _ratio(handle, sums.handled),
        "avg_talk_s": _ratio(sums.talk_s, sums.handled),
        "avg_hold_s": _ratio(sums.hold_s, sums.handled),
        "avg_wrapup_s": _ratio(sums.wrapup_s, sums.handled),
        "longest_talk_s": round(longest_talk_s, 1),
        **_csat(sums),
    }


def agent_figures(sums: AgentSums) -> dict[str, Any]:
    handle = sums.talk_s + sums.hold_s + sums.wrapup_s
    return {
        "handled": sums.handled,
        "talk_s": round(sums.talk_s, 1),
        "aht_s": _ratio(handle, sums.handled),
        "avg_wrapup_s": _ratio(sums.wrapup_s, sums.handled),
        "hold_s": round(sums.hold_s, 1),
        "transferred": sums.transferred,
        "outbound_attempts": sums.outbound_attempts,
        "outbound_connects": sums.outbound_connects,
        **_csat(sums),
    }


@dataclass
class Tally:
    """Queue and agent sums over a set of calls; :meth:`put` a call's latest facts any number of times."""

    limits_for: Callable[[str | None], Thresholds] = field(default=lambda queue: Thresholds())
    queues: dict[str, QueueSums] = field(default_factory=dict)
    agents: dict[str, AgentSums] = field(default_factory=dict)
    longest_talk_s: dict[str, float] = field(default_factory=dict)
    _seen: dict[str, tuple[CallFacts, QueueSums, AgentSums]] = field(default_factory=dict)

    def put(self, facts: CallFacts) -> None:
        previous = self._seen.get(facts.linkedid)
        if previous is not None:
            old, old_queue, old_agent = previous
            if old.queue is not None:
                self.queues[old.queue].add(old_queue, -1)
            if old.agent is not None:
                self.agents[old.agent].add(old_agent, -1)
        queue_part = queue_contribution(facts, self.limits_for(facts.queue)) if facts.queue else QueueSums()
        agent_part = agent_contribution(facts) if facts.agent else AgentSums()
        if facts.queue is not None:
            self.queues.setdefault(facts.queue, QueueSums()).add(queue_part)
            if queue_part.handled:
                self.longest_talk_s[facts.queue] = max(self.longest_talk_s.get(facts.queue, 0.0), facts.talk_s)
        if facts.agent is not None:
            self.agents.setdefault(facts.agent, AgentSums()).add(agent_part)
        self._seen[facts.linkedid] = (facts, queue_part, agent_part)

    def facts(self, linkedid: str) -> CallFacts | None:
        seen = self._seen.get(linkedid)
        return seen[0] if seen else None

    def queue_figures(self, queue: str) -> dict[str, Any]:
        return queue_figures(self.queues.get(queue, QueueSums()), self.longest_talk_s.get(queue, 0.0))

    def agent_figures(self, agent: str) -> dict[str, Any]:
        return agent_figures(self.agents.get(agent, AgentSums()))
