"""Which call a wrap-up belonged to and how long it lasted, from the bus's events (the call log
writes it on the call row; the wallboard adds it to the handle time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telephony.agents.state import AgentState
from telephony.events import AgentStateChanged, CallEvent, DomainEvent


@dataclass(frozen=True)
class WrapUp:
    linkedid: str
    agent: str
    seconds: float


class WrapUpClock:
    def __init__(self) -> None:
        self._last_call: dict[str, str] = {}  # agent extension → linkedid of their last call
        self._started: dict[str, tuple[datetime, str | None]] = {}

    def observe(self, event: DomainEvent) -> WrapUp | None:
        """Feed every event in order; answers the wrap-up that ``event`` ended, if any."""
        if isinstance(event, CallEvent):
            if event.call.agent:
                self._last_call[event.call.agent] = event.call.linkedid
            return None
        if not isinstance(event, AgentStateChanged):
            return None
        agent = event.agent
        if agent.state == AgentState.WRAP_UP:
            self._started[agent.extension] = (event.at, self._last_call.get(agent.extension))
        elif event.previous == AgentState.WRAP_UP.value and agent.extension in self._started:
            started, linkedid = self._started.pop(agent.extension)
            if linkedid:
                return WrapUp(linkedid, agent.extension, round((event.at - started).total_seconds(), 3))
        return None
