"""What the telephony controllers act through, and all they may see of the bridge: each server's AMI
client, how its agents' phones are named, the calls and agents it follows, and a wake-up after every
event the bridge has applied.

The bridge composes this object and the controllers (agents/control.py, calls/control.py,
outbound/dialer.py) receive it, so no controller imports the bridge (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from config.settings import Settings
from telephony.agents.interfaces import AgentInterfaces
from telephony.agents.tracker import AgentTracker
from telephony.ami import AmiClient
from telephony.calls.state import CallSnapshot
from telephony.calls.tracker import CallTracker
from telephony.phones.presence import PhonePresence


class Asterisks:
    def __init__(self, settings: Settings, patterns: dict[str, AgentInterfaces], calls: dict[str, CallTracker], agents: AgentTracker) -> None:
        self.settings = settings
        self.patterns = patterns
        self.calls = calls
        self.agents = agents
        self.phones = PhonePresence(patterns, agents)
        self.clients: dict[str, AmiClient] = {}  # filled by the bridge as it connects
        self._waiters: set[asyncio.Future[None]] = set()

    def server(self, server: str | None = None) -> str:
        """``server``, or the first configured one when the caller does not know."""
        return server or self.settings.asterisk[0].name

    def server_of_agent(self, extension: str, server: str | None = None, *, home: str | None = None) -> str:
        """Where an action for this agent goes: ``server`` if given, else the server Asterisk reports
        them on (their queue membership), else the one their phone is registered with, else their
        ``home`` (the server the CRM puts them on), else the first one."""
        known = self.agents.get(extension)
        member_of = known.server if known is not None and known.queues else None
        return server or member_of or self.phones.server_of(extension) or self.server(home if home in self.patterns else None)

    def client(self, server: str | None = None) -> AmiClient:
        return self.clients[self.server(server)]

    def interface(self, extension: str, server: str | None = None) -> str:
        return self.patterns[self.server(server)].interface(extension)

    def live_calls(self) -> list[CallSnapshot]:
        return [call for tracker in self.calls.values() for call in tracker.calls()]

    def find_call(self, linkedid: str) -> CallSnapshot | None:
        for tracker in self.calls.values():
            if (call := tracker.get(linkedid)) is not None:
                return call
        return None

    def server_of_call(self, linkedid: str) -> str | None:
        return next((server for server, tracker in self.calls.items() if tracker.get(linkedid) is not None), None)

    # Waiting for Asterisk's answer -------------------------------------------------------------------

    def applied(self) -> None:
        """The bridge has applied an event: whoever waits for a condition looks again."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition`` holds, looking after each applied event, for at most ``timeout``
        seconds; return whether it holds. Asterisk's confirming event usually comes within
        milliseconds; a command answers with what is true when it came or when time ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            left = deadline - loop.time()
            if left <= 0:
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, left)
            except TimeoutError:
                return condition()
            finally:
                self._waiters.discard(waiter)
        return True
