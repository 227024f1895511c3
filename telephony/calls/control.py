"""Call-control actions on a live call, by its Linkedid: hang up, hold and resume, blind and
attended transfer.

Hold works with any phone and without DTMF from the agent: it is an attended transfer (AMI
``Atxfer``) to the dialplan's hold line, so Asterisk plays music to the customer while the agent's
phone stays connected; resume cancels that transfer (``CancelAtxfer``). A phone's own hold key works
too (the bridge follows its ``Hold``/``Unhold`` events), and is resumed from the phone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from telephony.ami import AmiError
from telephony.calls.state import CallPhase
from telephony.calls.tracker import HOLD_LINE, TRANSFER_CONTEXT
from telephony.outbound.dialer import DialError, dialable_number

if TYPE_CHECKING:
    from telephony.bridge import Bridge

QUEUE_OR_AGENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CallControlError(Exception):
    """The action was refused; the message says why."""


class BadTarget(CallControlError):
    """The transfer target itself is wrong (not a queue, extension or number)."""


class CallControl:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def _locate(self, linkedid: str) -> tuple[str, str | None, str | None]:
        for server, tracker in self._bridge.calls.items():
            if tracker.get(linkedid) is not None:
                customer, agent = tracker.channels(linkedid)
                return server, customer, agent
        raise CallControlError(f"no live call {linkedid}")

    async def hang_up(self, linkedid: str) -> None:
        server, customer, agent = self._locate(linkedid)
        channel = customer or agent
        if channel is None:
            raise CallControlError(f"call {linkedid} has no channel to hang up")
        try:
            await self._bridge.client(server).action("Hangup", Channel=channel, Cause="16")
        except AmiError as error:
            raise CallControlError(f"cannot hang up: {error}") from None

    async def hold(self, linkedid: str) -> None:
        """The customer hears music; the agent's phone stays up and hears nothing."""
        phase = self._phase(linkedid)
        if phase == CallPhase.HELD:
            raise CallControlError("the call is already on hold")
        if phase != CallPhase.ANSWERED:
            raise CallControlError("only a call in conversation can be put on hold")
        await self._on_agent_leg(linkedid, "Atxfer", "hold", Context=TRANSFER_CONTEXT, Exten=HOLD_LINE)

    async def resume(self, linkedid: str) -> None:
        if self._phase(linkedid) != CallPhase.HELD:
            raise CallControlError("the call is not on hold")
        await self._on_agent_leg(linkedid, "CancelAtxfer", "resume (a hold from the phone is resumed on the phone)")

    def _phase(self, linkedid: str) -> CallPhase:
        call = self._bridge.find_call(linkedid)
        if call is None:
            raise CallControlError(f"no live call {linkedid}")
        return call.phase

    async def blind_transfer(self, linkedid: str, *, queue: str | None = None, agent: str | None = None, number: str | None = None) -> None:
        """Send the customer to a queue, an agent or an outside number; the agent's leg ends."""
        if [queue, agent, number].count(None) != 2:
            raise BadTarget("give exactly one of queue, agent, number")
        if queue is not None:
            if queue not in {q.name for q in self._bridge.settings.queues}:
                raise BadTarget(f"unknown queue {queue!r}")
            exten = f"q-{queue}"
        elif agent is not None:
            if not QUEUE_OR_AGENT.match(agent):
                raise BadTarget(f"{agent!r} is not an agent extension")
            exten = f"a-{agent}"
        else:
            try:
                exten = dialable_number(number or "")
            except DialError as error:
                raise BadTarget(str(error)) from None
        await self._on_agent_leg(linkedid, "BlindTransfer", "transfer", Context=TRANSFER_CONTEXT, Exten=exten)

    async def attended_transfer(self, linkedid: str, *, agent: str | None = None, number: str | None = None) -> None:
        """Start a consultation: the customer is held while the agent's phone calls the target.
        Finish with :meth:`complete_transfer` (the customer joins the target) or hang the target up."""
        if (agent is None) == (number is None):
            raise BadTarget("give exactly one of agent, number")
        if agent is not None and not (agent.isdigit() and len(agent) == 4):
            raise BadTarget(f"{agent!r} is not a four-digit agent extension")
        try:
            digits = agent or dialable_number(number or "")
        except DialError as error:
            raise BadTarget(str(error)) from None
        # Atxfer sends the feature code and the digits as DTMF: the target must be digits.
        await self._on_agent_leg(linkedid, "Atxfer", "start the transfer", Context=TRANSFER_CONTEXT, Exten=digits)

    async def complete_transfer(self, linkedid: str) -> None:
        """The transferring agent leaves; the customer and the target are joined."""
        await self._on_agent_leg(linkedid, "Hangup", "complete the transfer", Cause="16")

    async def _on_agent_leg(self, linkedid: str, action: str, doing: str, **fields: str) -> None:
        """Send ``action`` for the agent's channel of a live call."""
        server, _, agent_channel = self._locate(linkedid)
        if agent_channel is None:
            raise CallControlError(f"call {linkedid} is not answered by an agent")
        try:
            await self._bridge.client(server).action(action, Channel=agent_channel, **fields)
        except AmiError as error:
            raise CallControlError(f"cannot {doing}: {error}") from None
