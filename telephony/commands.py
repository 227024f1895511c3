"""The one way in to telephony for the web app: what an agent, a leader or the desktop asks of
Asterisk, and what it may read of the live state.

Each command sends its AMI action through the controllers and returns once Asterisk's confirming
event has been applied (awaited on the bus, or for a call's own channels after the event that shows
them), never by polling. Arguments and answers are plain values, so in a deployment of several
workers the same call can travel to the worker that holds the Asterisk connection
(docs/architecture.md, "Commands").
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from telephony.agents.control import AgentControl, AgentControlError
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.asterisks import Asterisks
from telephony.calls.control import BadTarget, CallControl, CallControlError
from telephony.calls.state import CallSnapshot
from telephony.events import AgentStateChanged, EventBus
from telephony.outbound.dialer import CAMPAIGN, DialError, Dialer, NotDialable
from telephony.phones.provision import BrowserPhone, ProvisionError, Provisioner

if TYPE_CHECKING:
    from telephony.agents.disposition import DispositionGuard

SETTLE_S = 2.0  # how long a state change waits for Asterisk's confirmation before answering with what is true
WantedState = Literal["available", "paused", "logged_out"]
BUSY = (AgentState.ON_CALL, AgentState.RINGING, AgentState.WRAP_UP)


class OwnerUnreachable(Exception):
    """In a cluster, no owner of the telephony answered a command in time (it died, or Redis is
    away): the command may or may not have run. Not a refusal: the web app answers it 503
    (agent_ui/api/live.py), and the user tries again. Raised by telephony/cluster/remote.py."""


class TelephonyCommands:
    def __init__(
        self, bus: EventBus, asterisks: Asterisks, agents: AgentControl, calls: CallControl, dialer: Dialer,
        provisioners: dict[str, Provisioner], status: Callable[[], dict[str, dict[str, object]]] = dict,
    ) -> None:  # fmt: skip
        self._bus = bus
        self._asterisks = asterisks
        self._agents = agents
        self._provisioners = provisioners
        self.status = status  # per server: connected, AMI events in, lag of the last (Bridge.status)
        self.calls = calls  # hang_up, hold, resume, blind/attended/complete transfer, by Linkedid
        self.click_to_dial = dialer.click_to_dial
        self.dial_for_campaign = dialer.dial_for_campaign
        self.spy = dialer.spy
        self.stop_spy = dialer.stop_spy
        self.dispositions: DispositionGuard | None = None  # in a cluster, the owner's (alone, the web app holds it)

    # Reading ---------------------------------------------------------------------------------------

    def agent(self, extension: str) -> AgentSnapshot | None:
        return self._asterisks.agents.get(extension)

    def agents(self) -> list[AgentSnapshot]:
        return self._asterisks.agents.agents()

    def live_calls(self) -> list[CallSnapshot]:
        return self._asterisks.live_calls()

    def find_call(self, linkedid: str) -> CallSnapshot | None:
        return self._asterisks.find_call(linkedid)

    # Agents ----------------------------------------------------------------------------------------

    async def set_agent_state(
        self, extension: str, wanted: WantedState, *, queues: list[str], name: str = "", reason: str | None = None,
        home: str | None = None,
    ) -> AgentSnapshot | None:
        """Log in to ``queues`` first if need be (on the server the phone is on, else ``home``), then
        pause with ``reason``, unpause, or log out.
        Answers with the agent once Asterisk has confirmed it: in the wanted state, or busy with a
        call that came in meanwhile. Raises AgentControlError when Asterisk or the rules refuse."""
        current = self.agent(extension)
        if wanted == "logged_out":
            await self._confirmed(extension, lambda a: a is None or a.state == AgentState.LOGGED_OUT, self._agents.logout(extension))
            return self.agent(extension)
        if current is None or not current.queues:
            await self._confirmed(extension, lambda a: a is not None and bool(a.queues), self._agents.login(extension, queues, name=name, home=home))
        state = AgentState.PAUSED if wanted == "paused" else AgentState.AVAILABLE
        if wanted == "paused":
            action: Awaitable[None] | None = self._agents.pause(extension, reason or "")
        elif current is not None and current.paused:
            action = self._agents.unpause(extension)
        else:
            action = None
        # Without an action (just logged in, or already so) app_queue's member status still says when.
        await self._confirmed(extension, lambda a: a is not None and (a.state == state or a.state in BUSY), action)
        return self.agent(extension)

    async def phone_fault(self, extension: str) -> AgentSnapshot | None:
        """The agent's browser phone cannot take calls: pause them (reason ``phone``) so nothing is
        offered to it. An agent logged out, already paused or on a call stays as they are."""
        agent = self.agent(extension)
        if agent is not None and agent.queues and not agent.paused and agent.call is None:
            await self._confirmed(extension, lambda a: a is not None and a.paused, self._agents.pause_for_phone(extension))
        return self.agent(extension)

    async def _confirmed(
        self, extension: str, done: Callable[[AgentSnapshot | None], bool], action: Awaitable[None] | None
    ) -> None:
        """Send ``action``, then wait for the AgentStateChanged that makes ``done`` true (up to SETTLE_S)."""
        with self._bus.subscribe([AgentStateChanged]) as changes:  # before the action: its event cannot be missed
            if action is not None:
                await action
            if done(self.agent(extension)):
                return
            with contextlib.suppress(TimeoutError):
                await changes.wait_for(
                    lambda event: isinstance(event, AgentStateChanged) and event.agent.extension == extension and done(event.agent),
                    SETTLE_S,
                )

    # Disposition codes (agents.disposition_required) ---------------------------------------------

    async def disposition_pending(self, extension: str) -> str | None:
        """The call ``extension`` owes a disposition code for, if any."""
        return self.dispositions.pending(extension) if self.dispositions is not None else None

    async def disposition_settled(self, extension: str | None, linkedid: str) -> None:
        """A code was saved for ``linkedid``: its agent, if held for it, is unpaused."""
        if self.dispositions is not None:
            await self.dispositions.settled(extension, linkedid)

    # Browser phones --------------------------------------------------------------------------------

    async def browser_phone(self, extension: str, server: str | None = None) -> BrowserPhone:
        """New credentials for ``extension``'s browser phone, pushed to Asterisk; from now on queues
        and click-to-dial ring PJSIP/<extension>. Raises ProvisionError when Asterisk refuses."""
        phone = await self._provisioners[self._asterisks.server(server)].provision(extension)
        for pattern in self._asterisks.patterns.values():
            pattern.use_browser_phone(extension)
        return phone


# What a caller of the commands catches, and the Linkedid prefix a campaign's preview dial takes.
__all__ = [
    "CAMPAIGN", "AgentControlError", "BadTarget", "CallControlError", "DialError", "NotDialable", "OwnerUnreachable", "ProvisionError",
    "TelephonyCommands",
    "WantedState",
]  # fmt: skip
