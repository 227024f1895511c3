"""AMI events of one Asterisk server → the state of every call on it, and domain events.

One call is one ``Linkedid``. Which calls are ours: the ones whose first channel enters the inbound
context (``cc-inbound``, where trunks deliver calls) and the click-to-dial calls we originate. The
dialplan tells us what AMI alone cannot with ``UserEvent``s (``CCRoute``, ``CCRecording``,
``CCQueueResult``, ``CCOutbound``, ``CCDialResult``; see docs/events.md). A call ends when its last
channel hangs up.

Pure and synchronous: :meth:`CallTracker.handle` takes one AMI event and returns the domain events
it causes, so captured AMI streams replay in tests exactly as they happened. The tracker is one
object built from three concerns: a call's life here, hold and transfers (hold.py), resync and
adoption after a reconnection (resync.py); live.py holds what they share.
"""

from __future__ import annotations

from datetime import datetime

from crm.recordings import call_recordings
from telephony.calls.hold import HoldAndTransfers
from telephony.calls.live import (
    DIAL_DISPOSITIONS, HOLD_LINE, NO_AGENT_RESULTS, TRANSFER_CONTEXT, AmiEvent, ExpectedCallback, ExpectedOutbound, LiveCall, event_time,
    int_field,
)  # fmt: skip
from telephony.calls.bounds import LINKEDID_LENGTH, bounded
from telephony.calls.resync import Resync
from telephony.calls.state import CallPhase, CallSnapshot, Disposition, recording_paused
from telephony.events import (
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallEvent,
    CallOffered,
    CallQueued,
    CallRecordingPaused,
    CallRingNoAnswer,
    CallRouted,
    CallStarted,
    DomainEvent,
    SurveyAnswered,
)


class CallTracker(HoldAndTransfers, Resync):
    # Reading ---------------------------------------------------------------------------------------

    def calls(self) -> list[CallSnapshot]:
        return [live.info.copy() for live in self._calls.values()]

    def get(self, linkedid: str) -> CallSnapshot | None:
        live = self._calls.get(linkedid)
        return live.info.copy() if live else None

    def channels(self, linkedid: str) -> tuple[str | None, str | None]:
        """(customer's channel, agent's channel) names of a live call, for call-control actions."""
        live = self._calls.get(linkedid)
        return (live.customer_channel, live.agent_channel) if live else (None, None)

    def recording_channel(self, linkedid: str) -> str | None:
        """The channel a live call's recording (MixMonitor) runs on, to pause it there."""
        live = self._calls.get(linkedid)
        return live.recording_channel if live else None

    def hold_line(self, linkedid: str) -> list[str]:
        """The channels of the desktop's hold line while it is up (held, or a resume not yet finished)."""
        live = self._calls.get(linkedid)
        return sorted(live.hold_line.values()) if live is not None else []

    def take_hang_ups(self) -> list[str]:
        """Channels the bridge must hang up: customers left on the hold line when their agent hung up."""
        channels, self._to_hang_up = self._to_hang_up, []
        return channels

    def expect_outbound(
        self, linkedid: str, *, agent: str, number: str, interface: str, campaign_id: int | None = None, customer_id: int | None = None
    ) -> None:
        """A click-to-dial or a campaign's dial we are about to originate with ``ChannelId=linkedid``."""
        self._expected[linkedid] = ExpectedOutbound(agent, number, interface, campaign_id, customer_id)

    def expect_callback(
        self, linkedid: str, *, callback_id: int, number: str, queue: str, customer_id: int | None, waiting_since: datetime,
        priority: int = 0,
    ) -> None:
        """A queue callback's stand-in we are about to originate with ``ChannelId=linkedid``."""
        self._expected[linkedid] = ExpectedCallback(callback_id, number, queue, customer_id, waiting_since, priority)

    # Events ----------------------------------------------------------------------------------------

    def handle(self, event: AmiEvent) -> list[DomainEvent]:
        name = event.get("Event", "")
        handler = getattr(self, f"_on_{name}", None)
        if handler is None:
            return []
        return handler(event, event_time(event, self._clock())) or []

    def _on_Newchannel(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        linkedid, uniqueid = event.get("Linkedid", ""), event.get("Uniqueid", "")
        live = self._calls.get(linkedid)
        if live is not None:
            live.channels.add(uniqueid)
            if (event.get("Context"), event.get("Exten")) == (TRANSFER_CONTEXT, HOLD_LINE):
                live.hold_line[uniqueid] = event.get("Channel", "")
                if not live.customer_channels & live.channels:
                    # The customer hung up while the hold was being set up (Atxfer takes a second
                    # or two): the line would keep the agent's phone for hours, holding nobody.
                    self._drop_hold_line(live)
            return []
        if uniqueid != linkedid:
            return []
        expected = self._expected.pop(linkedid, None)
        if isinstance(expected, ExpectedCallback):
            info = CallSnapshot(
                linkedid=linkedid, server=self.server, direction="outbound", started_at=at, called_number=expected.number,
                queue=expected.queue, customer_id=expected.customer_id, callback_id=expected.callback_id,
                waiting_since=expected.waiting_since, priority=expected.priority, entry_queue=expected.queue,
            )  # fmt: skip
            live = LiveCall(info, channels={uniqueid}, customer_channels={uniqueid}, customer_channel=event.get("Channel"))
        elif expected is not None:
            info = CallSnapshot(
                linkedid=linkedid,
                server=self.server,
                direction="outbound",
                started_at=at,
                called_number=expected.number,
                agent=expected.agent,
                agent_interface=expected.interface,
                campaign_id=expected.campaign_id,
                customer_id=expected.customer_id,
            )
            live = LiveCall(info, channels={uniqueid}, agent_channels={uniqueid}, agent_channel=event.get("Channel"))
        elif event.get("Context") == self._inbound_context:
            info = CallSnapshot(
                linkedid=linkedid,
                server=self.server,
                direction="inbound",
                started_at=at,
                did=event.get("Exten") or None,
            )
            live = LiveCall(info, channels={uniqueid}, customer_channels={uniqueid}, customer_channel=event.get("Channel"))
            self._take_caller(live, event)
        else:
            return []
        self._calls[linkedid] = live
        return [self._emit(live, CallStarted, at)]

    def _on_NewCallerid(self, event: AmiEvent, at: datetime) -> None:
        live = self._call(event)
        if live and live.info.direction == "inbound" and event.get("Uniqueid") == live.info.linkedid:
            self._take_caller(live, event)

    def _on_OriginateResponse(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        # An originate whose first leg (the agent's phone) never answered: no channel may be left.
        live = self._calls.get(event.get("Uniqueid", ""))
        if live is None or event.get("Response") != "Failure":
            self._expected.pop(event.get("Uniqueid", ""), None)
            return []
        live.originate_failed = True
        return []

    def _on_UserEvent(self, event: AmiEvent, at: datetime) -> list[DomainEvent]:
        kind = event.get("UserEvent")
        if kind == "CCSurvey":
            return self._survey(event, at)
        live = self._call(event)
        if live is None:
            return []
        info = live.info
        if kind == "CCRoute":
            live.customer_channels.add(event.get("Uniqueid", ""))  # the leg that runs our dialplan
            info.did = event.get("DID") or info.did
            info.queue = event.get("Queue") or info.queue
            info.entry_queue = info.entry_queue or info.queue
            info.priority = int_field(event.get("QueuePriority"), 0)
            info.customer_id = int_field(event.get("Customer"), None)
            info.route = event.get("Route") or "fallback"
            info.preferred_agent = event.get("Preferred") or None
            return [self._emit(live, CallRouted, at)]
        if kind == "CCRecording" and event.get("Name"):
            base = event["Name"]
            info.recordings = call_recordings(base)
            live.recording_channel = event.get("Channel") or live.recording_channel
        elif kind == "CCHangup" and not live.any_hangup and live.requested_side is None:
            live.requested_side = "system"
        elif kind == "CCVoicemail" and event.get("Name"):
            info.recordings = [event["Name"]]
        elif kind == "CCQueueResult":
            live.queue_result = event.get("Status") or None
        elif kind == "CCDialResult":
            live.info.dial_status = event.get("Status") or None
        elif kind == "CCCallbackRequest" and info.direction == "inbound" and event.get("Number"):
            live.callback_requested = True
            position = int_field(event.get("Position"), None)
            return [self._emit(live, CallbackRequested, at, number=event["Number"], position=position)]
        elif kind == "CCOutbound" and info.direction != "outbound":
            info.direction = "outbound"
            info.called_number = event.get("Number") or info.called_number
            info.agent = event.get("Agent") or info.agent
        return []

    def _survey(self, event: AmiEvent, at: datetime) -> list[DomainEvent]:
        """The satisfaction survey (cc-survey): the agent has hung up and the caller is asked, so the
        call ends here (its talk time and the agent's wrap-up run from now); the key comes later,
        for a call already ended."""
        live = self._call(event)
        if event.get("State") == "offered":
            if live is None or live.info.answered_at is None:
                return []
            live.info.surveyed_at = at
            return [self._end(live, at)]
        score = int_field(event.get("Score"), None)
        if event.get("State") != "answered" or score is None or not 1 <= score <= 5:
            return []
        return [SurveyAnswered(server=self.server, at=at, linkedid=bounded(event.get("Linkedid", ""), LINKEDID_LENGTH), score=score)]

    def _on_MixMonitorMute(self, event: AmiEvent, at: datetime) -> list[DomainEvent]:
        """The recording paused (muted both ways) or resumed: the call keeps the span, so the call
        log shows what is missing from the recording and why the QA player is silent there."""
        live = self._call(event)
        if live is None:
            return []
        spans, paused = live.info.recording_paused, recording_paused(live.info)
        if event.get("State") == "1" and not paused:
            spans.append({"start": at.isoformat(), "end": None})
        elif event.get("State") == "0" and paused:
            spans[-1]["end"] = at.isoformat()
        else:
            return []
        return [self._emit(live, CallRecordingPaused, at, paused=not paused)]

    # Queue ---------------------------------------------------------------------------------------

    def _on_QueueCallerJoin(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        info = live.info
        live.in_queue = True
        live.customer_channels.add(event.get("Uniqueid", ""))
        info.queue = event.get("Queue") or info.queue
        info.entry_queue = info.entry_queue or info.queue
        info.position = int_field(event.get("Position"), None)
        info.queued_at = info.queued_at or at
        info.phase = CallPhase.QUEUED
        if not info.caller_number:
            self._take_caller(live, event)
        return [self._emit(live, CallQueued, at, queue=info.queue or "", position=info.position or 0)]

    def _on_QueueCallerLeave(self, event: AmiEvent, at: datetime) -> None:
        live = self._call(event)
        if live is not None:
            live.in_queue = False
            live.info.position = None

    def _on_QueueCallerAbandon(self, event: AmiEvent, at: datetime) -> None:
        live = self._call(event)
        if live is not None:
            live.abandoned = True

    def _on_AgentCalled(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        interface = event.get("Interface", "")
        agent = self._agents.extension(interface) or event.get("MemberName", "")
        return self._offer(live, at, agent, interface, event.get("Queue"))

    def _offer(self, live: LiveCall, at: datetime, agent: str, interface: str, queue: str | None) -> list[CallEvent]:
        info = live.info
        info.offered_at = info.offered_at or at
        info.offers.append({"agent": agent, "interface": interface, "queue": queue, "at": at.isoformat(), "result": "ringing"})
        if info.phase not in (CallPhase.ANSWERED, CallPhase.HELD):
            info.phase = CallPhase.RINGING
        return [self._emit(live, CallOffered, at, agent=agent, interface=interface)]

    def _close_offer(self, live: LiveCall, agent: str, result: str) -> None:
        for offer in reversed(live.info.offers):
            if offer["agent"] == agent and offer["result"] == "ringing":
                offer["result"] = result
                return

    def _on_AgentRingNoAnswer(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        interface = event.get("Interface", "")
        agent = self._agents.extension(interface) or event.get("MemberName", "")
        return self._ring_no_answer(live, at, agent, interface, int_field(event.get("RingTime"), 0) / 1000)

    def _ring_no_answer(self, live: LiveCall, at: datetime, agent: str, interface: str, ring_s: float) -> list[CallEvent]:
        self._close_offer(live, agent, "no_answer")
        if live.info.phase == CallPhase.RINGING and not any(o["result"] == "ringing" for o in live.info.offers):
            live.info.phase = CallPhase.QUEUED if live.in_queue else CallPhase.STARTED
        return [self._emit(live, CallRingNoAnswer, at, agent=agent, interface=interface, ring_s=ring_s)]

    def _on_AgentConnect(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        interface = event.get("Interface", "")
        agent = self._agents.extension(interface) or event.get("MemberName", "")
        live.agent_channels.add(event.get("DestUniqueid", ""))
        live.agent_channel = event.get("DestChannel") or live.agent_channel
        return self._answer(live, at, agent, interface)

    def _answer(self, live: LiveCall, at: datetime, agent: str | None, interface: str | None) -> list[CallEvent]:
        info = live.info
        if agent:
            self._close_offer(live, agent, "answered")
        for offer in info.offers:
            if offer["result"] == "ringing":
                offer["result"] = "cancelled"
        if info.answered_at is None:
            info.answered_at = at
            waited_from = info.waiting_since or info.queued_at or info.started_at
            info.wait_s = round((at - waited_from).total_seconds(), 3) if info.direction == "inbound" or info.callback_id else None
        info.agent, info.agent_interface = agent or info.agent, interface or info.agent_interface
        info.phase = CallPhase.ANSWERED
        return [self._emit(live, CallAnswered, at, agent=info.agent, interface=info.agent_interface)]

    def _on_AgentComplete(self, event: AmiEvent, at: datetime) -> None:
        live = self._call(event)
        if live is not None:
            live.complete_reason = event.get("Reason") or None

    # Direct dials: the preferred agent before the queue, and the customer leg of click-to-dial ----

    def _on_DialBegin(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None or live.in_queue:
            return []
        dest = event.get("DestUniqueid", "")
        if live.info.direction == "outbound":
            dialler = event.get("Uniqueid")
            if dialler in live.agent_channels or (live.info.callback_id is not None and dialler == live.info.linkedid):
                live.direct_dials[dest] = None
                live.customer_channels.add(dest)
                live.customer_channel = event.get("DestChannel") or live.customer_channel
                live.info.offered_at = live.info.offered_at or at
            return []
        agent = (
            self._agents.extension_of_channel(event.get("DestChannel"))
            or self._agents.extension(event.get("DialString", ""))
            or live.info.preferred_agent
        )
        if not agent:
            return []
        if event.get("Uniqueid") not in live.customer_channels:
            live.consulted = agent  # an agent's consultation call: the customer waits on hold
            return []
        live.direct_dials[dest] = agent
        return self._offer(live, at, agent, self._agents.interface(agent), live.info.queue)

    def _on_DialEnd(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        dest = event.get("DestUniqueid", "")
        if live is None or dest not in live.direct_dials:
            return []
        agent = live.direct_dials.pop(dest)
        status = event.get("DialStatus", "")
        if agent is None:  # click-to-dial: the customer's phone
            live.info.dial_status = status
            if status == "ANSWER" and live.info.callback_id is None:  # a callback's agent answered first
                return self._answer(live, at, live.info.agent, live.info.agent_interface)
            return []
        if status == "ANSWER":
            live.agent_channels.add(dest)
            live.agent_channel = event.get("DestChannel") or live.agent_channel
            return self._answer(live, at, agent, self._agents.interface(agent))
        return self._ring_no_answer(live, at, agent, self._agents.interface(agent), 0.0)

    # Hangup ----------------------------------------------------------------------------------------

    def _side(self, live: LiveCall, uniqueid: str) -> str | None:
        if uniqueid in live.customer_channels:
            return "caller"
        if uniqueid in live.agent_channels:
            return "agent"
        return None

    def _on_BridgeEnter(self, event: AmiEvent, at: datetime) -> None:
        live = self._call(event)
        if live is not None:
            live.leave_side = None

    def _on_BridgeLeave(self, event: AmiEvent, at: datetime) -> None:
        """Whoever hangs up leaves the bridge first; the other is put out right after. This order is
        the bridge's own, unlike the hang-up events of the two channels, which can interleave."""
        live = self._call(event)
        if live is not None and live.leave_side is None and live.info.answered_at is not None:
            live.leave_side = self._side(live, event.get("Uniqueid", ""))

    def _on_HangupRequest(self, event: AmiEvent, at: datetime) -> None:
        """A phone or trunk asked to hang up (``HangupRequest``), or an action or application did
        (``SoftHangupRequest``); the dialplan's own ``Hangup()`` raises neither."""
        live = self._call(event)
        if live is None or live.any_hangup or live.requested_side is not None:
            return
        live.requested_side = self._side(live, event.get("Uniqueid", ""))

    _on_SoftHangupRequest = _on_HangupRequest

    def _on_Hangup(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        live.any_hangup = True
        uniqueid = event.get("Uniqueid", "")
        if live.hold_line and self._agents_leg(live, uniqueid, event.get("Channel")) and live.customer_channels & live.channels:
            # Also when the hold line was still ringing: then Asterisk reports no transfer to it.
            self._hung_up_on_hold(live, live.customer_channel)
        elif live.hold_line and uniqueid in live.customer_channels:
            # The customer left while held: the agent would stay on the silent hold line. Asterisk
            # sometimes hangs the agent's phone up with the line, sometimes leaves it up alone in
            # the transfer's bridge, depending on which of the customer's channels goes first.
            self._to_hang_up.extend(live.hold_line.values())
            if live.agent_channel:
                self._to_hang_up.append(live.agent_channel)
            live.hold_line.clear()
        if live.first_hangup_side is None and live.info.answered_at is not None:
            live.first_hangup_side = self._side(live, uniqueid)
        live.channels.discard(uniqueid)
        live.hold_line.pop(uniqueid, None)
        if live.channels and live.channels <= live.hold_line.keys():
            self._drop_hold_line(live)  # everybody else has gone: the line plays to nobody
        if live.channels:
            return []
        return [self._end(live, at)]

    @staticmethod
    def _agents_leg(live: LiveCall, uniqueid: str, channel: str | None) -> bool:
        """The agent's leg, or the phone's half of it when that leg is a Local channel: hung up
        just as the hold line comes up, the half in our bridge can stay stuck in the transfer's move
        between bridges, and only its partner reports the hang-up."""
        if uniqueid in live.agent_channels:
            return True
        leg = live.agent_channel or ""
        return bool(channel) and leg.startswith("Local/") and leg.endswith(";1") and channel == leg[:-1] + "2"

    def _end(self, live: LiveCall, at: datetime, *, lost: bool = False) -> CallEvent:
        info = live.info
        self._calls.pop(info.linkedid, None)
        if info.phase == CallPhase.HELD:
            self._end_hold(live, at)
        info.ended_at, info.phase, info.position = at, CallPhase.ENDED, None
        for span in info.recording_paused:
            span["end"] = span["end"] or at.isoformat()
        for offer in info.offers:
            if offer["result"] == "ringing":
                offer["result"] = "cancelled"
        if info.answered_at is not None:
            talk = (at - info.answered_at).total_seconds() - info.hold_s
            info.talk_s = round(max(0.0, talk), 3)
            info.disposition = Disposition.ANSWERED
            if info.callback_id is not None and info.dial_status != "ANSWER":  # the agent took it; the number did not answer
                info.disposition = DIAL_DISPOSITIONS.get(info.dial_status or "", Disposition.NO_ANSWER)
        elif live.callback_requested:
            info.wait_s = round((at - (info.queued_at or info.started_at)).total_seconds(), 3)
            info.disposition = Disposition.CALLBACK
        elif info.direction == "inbound":
            info.wait_s = round((at - (info.queued_at or info.started_at)).total_seconds(), 3)
            info.disposition = Disposition.FAILED if lost else self._unanswered_inbound(live)
        else:
            info.disposition = (
                Disposition.FAILED if live.originate_failed else DIAL_DISPOSITIONS.get(live.info.dial_status or "", Disposition.NO_ANSWER)
            )
        info.hangup_side = self._hangup_side(live, lost)
        return self._emit(live, CallEnded, at)

    def _unanswered_inbound(self, live: LiveCall) -> Disposition:
        if live.info.route == "closed":
            return Disposition.OUT_OF_HOURS
        if live.queue_result in NO_AGENT_RESULTS:
            return Disposition.NO_AGENT
        return Disposition.ABANDONED

    def _hangup_side(self, live: LiveCall, lost: bool) -> str:
        if live.agent_hung_up_on_hold:
            return "agent"
        if live.complete_reason in ("caller", "agent"):
            return live.complete_reason
        if live.info.answered_at is not None and live.leave_side:
            return live.leave_side
        if live.requested_side:
            return live.requested_side
        if live.first_hangup_side:
            return live.first_hangup_side
        if lost:
            return "system"
        info = live.info
        if info.disposition == Disposition.ABANDONED:
            return "caller"
        if info.direction == "outbound" and info.answered_at is None:
            return "agent" if live.info.dial_status is None else "system"
        return "system"
