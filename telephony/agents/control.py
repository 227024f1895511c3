"""Agent actions on Asterisk's queues: log in (QueueAdd), log out (QueueRemove), pause with a reason
code and unpause (QueuePause). The resulting state comes back through the events, as for changes
made by anyone else (a phone, the CLI, a team leader)."""

from __future__ import annotations

from config.settings import DISPOSITION_PAUSE, PHONE_PAUSE
from telephony.ami import AmiError
from telephony.asterisks import Asterisks


class AgentControlError(Exception):
    """The action was refused; the message says why, in words an agent understands."""


class AgentControl:
    def __init__(self, asterisks: Asterisks) -> None:
        self._asterisks = asterisks

    def _interface(self, extension: str, server: str | None) -> str:
        return self._asterisks.interface(extension, self._asterisks.server_of_agent(extension, server))

    def _client(self, extension: str, server: str | None):  # type: ignore[no-untyped-def]
        return self._asterisks.client(self._asterisks.server_of_agent(extension, server))

    async def login(self, extension: str, queues: list[str], *, name: str = "", server: str | None = None, home: str | None = None) -> None:
        """Add the agent to ``queues`` on the server they are on (see Asterisks.server_of_agent; ``home``
        is where the CRM puts them, for an agent Asterisk does not know yet)."""
        known = {q.name for q in self._asterisks.settings.queues}
        unknown = sorted(set(queues) - known)
        if unknown:
            raise AgentControlError(f"unknown queue {unknown[0]}")
        if not queues:
            raise AgentControlError(f"agent {extension} belongs to no queue")
        server = self._asterisks.server_of_agent(extension, server, home=home)
        client = self._client(extension, server)
        for queue in queues:
            try:
                await client.action(
                    "QueueAdd", Queue=queue, Interface=self._interface(extension, server), MemberName=name or extension
                )
            except AmiError as error:
                if "Already there" not in str(error):
                    raise AgentControlError(f"cannot log {extension} in to {queue}: {error}") from None

    async def logout(self, extension: str, *, server: str | None = None) -> None:
        agent = self._asterisks.agents.get(extension)
        queues = agent.queues if agent else []
        client = self._client(extension, server)
        for queue in queues:
            try:
                await client.action("QueueRemove", Queue=queue, Interface=self._interface(extension, server))
            except AmiError as error:
                if "Not there" not in str(error):
                    raise AgentControlError(f"cannot log {extension} out of {queue}: {error}") from None

    async def pause(self, extension: str, reason: str, *, server: str | None = None) -> None:
        codes = {r.code for r in self._asterisks.settings.agents.pause_reasons}
        if reason not in codes:
            raise AgentControlError(f"unknown pause reason {reason!r}; one of {', '.join(sorted(codes))}")
        await self._queue_pause(extension, True, reason, server)

    async def pause_for_disposition(self, extension: str, *, server: str | None = None) -> None:
        """The reserved pause of an agent whose last call still needs a disposition code."""
        await self._queue_pause(extension, True, DISPOSITION_PAUSE, server)

    async def pause_for_phone(self, extension: str, *, server: str | None = None) -> None:
        """The reserved pause of an agent whose browser phone stopped working: no call is offered to it."""
        await self._queue_pause(extension, True, PHONE_PAUSE, server)

    async def unpause(self, extension: str, *, server: str | None = None) -> None:
        await self._queue_pause(extension, False, "", server)

    async def _queue_pause(self, extension: str, paused: bool, reason: str, server: str | None) -> None:
        agent = self._asterisks.agents.get(extension)
        if agent is None or not agent.queues:
            raise AgentControlError(f"agent {extension} is not logged in")
        fields = {"Interface": self._interface(extension, server), "Paused": "true" if paused else "false"}
        if reason:
            fields["Reason"] = reason
        try:
            await self._client(extension, server).action("QueuePause", **fields)
        except AmiError as error:
            raise AgentControlError(f"cannot {'pause' if paused else 'unpause'} {extension}: {error}") from None
