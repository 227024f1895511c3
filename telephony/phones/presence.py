"""When an agent's browser phone goes away — the tab closed, the laptop's network gone — Asterisk
says so with ``ContactStatus`` (Removed when the WebSocket closes, Unreachable when qualify gets
no answer). The agent is then paused with the reserved reason ``phone``, so app_queue offers no
call to a dead phone and the wallboard shows why. A page reload replaces the contact (Removed, then
Created), so a phone is only counted gone when no contact came back within a short grace."""

from __future__ import annotations

from collections.abc import Mapping

from telephony.agents.interfaces import AgentInterfaces
from telephony.agents.tracker import AgentTracker

GONE = {"Removed", "Unreachable"}
HERE = {"Created", "Reachable", "Updated", "NonQualified"}
GRACE_S = 2.0


class PhonePresence:
    def __init__(self, patterns: Mapping[str, AgentInterfaces], agents: AgentTracker) -> None:
        self._patterns = patterns
        self._agents = agents
        self._contacts: dict[str, set[str]] = {}

    def handle(self, server: str, event: Mapping[str, str]) -> str | None:
        """The extension whose browser phone this event may have taken away (check it after
        ``GRACE_S`` with :meth:`gone`), or None."""
        if event.get("Event") != "ContactStatus":
            return None
        extension = event.get("AOR") or ""
        if extension not in self._patterns[server].browser_phones:
            return None
        contacts = self._contacts.setdefault(extension, set())
        status, uri = event.get("ContactStatus"), event.get("URI", "")
        if status in HERE:
            contacts.add(uri)
        elif status in GONE:
            contacts.discard(uri)
            return extension
        return None

    def gone(self, extension: str) -> bool:
        """No contact of the phone is left, and its agent would still be offered calls."""
        agent = self._agents.get(extension)
        offered = agent is not None and bool(agent.queues) and not agent.paused and agent.call is None
        return offered and not self._contacts.get(extension)
