"""Where agents' phones are registered, from Asterisk's ``ContactStatus`` events.

Two uses. A login goes to the server an agent's phone is registered with (Asterisks.server_of_agent).
And when an agent's browser phone goes away — the tab closed, the laptop's network gone — Asterisk
says so (Removed when the WebSocket closes, Unreachable when qualify gets no answer): the agent is
then paused with the reserved reason ``phone``, so app_queue offers no call to a dead phone and the
wallboard shows why. A page reload replaces the contact (Removed, then Created), so a phone is only
counted gone when no contact came back within a short grace."""

from __future__ import annotations

from collections.abc import Mapping

from telephony.agents.interfaces import AgentInterfaces
from telephony.agents.tracker import AgentTracker
from telephony.phones.provision import EXTENSION  # an agent's AOR is their extension; a trunk's is named otherwise

GONE = {"Removed", "Unreachable"}
HERE = {"Created", "Reachable", "Updated", "NonQualified"}
GRACE_S = 2.0


class PhonePresence:
    def __init__(self, patterns: Mapping[str, AgentInterfaces], agents: AgentTracker) -> None:
        self._patterns = patterns
        self._agents = agents
        self._contacts: dict[tuple[str, str], set[str]] = {}  # (server, extension) → contact URIs

    def handle(self, server: str, event: Mapping[str, str]) -> str | None:
        """The extension whose browser phone this event may have taken away (check it after
        ``GRACE_S`` with :meth:`gone`), or None."""
        if event.get("Event") != "ContactStatus":
            return None
        extension = event.get("AOR") or ""
        if not EXTENSION.match(extension):
            return None
        status, uri = event.get("ContactStatus"), event.get("URI", "")[:300]
        if status in HERE:
            self._contacts.setdefault((server, extension), set()).add(uri)
        elif status in GONE:
            contacts = self._contacts.get((server, extension), set())
            contacts.discard(uri)
            if not contacts:
                self._contacts.pop((server, extension), None)
            if extension in self._patterns[server].browser_phones:
                return extension
        return None

    def server_of(self, extension: str) -> str | None:
        """A server the extension's phone is registered with (the latest to see it, when several)."""
        return next((server for server, ext in reversed(self._contacts) if ext == extension), None)

    def gone(self, extension: str) -> bool:
        """No contact of the phone is left, and its agent would still be offered calls."""
        agent = self._agents.get(extension)
        offered = agent is not None and bool(agent.queues) and not agent.paused and agent.call is None
        return offered and self.server_of(extension) is None
