"""Hold and transfers: a phone's own hold and the desktop's (an attended transfer to the hold line),
blind and attended transfers, and the customer left on the hold line when the agent hangs up."""

from __future__ import annotations

from datetime import datetime

from telephony.calls.live import HOLD_LINE, TRANSFER_CONTEXT, AmiEvent, LiveCall, TrackerBase
from telephony.calls.state import CallPhase
from telephony.events import CallEvent, CallHeld, CallResumed, CallTransferred


class HoldAndTransfers(TrackerBase):
    # A phone's hold raises ``Hold`` (chan_pjsip), and the bridge then plays music to the other
    # side. Music starting on the customer's channel during the conversation is the same thing
    # seen from the customer, and the only sign when the agent's leg is a Local channel.
    def _on_MusicOnHoldStart(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None or event.get("Uniqueid") not in live.customer_channels:
            return []
        return self._on_Hold(event, at)

    def _on_MusicOnHoldStop(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None or event.get("Uniqueid") not in live.customer_channels:
            return []
        return self._on_Unhold(event, at)

    def _on_Hold(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None or live.info.phase != CallPhase.ANSWERED:
            return []
        live.info.phase, live.info.held_since = CallPhase.HELD, at
        live.info.hold_count += 1
        return [self._emit(live, CallHeld, at)]

    def _on_Unhold(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None or live.info.phase != CallPhase.HELD:
            return []
        held_s = self._end_hold(live, at)
        live.info.phase = CallPhase.ANSWERED
        return [self._emit(live, CallResumed, at, held_s=held_s)]

    def _on_BlindTransfer(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        if event.get("Result") != "Success":
            return []
        live = self._calls.get(event.get("TransfereeLinkedid", "")) or self._calls.get(
            event.get("TransfererLinkedid", "")
        )
        if live is None:
            return []
        return self._transfer(live, at, "blind", event.get("Extension", ""))

    def _on_AttendedTransfer(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        if event.get("Result") != "Success":
            return []
        live = self._calls.get(event.get("OrigTransfererLinkedid", "")) or self._calls.get(
            event.get("TransfereeLinkedid", "")
        )
        if live is None:
            return []
        to_hold_line = (event.get("TransferTargetContext"), event.get("TransferTargetExten")) == (TRANSFER_CONTEXT, HOLD_LINE)
        # When the agent's phone hangs up during the hold, Asterisk may finish the transfer by
        # merging the bridges and name no target; with the hold line up and no consultation
        # started, the hold line is what the customer joined.
        merged_into_hold_line = bool(live.hold_line) and live.consulted is None and "TransferTargetChannel" not in event
        if to_hold_line or merged_into_hold_line:
            self._hung_up_on_hold(live, event.get("TransfereeChannel") or live.customer_channel)
            return []
        exten = event.get("SecondTransfererExten", "")
        target = live.consulted or (exten if exten not in ("", "s") else event.get("TransferTargetCallerIDNum", ""))
        events = self._transfer(live, at, "attended", target)
        if live.consulted:  # the customer now talks to the agent who was consulted
            agent, live.consulted = live.consulted, None
            live.agent_channels.add(event.get("TransferTargetUniqueid", ""))
            live.agent_channel = event.get("TransferTargetChannel") or None
            events += self._answer(live, at, agent, self._agents.interface(agent))
        return events

    def _hung_up_on_hold(self, live: LiveCall, customer_channel: str | None) -> None:
        """The agent hung up while the customer was on the desktop's hold line: Asterisk would
        leave the customer there; the call ends instead, as it would on a phone."""
        if live.agent_hung_up_on_hold:
            return
        live.agent_hung_up_on_hold = True
        if customer_channel:
            self._to_hang_up.append(customer_channel)

    def _transfer(self, live: LiveCall, at: datetime, kind: str, target: str) -> list[CallEvent]:
        info = live.info
        if info.phase == CallPhase.HELD:
            self._end_hold(live, at)
        from_agent = info.agent
        info.transfers.append({"kind": kind, "from_agent": from_agent, "target": target, "at": at.isoformat()})
        info.phase = CallPhase.STARTED
        live.agent_channels.clear()
        live.agent_channel = None
        return [self._emit(live, CallTransferred, at, kind=kind, from_agent=from_agent, target=target)]

    def _drop_hold_line(self, live: LiveCall) -> None:
        if live.hold_line and not live.hold_line_dropped:
            live.hold_line_dropped = True
            self._to_hang_up.append(min(live.hold_line.values()))  # Local ";1": its ";2" goes with it
