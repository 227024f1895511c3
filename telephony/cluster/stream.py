"""The owner's domain events on a Redis stream, with the live state they leave in two hashes; the
followers read both into their own bus and a mirror their pages read.

A stream rather than pub/sub: a follower that blinks (a GC pause, a Redis fail-over) reads on from
its last entry instead of losing a screen pop, and the stream is capped, so a dead follower costs
nothing. A follower that lost its place, or an owner that could not publish for a while, starts
over from the hashes (a ``reset`` entry tells every follower to).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from telephony.agents.state import AgentSnapshot, AgentState
from telephony.calls.state import CallSnapshot
from telephony.cluster.codec import AGENTS, CALLS, BadEntry, decode, decode_event, encode, encode_event
from telephony.events import AgentStateChanged, CallEnded, CallEvent, Consumer, DomainEvent, EventBus

log = logging.getLogger(__name__)


def cancelled_inside(error: RedisError | None = None) -> None:
    """redis-py can swallow a cancellation that comes in the middle of a command (it answers, or
    raises a connection error): a task being stopped must stop, not carry on or take it for Redis
    being away. Called after each command of a loop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error

STREAM_MAXLEN = 10_000  # entries kept: minutes of a busy center, for a follower that blinks
READ_BLOCK_MS = 1_000
RETRY_S = 0.5


@dataclass(frozen=True)
class Keys:
    events: str
    calls: str
    agents: str

    @classmethod
    def of(cls, prefix: str) -> Keys:
        return cls(f"{prefix}:events", f"{prefix}:live:calls", f"{prefix}:live:agents")


class Publisher:
    """The owner's side: each event of its bus onto the stream, and the call's or agent's snapshot
    into the live hashes, in one transaction."""

    def __init__(self, redis: Redis, prefix: str, bus: EventBus, live: Callable[[], tuple[list[CallSnapshot], list[AgentSnapshot]]]) -> None:
        self._redis, self._keys, self._bus, self._live = redis, Keys.of(prefix), bus, live
        self._consumer: Consumer | None = None
        self._stale = True  # the hashes are someone else's (or nobody's) until written whole
        self.published = 0

    async def start(self) -> None:
        self._consumer = Consumer(self._bus, [DomainEvent], self._publish, "cluster-publish")
        try:
            await self._write_all()
        except RedisError as error:
            log.warning("cluster: live state not published yet (%s); again with the next event", error)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _publish(self, event: DomainEvent) -> None:
        try:
            if self._stale:
                await self._write_all()
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(self._keys.events, {"e": encode_event(event)}, maxlen=STREAM_MAXLEN, approximate=True)
                if isinstance(event, CallEnded):
                    pipe.hdel(self._keys.calls, event.call.linkedid)
                elif isinstance(event, CallEvent):
                    pipe.hset(self._keys.calls, event.call.linkedid, encode(CALLS, event.call))
                elif isinstance(event, AgentStateChanged):
                    if event.agent.state == AgentState.LOGGED_OUT:
                        pipe.hdel(self._keys.agents, event.agent.extension)
                    else:
                        pipe.hset(self._keys.agents, event.agent.extension, encode(AGENTS, event.agent))
                await pipe.execute()
            self.published += 1
        except RedisError as error:
            cancelled_inside(error)
            if not self._stale:
                log.warning("cluster: cannot publish to Redis (%s): the other workers are behind until it is back", error)
            self._stale = True

    async def _write_all(self) -> None:
        calls, agents = self._live()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.calls, self._keys.agents)
            if calls:
                pipe.hset(self._keys.calls, mapping={call.linkedid: encode(CALLS, call) for call in calls})
            if agents:
                pipe.hset(self._keys.agents, mapping={agent.extension: encode(AGENTS, agent) for agent in agents})
            pipe.xadd(self._keys.events, {"reset": "1"}, maxlen=STREAM_MAXLEN, approximate=True)
            await pipe.execute()
        self._stale = False


async def read_live(redis: Redis, prefix: str) -> tuple[list[CallSnapshot], list[AgentSnapshot]]:
    """The live state the last owner left (a new owner starts from it; see Bridge.restore)."""
    keys = Keys.of(prefix)
    calls, agents = await redis.hgetall(keys.calls), await redis.hgetall(keys.agents)
    return _valid(CALLS, calls.values()), _valid(AGENTS, agents.values())


def _valid(adapter, raws):  # type: ignore[no-untyped-def]
    values = []
    for raw in raws:
        try:
            values.append(decode(adapter, raw))
        except BadEntry as error:
            log.warning("cluster: live state entry skipped: %s", error)
    return values


class Follower:
    """A worker that does not own the telephony: the owner's events into this worker's bus, and
    the live state (what TelephonyCommands reads) mirrored from them."""

    def __init__(self, redis: Redis, prefix: str, bus: EventBus) -> None:
        self._redis, self._prefix, self._keys, self._bus = redis, prefix, Keys.of(prefix), bus
        self._calls: dict[str, CallSnapshot] = {}
        self._agents: dict[str, AgentSnapshot] = {}
        self._task: asyncio.Task[None] | None = None
        self.following = False  # reading the stream right now (readiness)
        self.received = 0

    async def start(self) -> None:
        last: str | None = None
        try:
            last = await self._load()
        except RedisError as error:
            log.warning("cluster: live state not loaded (%s); following once Redis answers", error)
        self._task = asyncio.create_task(self._follow(last), name="cluster-follow")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.following = False

    # Reading the mirror (the same as TelephonyCommands' reads) ---------------------------------------

    def agent(self, extension: str) -> AgentSnapshot | None:
        return self._agents.get(extension)

    def agents(self) -> list[AgentSnapshot]:
        return list(self._agents.values())

    def live_calls(self) -> list[CallSnapshot]:
        return list(self._calls.values())

    def find_call(self, linkedid: str) -> CallSnapshot | None:
        return self._calls.get(linkedid)

    # The stream ---------------------------------------------------------------------------------------

    async def _load(self) -> str:
        """The live state now, and the stream entry it is as of (read first: replaying an entry
        already in the state only puts the same snapshot again)."""
        newest = await self._redis.xrevrange(self._keys.events, count=1)
        last = newest[0][0].decode() if newest else "0-0"
        calls, agents = await read_live(self._redis, self._prefix)
        self._calls = {call.linkedid: call for call in calls}
        self._agents = {agent.extension: agent for agent in agents}
        return last

    async def _follow(self, last: str | None) -> None:
        while True:
            try:
                if last is None:
                    last = await self._load()
                batches = await self._redis.xread({self._keys.events: last}, block=READ_BLOCK_MS, count=500)
                cancelled_inside()
                self.following = True
                for _, entries in batches:
                    for entry_id, fields in entries:
                        last = entry_id.decode()
                        if b"reset" in fields:
                            last = await self._load()
                            break
                        self._apply(fields.get(b"e", b""))
            except RedisError as error:
                cancelled_inside(error)
                if self.following:
                    log.warning("cluster: lost the owner's event stream (%s); reconnecting", error)
                self.following, last = False, None
                await asyncio.sleep(RETRY_S)

    def _apply(self, raw: bytes) -> None:
        try:
            event = decode_event(raw)
        except BadEntry as error:
            log.warning("cluster: stream entry skipped: %s", error)
            return
        if isinstance(event, CallEnded):
            self._calls.pop(event.call.linkedid, None)
        elif isinstance(event, CallEvent):
            self._calls[event.call.linkedid] = event.call
        elif isinstance(event, AgentStateChanged):
            if event.agent.state == AgentState.LOGGED_OUT:
                self._agents.pop(event.agent.extension, None)
            else:
                self._agents[event.agent.extension] = event.agent
        self.received += 1
        self._bus.publish(event)
