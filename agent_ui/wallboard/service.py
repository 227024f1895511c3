"""The wallboard service: feeds the :class:`Board` from the bus, rebuilds today's figures from the
call log at start, and pushes ``queue.stats``, ``agent.states`` and ``alert`` over socket.io to the
leaders allowed to see them (docs/socketio.md). Team leaders are in their team's room and get
their team's agents and the queues their team works; supervisors and admins get everything (crm.access).
"""

from __future__ import annotations

import asyncio
import functools
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agent_ui.wallboard.board import Alert, Board
from config import Settings
from crm.kpis import CallFacts
from crm.access import Scope
from crm.calls import calls_started_since
from crm.models import User
from crm.teams import Directory, load_directory
from crm.tasks.store import overdue as overdue_tasks
from crm.tickets.store import overdue_by_agent
from telephony.commands import TelephonyCommands
from telephony.events import AgentMonitored, AgentStateChanged, CallEvent, Consumer, DomainEvent, EventBus, SurveyAnswered

log = logging.getLogger(__name__)

SUPERVISORS_ROOM = "wallboard:all"
COALESCE_S = 0.05  # agents and queue figures changed by a burst of events go out once
DIRECTORY_REFRESH_S = 30.0


def team_room(team_id: int) -> str:
    return f"wallboard:team:{team_id}"


class Wallboard:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        sio: socketio.AsyncServer,
        *,
        bus: EventBus | None = None,
        live: TelephonyCommands | None = None,  # the live calls and agents at start
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._sio = sio
        self._emit = functools.partial(sio.emit, ignore_queue=True)  # every worker has the events (Realtime.emit_here)
        self._bus = bus
        self._live = live
        self._clock = clock
        self.board = Board(settings, clock())
        self.directory = Directory()
        self._alerts: dict[tuple[str, str | None, str | None], Alert] = {}
        self._dirty: set[str] = set()  # queues whose figures changed since the last push
        self._dirty_agents: set[str] = set()
        self._wake = asyncio.Event()
        self._consumer: Consumer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # Lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._bus is not None:
            self._consumer = Consumer(self._bus, [CallEvent, AgentStateChanged, SurveyAnswered, AgentMonitored], self._handle, "wallboard")
        await self._refresh_directory()
        await self.rebuild()
        if self._live is not None:
            for agent in self._live.agents():
                self.board.agents.setdefault(agent.extension, agent)
            for call in self._live.live_calls():
                self.board.calls.setdefault(call.linkedid, call)
        self._alerts = {a.key: a for a in self.board.alerts(self._clock())}
        self._tasks = [asyncio.create_task(self._flush_loop(), name="wallboard-flush"), asyncio.create_task(self._tick_loop(), name="wallboard-tick")]

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def rebuild(self) -> None:
        """Today's figures from the call log: what a restarted ``serve`` shows at once."""
        since = self.board.day_start - timedelta(days=1)  # a call counts from its queue time, a little after it started
        async with self._sessions() as session:
            calls = await calls_started_since(session, since)
            for call in calls:
                self.board.count(CallFacts.from_call(call))

    async def _refresh_directory(self) -> None:
        """Who is in which team and queue, and whose tickets and tasks are overdue: they change in the
        CRM, so they are read again every DIRECTORY_REFRESH_S."""
        async with self._sessions() as session:
            self.directory = await load_directory(session)
            self.board.overdue_tickets = await overdue_by_agent(session, self._clock())
            self.board.overdue_tasks, self.board.overdue_queue_tasks = await overdue_tasks(session, self._clock())
        self.board.members = self.directory.queue_members()

    # Scoping -----------------------------------------------------------------------------------------

    def queues_for(self, user: User) -> list[str]:
        mine = self.directory.queues_seen_by(Scope.of(user))
        return [q for q in self.board.queue_names() if mine is None or q in mine]

    def agents_for(self, user: User) -> list[str]:
        scope = Scope.of(user)
        if scope.whole_center:  # also the extensions the board heard of but the directory does not know
            return sorted(set(self.directory.agents) | set(self.board.agents))
        return sorted(self.directory.agents_seen_by(scope))

    def _queue_rooms(self, queue: str) -> list[str]:
        teams = {a.team_id for a in self.directory.agents.values() if queue in a.queues and a.team_id is not None}
        return [SUPERVISORS_ROOM, *(team_room(t) for t in sorted(teams))]

    def _agent_rooms(self, extension: str) -> list[str]:
        team = self.directory.team_of(extension)
        return [SUPERVISORS_ROOM] if team is None else [SUPERVISORS_ROOM, team_room(team)]

    # Payloads ----------------------------------------------------------------------------------------

    def queue_stats(self, queue: str) -> dict[str, Any]:
        return self.board.queue_stats(queue, self._clock())

    def agent_state(self, extension: str) -> dict[str, Any]:
        entry = self.directory.agents.get(extension)
        return self.board.agent_state(extension, self._clock(), entry.name if entry else "", entry.team_id if entry else None)

    def alerts_for(self, user: User) -> list[dict[str, Any]]:
        queues, agents, now = set(self.queues_for(user)), set(self.agents_for(user)), self._clock()
        return [a.payload(True, now) for a in self._alerts.values() if (a.agent in agents if a.agent else a.queue in queues)]

    async def welcome(self, sid: str, user: User) -> None:
        """A leader's socket: join the rooms they may hear, then the current picture at once."""
        scope = Scope.of(user)
        if scope.whole_center:
            room = SUPERVISORS_ROOM
        elif scope.leads_a_team and scope.team_id is not None:
            room = team_room(scope.team_id)
        else:
            return  # agents, QA, and a team leader without a team: no one's live picture
        await self._sio.enter_room(sid, room)
        await self._sio.emit("wallboard.snapshot", self.snapshot_for(user), to=sid)

    def queue_rows(self, user: User) -> list[dict[str, Any]]:
        return [self.queue_stats(q) for q in self.queues_for(user)]

    def agent_rows(self, user: User) -> list[dict[str, Any]]:
        return [self.agent_state(a) for a in self.agents_for(user)]

    def snapshot_for(self, user: User) -> dict[str, list[dict[str, Any]]]:
        """The whole picture a leader may see, in one message (one emit per agent made 50 leaders
        reconnecting at once hold every other push up for about a second)."""
        return {"queues": self.queue_rows(user), "agents": self.agent_rows(user), "alerts": self.alerts_for(user)}

    # Pushing -----------------------------------------------------------------------------------------

    def _heard(self, rooms: list[str]) -> bool:
        """Whether anyone is in these rooms: python-socketio builds and encodes a packet even for
        an empty room, and with no leader watching that was most of the wallboard's cost."""
        joined = self._sio.manager.rooms.get("/", {})
        return any(joined.get(room) for room in rooms)

    async def _handle(self, event: DomainEvent) -> None:
        queues, agents = self.board.apply(event)
        if queues or agents:
            self._dirty |= queues
            self._dirty_agents |= agents
            self._wake.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(COALESCE_S)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            agents, self._dirty_agents = self._dirty_agents, set()
            try:
                await self._push_agents(agents)
                for queue in sorted(dirty):
                    if self._heard(rooms := self._queue_rooms(queue)):
                        await self._emit("queue.stats", self.queue_stats(queue), room=rooms)
                await self._push_alerts()
            except Exception:  # noqa: BLE001 - the next change pushes again
                log.exception("wallboard: push failed")

    async def _push_agents(self, extensions: set[str]) -> None:
        """One ``agent.states`` per room with the rows that changed: a message per change and per
        leader was most of the server's work when many agents change state."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for extension in sorted(extensions):
            rooms = [room for room in self._agent_rooms(extension) if self._heard([room])]
            if rooms:
                row = self.agent_state(extension)
                for room in rooms:
                    rows.setdefault(room, []).append(row)
        for room, changed in rows.items():
            await self._emit("agent.states", {"agents": changed}, room=room)

    async def _tick_loop(self) -> None:
        """Once a second: alerts that time raises (a caller waiting, a long call or pause), midnight."""
        last_refresh = self._clock()
        while True:
            await asyncio.sleep(1.0)
            now = self._clock()
            try:
                if (now - last_refresh).total_seconds() >= DIRECTORY_REFRESH_S:
                    last_refresh = now
                    await self._refresh_directory()
                if self.board.roll(now):
                    self._dirty |= set(self.board.queue_names())
                    self._wake.set()
                await self._push_alerts()
            except Exception:  # noqa: BLE001
                log.exception("wallboard: tick failed")

    async def _push_alerts(self) -> None:
        now = self._clock()
        current = {a.key: a for a in self.board.alerts(now)}
        raised = [a for k, a in current.items() if k not in self._alerts]
        cleared = [a for k, a in self._alerts.items() if k not in current]
        self._alerts = current
        for alert, active in [(a, True) for a in raised] + [(a, False) for a in cleared]:
            # An agent's alert goes where the agent is seen, even when it names a shared queue.
            rooms = self._agent_rooms(alert.agent) if alert.agent else self._queue_rooms(alert.queue or "")
            if self._heard(rooms):
                await self._emit("alert", alert.payload(active, now), room=rooms)
