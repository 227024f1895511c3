"""The typed domain events of the bridge and the one in-process bus that carries them.

The AMI trackers turn Asterisk's events into these; the call log, the web layer and the wallboard
subscribe. Every event names the Asterisk server it happened on. The contract is in docs/events.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from telephony.calls.state import CallSnapshot
from telephony.agents.state import AgentSnapshot
from telephony.inbox import Inbox

log = logging.getLogger(__name__)

@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    name: ClassVar[str] = "event"
    server: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class CallEvent(DomainEvent):
    call: CallSnapshot


@dataclass(frozen=True, kw_only=True)
class CallStarted(CallEvent):
    name: ClassVar[str] = "call.started"


@dataclass(frozen=True, kw_only=True)
class CallRouted(CallEvent):
    """The FastAGI routing decided (customer, queue, priority, preferred agent) — or fell back."""

    name: ClassVar[str] = "call.routed"


@dataclass(frozen=True, kw_only=True)
class CallQueued(CallEvent):
    name: ClassVar[str] = "call.queued"
    queue: str
    position: int


@dataclass(frozen=True, kw_only=True)
class CallOffered(CallEvent):
    """An agent's phone rings with this call (the moment of the screen pop)."""

    name: ClassVar[str] = "call.offered"
    agent: str  # extension
    interface: str


@dataclass(frozen=True, kw_only=True)
class CallRingNoAnswer(CallEvent):
    name: ClassVar[str] = "call.ring_no_answer"
    agent: str
    interface: str
    ring_s: float


@dataclass(frozen=True, kw_only=True)
class CallAnswered(CallEvent):
    name: ClassVar[str] = "call.answered"
    agent: str | None
    interface: str | None


@dataclass(frozen=True, kw_only=True)
class CallHeld(CallEvent):
    name: ClassVar[str] = "call.held"


@dataclass(frozen=True, kw_only=True)
class CallResumed(CallEvent):
    name: ClassVar[str] = "call.resumed"
    held_s: float


@dataclass(frozen=True, kw_only=True)
class CallRecordingPaused(CallEvent):
    """The recording was paused (MixMonitor muted: a card number is being taken) or resumed."""

    name: ClassVar[str] = "call.recording_paused"
    paused: bool


@dataclass(frozen=True, kw_only=True)
class CallTransferred(CallEvent):
    name: ClassVar[str] = "call.transferred"
    kind: str  # blind | attended
    from_agent: str | None
    target: str  # a queue, an agent extension or a number


@dataclass(frozen=True, kw_only=True)
class CallbackRequested(CallEvent):
    """A waiting caller pressed for a callback (cc-queue-exit): the call ends; the callback keeps its place."""

    name: ClassVar[str] = "call.callback_requested"
    number: str
    position: int | None  # the caller's place when they left (QUEUEPOSITION)


@dataclass(frozen=True, kw_only=True)
class CallEnded(CallEvent):
    name: ClassVar[str] = "call.ended"


@dataclass(frozen=True, kw_only=True)
class SurveyAnswered(DomainEvent):
    """The caller pressed a key in the satisfaction survey after the call (cc-survey): 1 (poor) to
    5 (very satisfied). The call itself ended when the survey began."""

    name: ClassVar[str] = "call.survey_answered"
    linkedid: str
    score: int


@dataclass(frozen=True, kw_only=True)
class AgentStateChanged(DomainEvent):
    name: ClassVar[str] = "agent.state_changed"
    agent: AgentSnapshot
    previous: str | None


@dataclass(frozen=True, kw_only=True)
class AgentMonitored(DomainEvent):
    """A leader's phone began listening to, whispering to or barging in on ``agent``'s call
    (``mode``), or that ChanSpy leg ended (``mode`` None): stopped, hung up, or the call over."""

    name: ClassVar[str] = "agent.monitored"
    agent: str
    spy_id: str  # the leader's ChanSpy channel (its Uniqueid)
    leader: str  # the leader's extension
    leader_name: str
    mode: str | None  # listen | whisper | barge, None once it ended


CALL_EVENTS: tuple[type[CallEvent], ...] = (
    CallStarted,
    CallRouted,
    CallQueued,
    CallOffered,
    CallRingNoAnswer,
    CallAnswered,
    CallHeld,
    CallResumed,
    CallTransferred,
    CallRecordingPaused,
    CallEnded,
)


Subscription = Inbox[DomainEvent]
"""One subscriber's events, in publication order (see :class:`telephony.inbox.Inbox`)."""


@dataclass
class EventBus:
    """Publish/subscribe in one process; subscribers read at their own pace from their own queue."""

    _subscriptions: set[Subscription] = field(default_factory=set)

    def subscribe(self, types: Iterable[type[DomainEvent]] | None = None) -> Subscription:
        wanted = tuple(types) if types is not None else None
        subscription: Subscription = Inbox(
            lambda event: wanted is None or isinstance(event, wanted), self._subscriptions.discard
        )
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, event: DomainEvent) -> None:
        for subscription in tuple(self._subscriptions):
            subscription.offer(event)


class Consumer:
    """A task that hands each event of one subscription to ``handle``, in order. A handler that
    fails is logged and the next event goes on; :meth:`stop` cancels the task."""

    def __init__(self, bus: EventBus, types: Iterable[type[DomainEvent]], handle: Callable[[DomainEvent], Awaitable[None]], name: str) -> None:
        self._subscription = bus.subscribe(types)
        self._handle = handle
        self._task = asyncio.create_task(self._run(), name=name)

    async def _run(self) -> None:
        async for event in self._subscription:
            try:
                await self._handle(event)
            except Exception:  # noqa: BLE001 - one failed event never stops the others
                log.exception("%s: %s failed", self._task.get_name(), event.name)
            if self._task.cancelling():  # stop() came while a library swallowed it (redis-py's commands can)
                raise asyncio.CancelledError

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._subscription.close()
