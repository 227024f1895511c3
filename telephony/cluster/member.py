"""This worker's part in a cluster: follow the owner (its events into our bus, our commands to it)
until the advisory lock is ours, then own: restore what the last owner was following, drive
Asterisk, publish, and serve the followers' commands."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from telephony.agents.state import AgentSnapshot
from telephony.calls.state import CallSnapshot
from telephony.cluster.ownership import Ownership, OwnershipLost
from telephony.cluster.remote import CommandServer, RemoteCommands
from telephony.cluster.stream import Follower, Publisher, read_live
from telephony.events import EventBus

log = logging.getLogger(__name__)


class ClusterMember:
    def __init__(self, redis_url: str, prefix: str, database_url: str, bus: EventBus) -> None:
        self.redis = Redis.from_url(redis_url)
        self._prefix = prefix
        self.ownership = Ownership(database_url, f"{prefix}:telephony")
        self.follower = Follower(self.redis, prefix, bus)
        self.remote = RemoteCommands(self.redis, prefix, self.follower)
        self._bus = bus
        self._publisher: Publisher | None = None
        self._server: CommandServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.owning = asyncio.Event()

    @property
    def owner(self) -> bool:
        return self.owning.is_set()

    async def start(
        self,
        restore: Callable[[list[CallSnapshot]], None],
        own: Callable[[], Awaitable[None]],
        live: Callable[[], tuple[list[CallSnapshot], list[AgentSnapshot]]],
        commands: Any,
        on_lost: Callable[[], None],
    ) -> None:
        """Follow now; in the background, wait for the lock, then ``restore`` the calls the last
        owner left, ``own`` (start the telephony) and serve ``commands``. ``on_lost`` is called if
        another worker takes the lock from us (after a database restart): we must stop."""
        await self.follower.start()
        self._task = asyncio.create_task(self._take_over(restore, own, live, commands, on_lost), name="cluster-member")

    async def _take_over(self, restore, own, live, commands, on_lost) -> None:  # type: ignore[no-untyped-def]
        await self.ownership.acquire()
        await self.follower.stop()
        try:
            calls, _ = await read_live(self.redis, self._prefix)
        except RedisError as error:
            log.warning("cluster: the last owner's calls are not known (%s): the resync adopts what is up", error)
            calls = []
        try:
            restore(calls)
            self._publisher = Publisher(self.redis, self._prefix, self._bus, live)
            await self._publisher.start()  # before Asterisk: the resync's events are published too
            await own()
            self._server = CommandServer(self.redis, self._prefix, commands)
            self._server.start()
            self.owning.set()
            await self.ownership.kept()
        except OwnershipLost as error:
            log.critical("cluster: %s; this worker stops driving Asterisk", error)
            self.owning.clear()
            on_lost()
        except Exception:  # a take-over that failed half-way must not leave a silent half-owner
            log.critical("cluster: taking over the telephony failed; this worker stops driving Asterisk", exc_info=True)
            self.owning.clear()
            await self.ownership.release()
            on_lost()

    def ready(self) -> bool:
        """Owning, or following the owner's stream."""
        return self.owner or self.follower.following

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for part in (self._server, self._publisher, self.follower):
            if part is not None:
                await part.stop()
        await self.ownership.release()
        await self.redis.aclose()
