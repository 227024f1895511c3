"""Call-control actions on a live call, by its Linkedid: hang up, hold and resume, blind and
attended transfer.

Hold works with any phone and without DTMF from the agent: it is an attended transfer (AMI
``Atxfer``) to the dialplan's hold line, so Asterisk plays music to the customer while the agent's
phone stays connected; resume hangs the hold line up, which returns the agent to the customer. A
phone's own hold key works
too (the bridge follows its ``Hold``/``Unhold`` events), and is resumed from the phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telephony.ami import AmiError
from telephony.asterisks import Asterisks
from telephony.calls.state import CallPhase, recording_paused
from telephony.calls.live import HOLD_LINE, TRANSFER_CONTEXT
from telephony.outbound.dialer import DialError, allowed_number

QUEUE_OR_AGENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SETTLE_TIMEOUT_S = 8.0  # how long hold and resume wait for Asterisk (Atxfer dials the hold line by DTMF: ~2 s idle)


class CallControlError(Exception):
    """The action was refused; the message says why."""


class BadTarget(CallControlError):
    """The transfer target itself is wrong (not a queue, extension or number)."""


class CallControl:
    def __init__(self, asterisks: Asterisks) -> None:
        self._asterisks = asterisks
        self._holds: set[str] = set()  # calls put on hold from the desktop, not yet resumed
        self._consulting: set[str] = set()  # calls whose agent started an attended transfer from the desktop

    def _locate(self, linkedid: str) -> tuple[str, str | None, str | None]:
        server = self._asterisks.server_of_call(linkedid)
        if server is None:
            raise CallControlError(f"no live call {linkedid}")
        customer, agent = self._asterisks.calls[server].channels(linkedid)
        return server, customer, agent

    async def hang_up(self, linkedid: str) -> None:
        server, customer, agent = self._locate(linkedid)
        channel = customer or agent
        if channel is None:
            raise CallControlError(f"call {linkedid} has no channel to hang up")
        try:
            await self._asterisks.client(server).action("Hangup", Channel=channel, Cause="16")
        except AmiError as error:
            raise CallControlError(f"cannot hang up: {error}") from None

    async def hold(self, linkedid: str) -> None:
        """The customer hears music; the agent's phone stays up and hears nothing."""
        phase = self._phase(linkedid)
        if phase == CallPhase.HELD or self._hold_line(linkedid):
            raise CallControlError("the call is already on hold")
        if phase != CallPhase.ANSWERED:
            raise CallControlError("only a call in conversation can be put on hold")
        self._holds = {held for held in self._holds if self._asterisks.find_call(held) is not None} | {linkedid}
        try:
            await self._on_agent_leg(linkedid, "Atxfer", "hold", Context=TRANSFER_CONTEXT, Exten=HOLD_LINE)
        except CallControlError:
            self._holds.discard(linkedid)
            raise
        await self._until(lambda: bool(self._hold_line(linkedid)) or self._asterisks.find_call(linkedid) is None)
        if not self._hold_line(linkedid) and self._asterisks.find_call(linkedid) is not None:
            self._holds.discard(linkedid)
            raise CallControlError("Asterisk did not put the call on hold (is transfer allowed on this call?)")

    async def resume(self, linkedid: str) -> None:
        """Back to the conversation: the hold line hangs up, which ends the "consultation" and
        rejoins agent and customer. (CancelAtxfer would do it with DTMF, and Asterisk then ignores a
        transfer asked for within the next second.) Returns once the line is gone."""
        if self._phase(linkedid) != CallPhase.HELD:
            raise CallControlError("the call is not on hold")
        server, _, _ = self._locate(linkedid)
        if linkedid in self._holds:  # music starts a moment before the hold line is up
            await self._until(lambda: bool(self._hold_line(linkedid)))
        line = self._hold_line(linkedid)
        if not line:
            raise CallControlError("the call was put on hold from the phone: resume it there")
        try:
            await self._asterisks.client(server).action("Hangup", Channel=line[0], Cause="16")
        except AmiError as error:
            raise CallControlError(f"cannot resume: {error}") from None
        self._holds.discard(linkedid)
        await self._until(lambda: not self._hold_line(linkedid))

    async def pause_recording(self, linkedid: str) -> None:
        """Stop recording both sides (MixMonitor muted) while the customer gives a card number; the
        call keeps the span (docs/events.md). Returns once Asterisk has confirmed it."""
        await self._mute(linkedid, True)

    async def resume_recording(self, linkedid: str) -> None:
        await self._mute(linkedid, False)

    async def _mute(self, linkedid: str, paused: bool) -> None:
        server, _, _ = self._locate(linkedid)
        call = self._asterisks.find_call(linkedid)
        if call is None or call.phase not in (CallPhase.ANSWERED, CallPhase.HELD):
            raise CallControlError("only a call in conversation has a recording to pause")
        if recording_paused(call) == paused:
            raise CallControlError("the recording is already paused" if paused else "the recording is not paused")
        channel = self._asterisks.calls[server].recording_channel(linkedid)
        if channel is None:
            raise CallControlError("this call is not being recorded")
        try:
            await self._asterisks.client(server).action("MixMonitorMute", Channel=channel, Direction="both", State="1" if paused else "0")
        except AmiError as error:
            raise CallControlError(f"cannot {'pause' if paused else 'resume'} the recording: {error}") from None
        await self._until(lambda: (found := self._asterisks.find_call(linkedid)) is None or recording_paused(found) == paused)

    async def _until(self, condition: Callable[[], bool]) -> None:
        await self._asterisks.until(condition, SETTLE_TIMEOUT_S)

    def _hold_line(self, linkedid: str) -> list[str]:
        return [channel for tracker in self._asterisks.calls.values() for channel in tracker.hold_line(linkedid)]

    async def _off_hold_line(self, linkedid: str) -> None:
        """A transfer of a call held from the desktop starts by taking it off hold."""
        if self._hold_line(linkedid):
            await self.resume(linkedid)

    def _phase(self, linkedid: str) -> CallPhase:
        call = self._asterisks.find_call(linkedid)
        if call is None:
            raise CallControlError(f"no live call {linkedid}")
        return call.phase

    async def blind_transfer(self, linkedid: str, *, queue: str | None = None, agent: str | None = None, number: str | None = None) -> None:
        """Send the customer to a queue, an agent or an outside number; the agent's leg ends."""
        if [queue, agent, number].count(None) != 2:
            raise BadTarget("give exactly one of queue, agent, number")
        if queue is not None:
            if queue not in {q.name for q in self._asterisks.settings.queues}:
                raise BadTarget(f"unknown queue {queue!r}")
            exten = f"q-{queue}"
        elif agent is not None:
            if not QUEUE_OR_AGENT.match(agent):
                raise BadTarget(f"{agent!r} is not an agent extension")
            exten = f"a-{agent}"
        else:
            try:
                exten = allowed_number(number or "", self._asterisks.settings.dialing.allowed_numbers)
            except DialError as error:
                raise BadTarget(str(error)) from None
        await self._off_hold_line(linkedid)
        await self._on_agent_leg(linkedid, "BlindTransfer", "transfer", Context=TRANSFER_CONTEXT, Exten=exten)

    async def attended_transfer(self, linkedid: str, *, agent: str | None = None, number: str | None = None) -> None:
        """Start a consultation: the customer is held while the agent's phone calls the target.
        Finish with :meth:`complete_transfer` (the customer joins the target) or hang the target up."""
        if (agent is None) == (number is None):
            raise BadTarget("give exactly one of agent, number")
        if agent is not None and not (agent.isdigit() and len(agent) == 4):
            raise BadTarget(f"{agent!r} is not a four-digit agent extension")
        try:
            digits = agent or allowed_number(number or "", self._asterisks.settings.dialing.allowed_numbers)
        except DialError as error:
            raise BadTarget(str(error)) from None
        # Atxfer sends the feature code and the digits as DTMF: the target must be digits.
        await self._off_hold_line(linkedid)
        await self._on_agent_leg(linkedid, "Atxfer", "start the transfer", Context=TRANSFER_CONTEXT, Exten=digits)
        self._consulting = {c for c in self._consulting if self._asterisks.find_call(c) is not None} | {linkedid}

    async def complete_transfer(self, linkedid: str) -> None:
        """The transferring agent leaves; the customer and the target are joined. Completing is
        hanging the agent's leg up, so without a consultation under way it would end the customer's
        call: it is refused."""
        if linkedid not in self._consulting:
            raise CallControlError(f"call {linkedid} has no attended transfer to complete; start one first")
        await self._on_agent_leg(linkedid, "Hangup", "complete the transfer", Cause="16")
        self._consulting.discard(linkedid)

    async def _on_agent_leg(self, linkedid: str, action: str, doing: str, **fields: str) -> None:
        """Send ``action`` for the agent's channel of a live call."""
        server, _, agent_channel = self._locate(linkedid)
        if agent_channel is None:
            raise CallControlError(f"call {linkedid} is not answered by an agent")
        try:
            await self._asterisks.client(server).action(action, Channel=agent_channel, **fields)
        except AmiError as error:
            raise CallControlError(f"cannot {doing}: {error}") from None
