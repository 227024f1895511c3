"""An ordered inbox for one reader: the AMI client's event streams and the bus's subscriptions.

Offering never blocks (the queue is unbounded), so one slow reader never holds up the AMI socket
reader or the other readers; each reader gets its items in the order they were offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, accepts: Callable[[T], bool], on_close: Callable[[Inbox[T]], None]) -> None:
        self._accepts = accepts
        self._on_close = on_close
        self._queue: asyncio.Queue[T] = asyncio.Queue()

    def offer(self, item: T) -> None:
        """Keep ``item`` if this reader wants it."""
        if self._accepts(item):
            self._queue.put_nowait(item)

    def inject(self, item: T) -> None:
        """Put an item of our own after everything offered so far (a resync snapshot, say)."""
        self._queue.put_nowait(item)

    async def get(self, timeout: float | None = None) -> T:
        return await asyncio.wait_for(self._queue.get(), timeout)

    def get_nowait(self) -> T:
        """The next item already here; raise asyncio.QueueEmpty when there is none."""
        return self._queue.get_nowait()

    def pending(self) -> int:
        return self._queue.qsize()

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float) -> T:
        """Skip items until one matches; raise TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                item = await self._queue.get()
                if predicate(item):
                    return item

    def __aiter__(self) -> Inbox[T]:
        return self

    async def __anext__(self) -> T:
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving; what is already here can still be read."""
        self._on_close(self)

    def __enter__(self) -> Inbox[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
