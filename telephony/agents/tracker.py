"""Agent states from app_queue's member events and from our own call events.

Queue membership and pause come from Asterisk (``QueueMemberAdded/Removed/Pause``, ``QueueMember``
on resync); ringing, on-call and wrap-up come from the call tracker's events, so outbound calls
count too. Wrap-up lasts the queue's ``wrapup_s`` (Asterisk's own ``wrapuptime`` keeps app_queue
from offering a call meanwhile); :meth:`AgentTracker.expire` ends it when the clock passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from telephony.agents.interfaces import InterfacePattern
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.calls.live import event_time
from telephony.events import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallOffered,
    CallRingNoAnswer,
    CallTransferred,
)

AmiEvent = Mapping[str, str]


@dataclass
class _Agent:
    extension: str
    server: str
    name: str = ""
    queues: set[str] = field(default_factory=set)
    paused: bool = False
    reason: str | None = None
    ringing: str | None = None
    call: str | None = None
    wrapup_until: datetime | None = None
    state: AgentState = AgentState.LOGGED_OUT
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


class AgentTracker:
    def __init__(
        self,
        agents_by_server: Mapping[str, InterfacePattern],
        *,
        wrapup_s: Callable[[str | None], float],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._patterns = agents_by_server
        self._wrapup_s = wrapup_s
        self._clock = clock
        self._agents: dict[str, _Agent] = {}

    # Reading ---------------------------------------------------------------------------------------

    def agents(self) -> list[AgentSnapshot]:
        return [self._snapshot(agent) for agent in sorted(self._agents.values(), key=lambda a: a.extension)]

    def get(self, extension: str) -> AgentSnapshot | None:
        agent = self._agents.get(extension)
        return self._snapshot(agent) if agent else None

    def is_available(self, extension: str) -> bool:
        agent = self._agents.get(extension)
        return agent is not None and agent.state == AgentState.AVAILABLE

    def next_deadline(self) -> datetime | None:
        deadlines = [a.wrapup_until for a in self._agents.values() if a.wrapup_until is not None]
        return min(deadlines) if deadlines else None

    @staticmethod
    def _snapshot(agent: _Agent) -> AgentSnapshot:
        return AgentSnapshot(
            extension=agent.extension,
            server=agent.server,
            state=agent.state,
            since=agent.since,
            name=agent.name,
            reason=agent.reason if agent.state == AgentState.PAUSED else None,
            queues=sorted(agent.queues),
            paused=agent.paused,
            pause_reason=agent.reason if agent.paused else None,
            call=agent.call or agent.ringing,
            wrapup_until=agent.wrapup_until,
        )

    # Asterisk's member events ------------------------------------------------------------------------

    def _member(self, event: AmiEvent) -> _Agent | None:
        server = event.get("Server", "default")
        pattern = self._patterns.get(server)
        extension = pattern.extension(event.get("Interface") or event.get("Location")) if pattern else None
        if extension is None:
            return None
        agent = self._agents.get(extension)
        if agent is None:
            agent = self._agents[extension] = _Agent(extension, server, since=self._clock())
        agent.server = server
        agent.name = event.get("MemberName") or event.get("Name") or agent.name
        return agent

    def handle_ami(self, event: AmiEvent) -> list[AgentStateChanged]:
        name = event.get("Event")
        if name not in ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus"):
            return []
        agent = self._member(event)
        if agent is None:
            return []
        queue = event.get("Queue", "")
        if name == "QueueMemberRemoved":
            agent.queues.discard(queue)
        else:
            agent.queues.add(queue)
            agent.paused = event.get("Paused") == "1"
            agent.reason = (event.get("PausedReason") or None) if agent.paused else None
        return self._update(agent, event_time(event, self._clock()))

    def resync(self, server: str, members: Iterable[AmiEvent], at: datetime | None = None) -> list[AgentStateChanged]:
        """Replace one server's memberships and pauses by what ``QueueStatus`` reports now."""
        at = at or self._clock()
        seen: dict[str, set[str]] = {}
        changes: list[AgentStateChanged] = []
        for member in members:
            agent = self._member({**member, "Server": server})
            if agent is None:
                continue
            seen.setdefault(agent.extension, set()).add(member.get("Queue", ""))
            agent.paused = member.get("Paused") == "1"
            agent.reason = (member.get("PausedReason") or None) if agent.paused else None
        for agent in self._agents.values():
            if agent.server == server:
                agent.queues = seen.get(agent.extension, set())
                changes.extend(self._update(agent, at))
        return changes

    # Our call events ---------------------------------------------------------------------------------

    def handle_call(self, event: CallEvent) -> list[AgentStateChanged]:
        call = event.call
        touched: list[_Agent] = []
        if isinstance(event, CallOffered):
            agent = self._agent(event.agent, event.server)
            agent.ringing = call.linkedid
            touched.append(agent)
        elif isinstance(event, CallRingNoAnswer):
            agent = self._agent(event.agent, event.server)
            if agent.ringing == call.linkedid:
                agent.ringing = None
            touched.append(agent)
        elif isinstance(event, CallAnswered) and event.agent:
            touched.extend(self._stop_ringing(call.linkedid))
            agent = self._agent(event.agent, event.server)
            agent.ringing, agent.call, agent.wrapup_until = None, call.linkedid, None
            touched.append(agent)
        elif isinstance(event, CallTransferred) and event.from_agent:
            agent = self._agent(event.from_agent, event.server)
            if agent.call == call.linkedid:
                self._start_wrapup(agent, call.queue, event.at)
            touched.append(agent)
        elif isinstance(event, CallEnded):
            touched.extend(self._stop_ringing(call.linkedid))
            for agent in self._agents.values():
                if agent.call == call.linkedid:
                    self._start_wrapup(agent, call.queue, event.at)
                    touched.append(agent)
        changes: list[AgentStateChanged] = []
        for agent in touched:
            changes.extend(self._update(agent, event.at))
        return changes

    def _agent(self, extension: str, server: str) -> _Agent:
        agent = self._agents.get(extension)
        if agent is None:
            agent = self._agents[extension] = _Agent(extension, server, since=self._clock())
        return agent

    def _stop_ringing(self, linkedid: str) -> list[_Agent]:
        stopped = [a for a in self._agents.values() if a.ringing == linkedid]
        for agent in stopped:
            agent.ringing = None
        return stopped

    def _start_wrapup(self, agent: _Agent, queue: str | None, at: datetime) -> None:
        agent.call = None
        seconds = self._wrapup_s(queue)
        agent.wrapup_until = at + timedelta(seconds=seconds) if seconds > 0 else None

    def expire(self, now: datetime | None = None) -> list[AgentStateChanged]:
        """End the wrap-ups whose time is up."""
        now = now or self._clock()
        changes: list[AgentStateChanged] = []
        for agent in self._agents.values():
            if agent.wrapup_until is not None and agent.wrapup_until <= now:
                agent.wrapup_until = None
                changes.extend(self._update(agent, now))
        return changes

    # State -------------------------------------------------------------------------------------------

    def _derive(self, agent: _Agent) -> AgentState:
        if agent.call:
            return AgentState.ON_CALL
        if agent.ringing:
            return AgentState.RINGING
        if agent.wrapup_until is not None:
            return AgentState.WRAP_UP
        if not agent.queues:
            return AgentState.LOGGED_OUT
        return AgentState.PAUSED if agent.paused else AgentState.AVAILABLE

    def _update(self, agent: _Agent, at: datetime) -> list[AgentStateChanged]:
        before = (agent.state, agent.reason if agent.state == AgentState.PAUSED else None)
        state = self._derive(agent)
        after = (state, agent.reason if state == AgentState.PAUSED else None)
        if after == before:
            return []
        previous = agent.state
        agent.state, agent.since = state, at
        return [AgentStateChanged(server=agent.server, at=at, agent=self._snapshot(agent), previous=previous.value)]
