"""The live picture a team leader watches: per queue, who waits and today's figures; per agent,
their state, call and day. Pure and synchronous — events and a clock in, payloads out — so the
service around it (service.py) only has to feed it and push what changed. Payloads: docs/api.md.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter, deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from config import Settings
from config.settings import QueueSettings
from crm.kpis import CallFacts, Tally, thresholds_by_queue
from crm.privacy import mask_phone
from crm.staffing import required_agents
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.agents.wrapup import WrapUpClock
from telephony.calls.state import CallPhase, CallSnapshot
from telephony.events import AgentMonitored, AgentStateChanged, CallEnded, CallEvent, DomainEvent, SurveyAnswered

ARRIVALS_WINDOW = timedelta(minutes=15)  # the arrival rate behind the staffing advice
WAITING = (CallPhase.QUEUED, CallPhase.RINGING)
DEFAULT_CALL_MIN = QueueSettings.model_fields["alert_call_min"].default  # outbound calls have no queue


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def agent_state_payload(agent: AgentSnapshot) -> dict[str, Any]:
    """The fields of ``agent.state`` that the desktop and the wallboard share."""
    return {
        "agent": agent.extension,
        "state": agent.state.value,
        "reason": agent.reason,
        "since": agent.since.isoformat(),
        "call_id": agent.call,
        "pause_reason": agent.pause_reason,
        "wrapup_until": _iso(agent.wrapup_until),
    }


ALERT_KINDS = ("service_level", "long_wait", "long_call", "long_pause", "ticket_overdue", "task_overdue")


@dataclass(frozen=True)
class Alert:
    kind: str  # one of ALERT_KINDS
    queue: str | None
    agent: str | None
    value: float
    threshold: float

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.kind, self.queue, self.agent)

    def payload(self, active: bool, at: datetime) -> dict[str, Any]:
        return {
            "kind": self.kind, "queue": self.queue, "agent": self.agent, "value": self.value,
            "threshold": self.threshold, "active": active, "at": at.isoformat(),
        }  # fmt: skip


class Board:
    def __init__(self, settings: Settings, now: datetime) -> None:
        self._queues: dict[str, QueueSettings] = {q.name: q for q in settings.queues}
        self._zone = zoneinfo.ZoneInfo(settings.crm.timezone)
        self._region = settings.crm.default_region
        self.day_start = self._midnight(now)
        self.tally = self._new_tally()
        self.calls: dict[str, CallSnapshot] = {}  # in progress
        self.agents: dict[str, AgentSnapshot] = {}
        self.members: dict[str, set[str]] = {}  # queue → extensions configured in it (the directory's)
        self.overdue_tickets: dict[str, int] = {}  # extension → its open tickets past the promised reply (the CRM's)
        self.overdue_tasks: dict[str, int] = {}  # extension → its follow-up tasks past due
        self.overdue_queue_tasks: dict[str, int] = {}  # queue → its untaken follow-up tasks past due (dropped callers)
        self._arrivals: dict[str, deque[datetime]] = {}
        self._wrapups = WrapUpClock()
        # agent → spy_id → (the leader's name, listen | whisper | barge): who monitors whom, for every
        # leader's board, from telephony's AgentMonitored (the ChanSpy leg up until its Hangup).
        self.monitors: dict[str, dict[str, tuple[str, str]]] = {}

    # Time --------------------------------------------------------------------------------------------

    def _midnight(self, now: datetime) -> datetime:
        local = now.astimezone(self._zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _new_tally(self) -> Tally:
        return Tally(limits_for=thresholds_by_queue(self._queues.values()))

    def roll(self, now: datetime) -> bool:
        """Start a new day's figures once midnight has passed; True if it did."""
        midnight = self._midnight(now)
        if midnight <= self.day_start:
            return False
        self.day_start, self.tally = midnight, self._new_tally()
        return True

    # Feeding -----------------------------------------------------------------------------------------

    def count(self, facts: CallFacts) -> None:
        """Put a call's facts in today's figures (live events and the rebuild from the call log)."""
        if facts.counted_at < self.day_start:
            return  # yesterday's call still going on: it belongs to yesterday's figures
        first = self.tally.facts(facts.linkedid) is None
        self.tally.put(facts)
        if first and facts.queue and facts.direction == "inbound" and not facts.closed:
            self._arrivals.setdefault(facts.queue, deque()).append(facts.counted_at)

    def apply(self, event: DomainEvent) -> tuple[set[str], set[str]]:
        """Take one bus event; answers the queues and the agents whose picture changed."""
        queues: set[str] = set()
        agents: set[str] = set()
        wrapup = self._wrapups.observe(event)
        if isinstance(event, CallEvent):
            call = event.call
            if isinstance(event, CallEnded):
                self.calls.pop(call.linkedid, None)
            else:
                self.calls[call.linkedid] = call
            previous = self.tally.facts(call.linkedid)
            self.count(CallFacts.from_call(call) if previous is None else replace(CallFacts.from_call(call), wrapup_s=previous.wrapup_s))
            queues.update(q for q in (call.entry_queue, call.queue) if q)
            agents.update(a for a in (call.agent, getattr(event, "agent", None), getattr(event, "from_agent", None)) if a)
        elif isinstance(event, AgentStateChanged):
            self.agents[event.agent.extension] = event.agent
            agents.add(event.agent.extension)
            if event.agent.state != AgentState.ON_CALL:
                self.monitors.pop(event.agent.extension, None)
            queues.update(self.queues_of(event.agent.extension))
        elif isinstance(event, AgentMonitored):
            if event.mode is None:
                self.monitors.get(event.agent, {}).pop(event.spy_id, None)
            else:
                self.monitors.setdefault(event.agent, {})[event.spy_id] = (event.leader_name, event.mode)
            agents.add(event.agent)
        elif isinstance(event, SurveyAnswered) and (facts := self.tally.facts(event.linkedid)) is not None:
            self.tally.put(replace(facts, satisfaction=event.score))
            queues.update(q for q in (facts.queue,) if q)
            agents.update(a for a in (facts.agent,) if a)
        if wrapup is not None and (facts := self.tally.facts(wrapup.linkedid)) is not None:
            self.tally.put(replace(facts, wrapup_s=wrapup.seconds))
            queues.update(q for q in (facts.queue,) if q)
            agents.add(wrapup.agent)
        return queues, agents

    def queues_of(self, extension: str) -> set[str]:
        live = self.agents.get(extension)
        configured = {q for q, members in self.members.items() if extension in members}
        return configured | set(live.queues if live else ())

    # Reading -----------------------------------------------------------------------------------------

    def queue_names(self) -> list[str]:
        return list(self._queues)

    def waiting(self, queue: str) -> list[CallSnapshot]:
        return [c for c in self.calls.values() if c.queue == queue and c.phase in WAITING and c.direction == "inbound"]

    def callbacks_waiting(self, queue: str) -> list[CallSnapshot]:
        """Queue callbacks whose stand-in holds a caller's place in the queue (docs/callbacks.md)."""
        return [c for c in self.calls.values() if c.queue == queue and c.phase in WAITING and c.callback_id is not None]

    def queue_stats(self, name: str, now: datetime) -> dict[str, Any]:
        queue = self._queues.get(name) or QueueSettings(name=name)
        waiting = self.waiting(name)
        oldest = min((c.queued_at or c.started_at for c in waiting), default=None)
        states: Counter[str] = Counter({s.value: 0 for s in AgentState})
        paused_by_reason: Counter[str] = Counter()
        for extension in self.members.get(name, set()) | {a.extension for a in self.agents.values() if name in a.queues}:
            agent = self.agents.get(extension)
            state = agent.state if agent is not None and name in agent.queues else AgentState.LOGGED_OUT
            states[state.value] += 1
            if state == AgentState.PAUSED and agent is not None:
                paused_by_reason[agent.reason or ""] += 1
        figures = self.tally.queue_figures(name)
        arrivals = self._recent_arrivals(name, now)
        return {
            "queue": name,
            "display_name": queue.display_name or name,
            "display_name_zh": queue.display_name_zh or queue.display_name or name,
            "at": now.isoformat(),
            "day_start": self.day_start.isoformat(),
            "waiting": len(waiting),
            "longest_wait_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
            "oldest_waiting_since": _iso(oldest),
            "callbacks_waiting": len(self.callbacks_waiting(name)),
            "agents": dict(states),
            "paused_by_reason": dict(paused_by_reason),
            **figures,
            "service_level_s": queue.service_level_s,
            "service_level_target": queue.service_level_target,
            "alert_wait_s": queue.alert_wait_s,
            "arrivals_15m": arrivals,
            "required_agents": self._required(queue, arrivals, figures["aht_s"]),
        }

    def _recent_arrivals(self, queue: str, now: datetime) -> int:
        arrivals = self._arrivals.get(queue)
        if not arrivals:
            return 0
        while arrivals and arrivals[0] < now - ARRIVALS_WINDOW:
            arrivals.popleft()
        return len(arrivals)

    @staticmethod
    def _required(queue: QueueSettings, arrivals: int, aht_s: float | None) -> int | None:
        """Erlang C: agents needed for the queue's service-level target at the last 15 minutes' rate."""
        if aht_s is None or aht_s <= 0:
            return None
        if arrivals == 0:
            return 0
        target = min(queue.service_level_target, 0.999)
        try:
            rate = arrivals / ARRIVALS_WINDOW.total_seconds()
            return required_agents(rate, aht_s, queue.service_level_s, target).agents
        except ValueError:
            return None

    def agent_state(self, extension: str, now: datetime, name: str = "", team: int | None = None) -> dict[str, Any]:
        agent = self.agents.get(extension) or AgentSnapshot(extension, "", AgentState.LOGGED_OUT, self.day_start)
        call = self.calls.get(agent.call or "")
        day = self.tally.agent_figures(extension)
        return {
            **agent_state_payload(agent),
            "name": agent.name or name,
            "team": team,
            "queues": agent.queues,
            "state_s": round(max(0.0, (now - agent.since).total_seconds()), 1),
            "call": self._call_payload(call, now) if call else None,
            "handled_today": day["handled"],
            "talk_today_s": day["talk_s"],
            "monitored_by": [{"spy_id": spy_id, "leader": leader, "mode": mode} for spy_id, (leader, mode) in self.monitors.get(extension, {}).items()],
        }

    def _call_payload(self, call: CallSnapshot, now: datetime) -> dict[str, Any]:
        return {
            "call_id": call.linkedid,
            "direction": call.direction,
            # Masked for everyone: a wallboard hangs where the whole floor reads it (handbook §6).
            "caller_number": mask_phone(call.caller_number if call.direction == "inbound" else call.called_number, self._region),
            "caller_name": call.caller_name,  # untrusted text: pages insert it as text
            "customer_id": call.customer_id,
            "queue": call.queue,
            "phase": call.phase.value,
            "answered_at": _iso(call.answered_at),
            "duration_s": round((now - (call.answered_at or call.started_at)).total_seconds(), 1),
        }

    # Alerts ------------------------------------------------------------------------------------------

    def alerts(self, now: datetime) -> list[Alert]:
        """The alerts true now, by the thresholds of docs/kpis.md (per queue)."""
        found: list[Alert] = []
        for name, queue in self._queues.items():
            figures = self.tally.queue_figures(name)
            if figures["service_level"] is not None and figures["service_level"] < queue.service_level_target:
                found.append(Alert("service_level", name, None, figures["service_level"], queue.service_level_target))
            oldest = min((c.queued_at or c.started_at for c in self.waiting(name)), default=None)
            if oldest is not None and (waited := (now - oldest).total_seconds()) > queue.alert_wait_s:
                found.append(Alert("long_wait", name, None, round(waited), queue.alert_wait_s))
        for agent in self.agents.values():
            queues = [self._queues[q] for q in agent.queues if q in self._queues]
            call = self.calls.get(agent.call or "")
            if call is not None and call.answered_at is not None:
                limit = self._queues[call.queue].alert_call_min if call.queue in self._queues else DEFAULT_CALL_MIN
                minutes = (now - call.answered_at).total_seconds() / 60
                if minutes > limit:
                    found.append(Alert("long_call", call.queue, agent.extension, round(minutes, 1), limit))
            if agent.state == AgentState.PAUSED and queues:
                limit = min(q.alert_pause_min for q in queues)
                minutes = (now - agent.since).total_seconds() / 60
                if minutes > limit:
                    found.append(Alert("long_pause", None, agent.extension, round(minutes, 1), limit))
        for extension, count in sorted(self.overdue_tickets.items()):
            found.append(Alert("ticket_overdue", None, extension, count, 0))
        for extension, count in sorted(self.overdue_tasks.items()):
            found.append(Alert("task_overdue", None, extension, count, 0))
        for queue, count in sorted(self.overdue_queue_tasks.items()):
            if queue in self._queues:
                found.append(Alert("task_overdue", queue, None, count, 0))
        return found
