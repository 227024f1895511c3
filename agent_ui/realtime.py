"""socket.io: the live push to browsers. Agents get their screen pop and call updates, and their own
state; every connection must carry a login token (``auth={"token": ...}``). The contract is in
docs/socketio.md."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agent_ui.auth import SESSION_COOKIE
from agent_ui.operations import PopMetrics
from agent_ui.wallboard.board import agent_state_payload
from agent_ui.wallboard.service import Wallboard
from config import Settings
from crm.cards import customer_card, unknown_caller
from crm.users import role_of_extension
from crm.privacy import Disclosure
from crm.tokens import live_digests, token_digest, user_for_token
from telephony.events import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallRecordingPaused,
    CallEvent,
    CallHeld,
    CallOffered,
    CallResumed,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    Consumer,
    DomainEvent,
    EventBus,
)
from telephony.calls.state import CallSnapshot, recording_paused

log = logging.getLogger(__name__)

CARD_TIMEOUT_S = 1.0  # a screen pop waits this long for the customer's card, then goes without it


def token_room(digest: str) -> str:
    return f"token:{digest}"


def agent_room(extension: str) -> str:
    return f"agent:{extension}"


def call_payload(call: CallSnapshot, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    waited_from = call.waiting_since or call.queued_at or call.started_at  # a callback: since its caller queued
    return {
        "call_id": call.linkedid,
        "direction": call.direction,
        "caller_number": call.caller_number,
        "called_number": call.called_number,
        "caller_name": call.caller_name,  # untrusted text: pages must escape it
        "did": call.did,
        "queue": call.queue,
        "priority": call.priority,
        "wait_s": round((now - waited_from).total_seconds(), 1) if call.answered_at is None else call.wait_s,
        "phase": call.phase.value,
        "agent": call.agent,
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "hold_count": call.hold_count,
        "disposition": call.disposition.value if call.disposition else None,
        "campaign_id": call.campaign_id,  # an outbound campaign's call: the desktop shows its script
        "callback": call.callback_id is not None,  # a queue callback: wait_s runs from when its caller joined the queue
        "recording_paused": recording_paused(call),
    }


class Realtime:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], bus: EventBus | None) -> None:
        self.settings = settings
        self._sessions = sessions
        self._bus = bus
        # A socket opened by another site's page would carry the session cookie (cross-site
        # WebSocket hijacking): only the app's own origin, or the configured ones, may connect.
        origins = settings.web.allowed_origins or None  # None: same origin only
        # With Redis, an emit here reaches a browser connected to any worker (python-socketio's own
        # pub/sub manager, which reconnects to Redis by itself; /readyz says while it cannot).
        shared = (
            socketio.AsyncRedisManager(settings.redis.url, channel=f"{settings.redis.prefix}:socketio")
            if settings.redis.url else None
        )  # fmt: skip
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp", cors_allowed_origins=origins, client_manager=shared, logger=False, engineio_logger=False
        )
        self.pops = PopMetrics()
        self.sio.on("connect", self._connect)
        # Every worker's bus carries every domain event (the owner's own, the others' from the
        # cluster stream), so what the events push goes to this worker's sockets only: through the
        # shared manager each browser would get it once per worker.
        self.emit_here = functools.partial(self.sio.emit, ignore_queue=True)
        self._consumer: Consumer | None = None
        self._welcomes: set[asyncio.Task[None]] = set()
        self.wallboard: Wallboard | None = None  # set by the app: leaders' sockets get the live picture
        self.revalidate_s = 30.0  # how often open sockets' tokens are checked again (revoked, expired, user disabled)
        self._sweeper: asyncio.Task[None] | None = None
        self.card_timeout_s = CARD_TIMEOUT_S
        # An agent's pushes waiting behind their screen pop's card lookup, so they keep their order
        # while every other agent's pushes go straight out.
        self._behind_pop: dict[str, asyncio.Task[None]] = {}

    def attach(self, app) -> None:  # type: ignore[no-untyped-def]
        self.sio.attach(app, socketio_path="socket.io")
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            request = environ.get("aiohttp.request")
            token = request.cookies.get(SESSION_COOKIE) if request is not None else None
        async with self._sessions() as session:
            user = await user_for_token(session, token if isinstance(token, str) else None)
        if user is None:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized: log in first and connect with auth={'token': ...}")
        digest = token_digest(token)
        await self.sio.save_session(sid, {"user_id": user.id, "role": user.role.value, "extension": user.extension, "token": digest})
        await self.sio.enter_room(sid, token_room(digest))
        if user.extension:
            await self.sio.enter_room(sid, agent_room(user.extension))
        if self.wallboard is not None:
            # After this handler returns socket.io sends the connection's acknowledgement; the
            # picture must follow it, not precede it.
            task = asyncio.create_task(self.wallboard.welcome(sid, user))
            self._welcomes.add(task)
            task.add_done_callback(self._welcomes.discard)

    # Pushing the bridge's events ----------------------------------------------------------------

    async def _start(self, app) -> None:  # type: ignore[no-untyped-def]
        if not self.sio.manager_initialized:  # listen to the other workers now, not at the first connection
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        if self._bus is not None:
            self._consumer = Consumer(self._bus, [CallEvent, AgentStateChanged], self.push, "realtime")
        self._sweeper = asyncio.create_task(self._sweep(), name="realtime-sweep")

    async def _stop(self, app) -> None:  # type: ignore[no-untyped-def]
        if self._consumer is not None:
            await self._consumer.stop()
        listener = getattr(self.sio.manager, "thread", None)  # the Redis manager's subscription
        pending = [*self._behind_pop.values(), *([self._sweeper] if self._sweeper is not None else []), *([listener] if listener else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if (redis := getattr(self.sio.manager, "redis", None)) is not None:
            await redis.aclose()

    def shared_push_alive(self) -> bool | None:
        """Whether this worker still listens to the others' pushes (None: no Redis, nothing shared)."""
        if self.settings.redis.url is None:
            return None
        listener, pubsub = getattr(self.sio.manager, "thread", None), getattr(self.sio.manager, "pubsub", None)
        connection = getattr(pubsub, "connection", None)
        return (
            listener is not None and not listener.done() and connection is not None and connection.is_connected and pubsub.subscribed
        )  # fmt: skip

    def connections(self) -> int:
        """Sockets connected to this worker."""
        return sum(1 for _ in self.sio.manager.get_participants("/", None)) if "/" in self.sio.manager.rooms else 0

    # Sockets whose login ended ------------------------------------------------------------------

    async def disconnect_token(self, token: str) -> None:
        """A token was revoked (logout): its sockets are closed now."""
        await self._disconnect_room(token_room(token_digest(token)))

    async def _disconnect_room(self, room: str) -> None:
        for sid in [sid for sid, *_ in self.sio.manager.get_participants("/", room)]:
            await self.sio.disconnect(sid)

    async def _sweep(self) -> None:
        """A token revoked elsewhere (``callcenter user disable``, another worker) or expired
        closes its sockets within ``revalidate_s``."""
        while True:
            await asyncio.sleep(self.revalidate_s)
            rooms = {room for room in self.sio.manager.rooms.get("/", {}) if isinstance(room, str) and room.startswith("token:")}
            digests = {room.removeprefix("token:") for room in rooms}
            try:
                async with self._sessions() as session:
                    live = await live_digests(session, digests)
            except Exception:  # noqa: BLE001 - the database is away: check again next round
                continue
            for digest in digests - live:
                await self._disconnect_room(token_room(digest))

    async def _card(self, call: CallSnapshot, agent: str) -> dict[str, Any]:
        """The customer card of the other party (the caller inbound, the called number outbound),
        its numbers as the agent's role may see them; if the CRM does not answer within
        ``card_timeout_s``, a card that says so: a pop without the card is better than a late pop or none."""
        number = call.caller_number if call.direction == "inbound" else call.called_number

        async def lookup() -> dict[str, Any]:
            async with self._sessions() as session:
                reader = await role_of_extension(session, agent)
                disclosure = (
                    Disclosure.of(*reader, self.settings.privacy, self.settings.crm.default_region)
                    if reader is not None else Disclosure(None, False, False, self.settings.crm.default_region)
                )  # fmt: skip
                return await customer_card(
                    session, customer_id=call.customer_id, caller_number=number, disclosure=disclosure,
                    default_region=self.settings.crm.default_region, near_due_h=self.settings.tickets.near_due_h,
                )

        card = asyncio.ensure_future(lookup())
        try:
            return await asyncio.wait_for(asyncio.shield(card), self.card_timeout_s)
        except Exception as error:  # noqa: BLE001 - a slow or failing CRM must never cost the agent the pop
            # Cancelled, the lookup lets its connection go on its own time, not the pop's.
            card.cancel()
            card.add_done_callback(lambda done: done.cancelled() or done.exception())
            log.warning("screen pop of call %s without the customer card: %s", call.linkedid, type(error).__name__)
            return {"new": False, "unavailable": True, "phones": unknown_caller(number)}

    async def _pop(self, call: CallSnapshot, agent: str, since: datetime) -> None:
        card = await self._card(call, agent)
        await self.emit_here("call.offered", {**call_payload(call), "customer": card}, room=agent_room(agent))
        self.pops.observe(since)

    async def _to_agent(self, agent: str, send: Callable[[], Awaitable[None]], *, pop: bool = False) -> None:
        """Send to one agent's room in order: a pop (which reads the CRM) runs in a task, and that
        agent's later pushes queue behind it; other agents' pushes are not held up."""
        waiting = self._behind_pop.get(agent)
        if waiting is None and not pop:
            await send()
            return

        async def in_order() -> None:
            if waiting is not None:
                await asyncio.gather(waiting, return_exceptions=True)
            try:
                await send()
            except Exception:  # noqa: BLE001 - one lost push is logged; the agent's next ones still go
                log.exception("push to agent %s failed", agent)

        task = asyncio.create_task(in_order())
        self._behind_pop[agent] = task
        task.add_done_callback(lambda done: self._behind_pop.pop(agent, None) if self._behind_pop.get(agent) is done else None)

    def _here(self, agent: str) -> bool:
        """Whether the agent has a socket on this worker (every worker sees every event; the one
        holding the agent's socket reads the card and pushes)."""
        return bool(self.sio.manager.rooms.get("/", {}).get(agent_room(agent)))

    async def push(self, event: DomainEvent) -> None:
        agent = recipient(event)
        if agent is None or not self._here(agent):
            return
        if isinstance(event, (CallOffered, CallStarted)):  # CallStarted: click-to-dial, the agent's phone rings first
            await self._to_agent(agent, lambda: self._pop(event.call, agent, event.at), pop=True)
            return
        if isinstance(event, CallTransferred):
            name, payload = "call.transferred", {**call_payload(event.call), "kind": event.kind, "target": event.target}
        elif isinstance(event, CallRingNoAnswer):
            name, payload = "call.missed", call_payload(event.call)
        elif isinstance(event, AgentStateChanged):
            name, payload = "agent.state", agent_state_payload(event.agent)
        else:
            name, payload = event.name, call_payload(event.call)  # type: ignore[attr-defined]
        await self._to_agent(agent, lambda: self.emit_here(name, payload, room=agent_room(agent)))


def recipient(event: DomainEvent) -> str | None:
    """The agent whose desktop an event goes to (None: it goes to nobody's)."""
    if isinstance(event, (CallOffered, CallRingNoAnswer, CallAnswered)):
        return event.agent
    if isinstance(event, CallStarted):
        return event.call.agent if event.call.direction == "outbound" else None
    if isinstance(event, CallTransferred):
        return event.from_agent
    if isinstance(event, (CallHeld, CallResumed, CallRecordingPaused, CallEnded)):
        return event.call.agent
    if isinstance(event, AgentStateChanged):
        return event.agent.extension
    return None
