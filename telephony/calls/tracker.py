"""AMI events of one Asterisk server → the state of every call on it, and domain events.

One call is one ``Linkedid``. Which calls are ours: the ones whose first channel enters the inbound
context (``cc-inbound``, where trunks deliver calls) and the click-to-dial calls we originate. The
dialplan tells us what AMI alone cannot with ``UserEvent``s (``CCRoute``, ``CCRecording``,
``CCQueueResult``, ``CCOutbound``, ``CCDialResult``; see docs/events.md). A call ends when its last
channel hangs up.

Pure and synchronous: :meth:`CallTracker.handle` takes one AMI event and returns the domain events
it causes, so captured AMI streams replay in tests exactly as they happened.
"""

from __future__ import annotations

import re

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crm.recordings import call_recordings
from telephony.agents.interfaces import InterfacePattern
from telephony.calls.bounds import bound_call, clipped
from telephony.calls.state import CallPhase, CallSnapshot, Disposition
from telephony.events import (
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallEvent,
    CallHeld,
    CallOffered,
    CallQueued,
    CallResumed,
    CallRingNoAnswer,
    CallRouted,
    CallStarted,
    CallTransferred,
)

INBOUND_CONTEXT = "cc-inbound"
TRANSFER_CONTEXT = "cc-transfer"
HOLD_LINE = "*8"  # in cc-transfer: hold from the desktop is an attended transfer to this line
NO_AGENT_RESULTS = {"TIMEOUT", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "FULL"}
DIAL_DISPOSITIONS = {
    "NOANSWER": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "CHANUNAVAIL": Disposition.FAILED,
    "CONGESTION": Disposition.FAILED,
    "CANCEL": Disposition.NO_ANSWER,
}
UNKNOWN_CALLER = {"", "<unknown>", "unknown", "anonymous"}
# Linkedids we choose when placing a call (Originate's ChannelId): click-to-dial's and campaigns'.
OUTBOUND_LINKEDIDS = ("cc-out-", "cc-camp-")
CALLBACK_LINKEDID = re.compile(r"^cc-cb-(\d+)-\d+$")  # a queue callback's stand-in: cc-cb-<callback id>-<attempt>

AmiEvent = Mapping[str, str]


def event_time(event: AmiEvent, default: datetime | None = None) -> datetime:
    """The event's own ``Timestamp`` (manager.conf timestampevents) or, without one, now."""
    try:
        return datetime.fromtimestamp(float(event["Timestamp"]), UTC)
    except (KeyError, TypeError, ValueError):
        return default or datetime.now(UTC)


@dataclass
class _LiveCall:
    info: CallSnapshot
    channels: set[str] = field(default_factory=set)
    customer_channels: set[str] = field(default_factory=set)
    agent_channels: set[str] = field(default_factory=set)
    direct_dials: dict[str, str | None] = field(default_factory=dict)  # dest uniqueid → agent (None: the customer)
    consulted: str | None = None  # the agent an agent is consulting before an attended transfer
    in_queue: bool = False
    abandoned: bool = False
    queue_result: str | None = None
    complete_reason: str | None = None
    first_hangup_side: str | None = None
    requested_side: str | None = None  # whose hang-up request came before any channel hung up
    leave_side: str | None = None  # who left the conversation's bridge first (the other side is then put out)
    any_hangup: bool = False
    originate_failed: bool = False
    hold_line: dict[str, str] = field(default_factory=dict)  # uniqueid → name of the desktop's hold line channels
    agent_hung_up_on_hold: bool = False
    callback_requested: bool = False
    hold_line_dropped: bool = False  # the bridge was asked to hang the hold line up: nobody is on hold
    agent_channel: str | None = None  # channel name of the agent's leg while answered
    customer_channel: str | None = None  # channel name of the customer's leg


@dataclass
class ExpectedOutbound:
    agent: str
    number: str
    interface: str
    campaign_id: int | None = None
    customer_id: int | None = None


@dataclass
class ExpectedCallback:
    callback_id: int
    number: str
    queue: str
    customer_id: int | None
    waiting_since: datetime
    priority: int = 0


class CallTracker:
    def __init__(
        self,
        server: str,
        agents: InterfacePattern,
        *,
        inbound_context: str = INBOUND_CONTEXT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.server = server
        self._agents = agents
        self._inbound_context = inbound_context
        self._clock = clock
        self._calls: dict[str, _LiveCall] = {}
        self._expected: dict[str, ExpectedOutbound | ExpectedCallback] = {}
        self._to_hang_up: list[str] = []

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

    def handle(self, event: AmiEvent) -> list[CallEvent]:
        name = event.get("Event", "")
        handler = getattr(self, f"_on_{name}", None)
        if handler is None:
            return []
        return handler(event, event_time(event, self._clock())) or []

    def _call(self, event: AmiEvent) -> _LiveCall | None:
        return self._calls.get(event.get("Linkedid", ""))

    def _emit(self, live: _LiveCall, cls: type[CallEvent], at: datetime, **fields: object) -> CallEvent:
        bound_call(live.info)
        fields = {key: clipped(value) for key, value in fields.items()}
        return cls(server=self.server, at=at, call=live.info.copy(), **fields)  # type: ignore[arg-type]

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
            live = _LiveCall(info, channels={uniqueid}, customer_channels={uniqueid}, customer_channel=event.get("Channel"))
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
            live = _LiveCall(info, channels={uniqueid}, agent_channels={uniqueid}, agent_channel=event.get("Channel"))
        elif event.get("Context") == self._inbound_context:
            info = CallSnapshot(
                linkedid=linkedid,
                server=self.server,
                direction="inbound",
                started_at=at,
                did=event.get("Exten") or None,
            )
            live = _LiveCall(info, channels={uniqueid}, customer_channels={uniqueid}, customer_channel=event.get("Channel"))
            self._take_caller(live, event)
        else:
            return []
        self._calls[linkedid] = live
        return [self._emit(live, CallStarted, at)]

    def _take_caller(self, live: _LiveCall, event: AmiEvent) -> None:
        number, name = event.get("CallerIDNum", ""), event.get("CallerIDName", "")
        if number.strip().lower() not in UNKNOWN_CALLER:
            live.info.caller_number = number
        if name.strip().lower() not in UNKNOWN_CALLER:
            live.info.caller_name = name

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

    def _on_UserEvent(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        live = self._call(event)
        if live is None:
            return []
        kind = event.get("UserEvent")
        info = live.info
        if kind == "CCRoute":
            live.customer_channels.add(event.get("Uniqueid", ""))  # the leg that runs our dialplan
            info.did = event.get("DID") or info.did
            info.queue = event.get("Queue") or info.queue
            info.entry_queue = info.entry_queue or info.queue
            info.priority = _int(event.get("QueuePriority"), 0)
            info.customer_id = _int(event.get("Customer"), None)
            info.route = event.get("Route") or "fallback"
            info.preferred_agent = event.get("Preferred") or None
            return [self._emit(live, CallRouted, at)]
        if kind == "CCRecording" and event.get("Name"):
            base = event["Name"]
            info.recordings = call_recordings(base)
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
            position = _int(event.get("Position"), None)
            return [self._emit(live, CallbackRequested, at, number=event["Number"], position=position)]
        elif kind == "CCOutbound" and info.direction != "outbound":
            info.direction = "outbound"
            info.called_number = event.get("Number") or info.called_number
            info.agent = event.get("Agent") or info.agent
        return []

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
        info.position = _int(event.get("Position"), None)
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

    def _offer(self, live: _LiveCall, at: datetime, agent: str, interface: str, queue: str | None) -> list[CallEvent]:
        info = live.info
        info.offered_at = info.offered_at or at
        info.offers.append({"agent": agent, "interface": interface, "queue": queue, "at": at.isoformat(), "result": "ringing"})
        if info.phase not in (CallPhase.ANSWERED, CallPhase.HELD):
            info.phase = CallPhase.RINGING
        return [self._emit(live, CallOffered, at, agent=agent, interface=interface)]

    def _close_offer(self, live: _LiveCall, agent: str, result: str) -> None:
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
        return self._ring_no_answer(live, at, agent, interface, _int(event.get("RingTime"), 0) / 1000)

    def _ring_no_answer(self, live: _LiveCall, at: datetime, agent: str, interface: str, ring_s: float) -> list[CallEvent]:
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

    def _answer(self, live: _LiveCall, at: datetime, agent: str | None, interface: str | None) -> list[CallEvent]:
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

    # Hold, transfer -----------------------------------------------------------------------------

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

    def _end_hold(self, live: _LiveCall, at: datetime) -> float:
        info = live.info
        if info.held_since is None:
            return 0.0
        held_s = max(0.0, (at - info.held_since).total_seconds())
        info.hold_s = round(info.hold_s + held_s, 3)
        info.held_since = None
        return held_s

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

    def _hung_up_on_hold(self, live: _LiveCall, customer_channel: str | None) -> None:
        """The agent hung up while the customer was on the desktop's hold line: Asterisk would
        leave the customer there; the call ends instead, as it would on a phone."""
        if live.agent_hung_up_on_hold:
            return
        live.agent_hung_up_on_hold = True
        if customer_channel:
            self._to_hang_up.append(customer_channel)

    def _transfer(self, live: _LiveCall, at: datetime, kind: str, target: str) -> list[CallEvent]:
        info = live.info
        if info.phase == CallPhase.HELD:
            self._end_hold(live, at)
        from_agent = info.agent
        info.transfers.append({"kind": kind, "from_agent": from_agent, "target": target, "at": at.isoformat()})
        info.phase = CallPhase.STARTED
        live.agent_channels.clear()
        live.agent_channel = None
        return [self._emit(live, CallTransferred, at, kind=kind, from_agent=from_agent, target=target)]

    # Hangup ----------------------------------------------------------------------------------------

    def _side(self, live: _LiveCall, uniqueid: str) -> str | None:
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
        if live.hold_line and uniqueid in live.agent_channels and live.customer_channels & live.channels:
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

    def _drop_hold_line(self, live: _LiveCall) -> None:
        if live.hold_line and not live.hold_line_dropped:
            live.hold_line_dropped = True
            self._to_hang_up.append(min(live.hold_line.values()))  # Local ";1": its ";2" goes with it

    def _end(self, live: _LiveCall, at: datetime, *, lost: bool = False) -> CallEvent:
        info = live.info
        self._calls.pop(info.linkedid, None)
        if info.phase == CallPhase.HELD:
            self._end_hold(live, at)
        info.ended_at, info.phase, info.position = at, CallPhase.ENDED, None
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

    def _unanswered_inbound(self, live: _LiveCall) -> Disposition:
        if live.info.route == "closed":
            return Disposition.OUT_OF_HOURS
        if live.queue_result in NO_AGENT_RESULTS:
            return Disposition.NO_AGENT
        return Disposition.ABANDONED

    def _hangup_side(self, live: _LiveCall, lost: bool) -> str:
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

    # Resynchronisation -----------------------------------------------------------------------------

    def mark_snapshot(self) -> dict[str, set[str]]:
        """The channels of every call now, just before a snapshot is requested (see :meth:`resync`)."""
        return {linkedid: set(live.channels) for linkedid, live in self._calls.items()}

    def resync(
        self, channels: Iterable[AmiEvent], before: dict[str, set[str]] | None = None, at: datetime | None = None
    ) -> list[CallEvent]:
        """Bring the picture in line with ``CoreShowChannels`` after a (re)login.

        ``before`` is :meth:`mark_snapshot` taken when the snapshot was requested: only channels
        known then can be missing from it; calls and channels that appeared while it was being
        taken are left alone. Calls whose channels are all gone ended while we were not listening:
        they are closed now (hang-up side "system" unless known), so their call-log row is
        complete. Calls we had missed are adopted when they are clearly ours (in a queue or in a
        cc- context).
        """
        at = at or self._clock()
        if before is None:
            before = self.mark_snapshot()
        by_call: dict[str, list[AmiEvent]] = {}
        for channel in channels:
            by_call.setdefault(channel.get("Linkedid", ""), []).append(channel)
        events: list[CallEvent] = []
        for linkedid, known in before.items():
            live = self._calls.get(linkedid)
            if live is None:
                continue
            alive = {c.get("Uniqueid", "") for c in by_call.get(linkedid, [])}
            live.channels -= known - alive
            if not live.channels:
                events.append(self._end(live, at, lost=True))
        for linkedid, members in by_call.items():
            if linkedid and linkedid not in self._calls and linkedid not in before:
                events.extend(self._adopt(linkedid, members, at))
        return events

    def _adopt(self, linkedid: str, channels: list[AmiEvent], at: datetime) -> list[CallEvent]:
        queued = [c for c in channels if c.get("Application") == "Queue"]
        ours = queued or [c for c in channels if c.get("Context", "").startswith("cc-")]
        outbound = linkedid.startswith(OUTBOUND_LINKEDIDS) or any(c.get("Context") == "cc-outbound" for c in channels)
        if not ours and not outbound:
            return []
        first = next((c for c in channels if c.get("Uniqueid") == linkedid), (ours or channels)[0])
        duration = _duration_s(first.get("Duration", ""))
        info = CallSnapshot(
            linkedid=linkedid, server=self.server, direction="outbound" if outbound else "inbound",
            started_at=at - timedelta(seconds=duration), adopted=True,
        )  # fmt: skip
        live = _LiveCall(info, channels={c.get("Uniqueid", "") for c in channels})
        self._calls[linkedid] = live
        if (callback := CALLBACK_LINKEDID.match(linkedid)) is not None:
            return self._adopt_callback(live, int(callback.group(1)), channels, at)
        if outbound:
            self._adopt_outbound(live, first, channels, at)
            return [self._emit(live, CallStarted, at)]
        live.customer_channels = {first.get("Uniqueid", "")} | {c.get("Uniqueid", "") for c in queued}
        self._take_caller(live, first)
        events: list[CallEvent] = [self._emit(live, CallStarted, at)]
        if queued:
            info.queue = info.entry_queue = queued[0].get("ApplicationData", "").split(",")[0] or None
            if queued[0].get("BridgeId"):
                info.answered_at = info.queued_at = at
                info.phase = CallPhase.ANSWERED
            else:
                live.in_queue = True
                info.queued_at, info.phase = at, CallPhase.QUEUED
                events.append(self._emit(live, CallQueued, at, queue=info.queue or "", position=0))
        return events


    def _adopt_callback(self, live: _LiveCall, callback_id: int, channels: list[AmiEvent], at: datetime) -> list[CallEvent]:
        """A queue callback's stand-in placed before a restart: still waiting in the queue, ringing its
        agent, calling the number, or talking. Followed from here, so its end still settles the attempt."""
        info, linkedid = live.info, live.info.linkedid
        info.direction, info.callback_id = "outbound", callback_id
        stand_in = {linkedid, f"{linkedid}-2"}
        live.customer_channels = set(stand_in)
        first = next((c for c in channels if c.get("Uniqueid") == linkedid), {})
        live.customer_channel = first.get("Channel") or None
        queued = next((c for c in channels if c.get("Uniqueid") == f"{linkedid}-2" and c.get("Application") == "Queue"), None)
        if queued is not None:
            info.queue = info.entry_queue = queued.get("ApplicationData", "").split(",")[0] or None
        for channel in channels:
            agent = self._agents.extension_of_channel(channel.get("Channel"))
            if agent and channel.get("Uniqueid") not in stand_in:
                live.agent_channels.add(channel.get("Uniqueid", ""))
                live.agent_channel, info.agent, info.agent_interface = channel.get("Channel"), agent, self._agents.interface(agent)
        events: list[CallEvent] = [self._emit(live, CallStarted, at)]
        if info.agent is None:  # the stand-in still waits for its turn
            live.in_queue = True
            info.queued_at, info.phase = at, CallPhase.QUEUED
            events.append(self._emit(live, CallQueued, at, queue=info.queue or "", position=0))
            return events
        info.answered_at, info.phase = at, CallPhase.ANSWERED
        if first.get("Context") == "cc-callback":
            info.called_number = first.get("Exten") or None
            if first.get("Application") == "Dial" and first.get("BridgeId"):
                info.dial_status = "ANSWER"  # the customer answered before the restart
            else:
                live.direct_dials = dict.fromkeys({c.get("Uniqueid", "") for c in channels} - stand_in - live.agent_channels)
        events.append(self._emit(live, CallAnswered, at, agent=info.agent, interface=info.agent_interface))
        return events

    def _adopt_outbound(self, live: _LiveCall, agent_leg: AmiEvent, channels: list[AmiEvent], at: datetime) -> None:
        """Our click-to-dial or campaign call (its first channel, the agent's phone, has the Linkedid
        we chose): still ringing the agent, dialling the customer, or talking. Followed from here
        as if it had been placed now, so its Dial's end still tells how it went."""
        info, linkedid = live.info, live.info.linkedid
        live.agent_channels = {agent_leg.get("Uniqueid", "")}
        live.agent_channel = agent_leg.get("Channel") or None
        live.customer_channels = {c.get("Uniqueid", "") for c in channels} - {linkedid, f"{linkedid}-2"}
        info.agent = self._agents.extension_of_channel(agent_leg.get("Channel"))
        info.agent_interface = self._agents.interface(info.agent) if info.agent else None
        if agent_leg.get("Context") == "cc-outbound":
            info.called_number = agent_leg.get("Exten") or None
            if agent_leg.get("BridgeId"):  # the customer answered: they are talking
                info.answered_at, info.phase, info.dial_status = at, CallPhase.ANSWERED, "ANSWER"
            else:  # the customer's phone is ringing: the Dial's end says how it went
                live.direct_dials = dict.fromkeys(live.customer_channels)
                info.offered_at = at


def _int(value: str | None, default):  # type: ignore[no-untyped-def]
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _duration_s(value: str) -> float:
    """CoreShowChannels' ``Duration`` is ``HH:MM:SS``."""
    try:
        hours, minutes, seconds = (int(part) for part in value.split(":"))
    except ValueError:
        return 0.0
    return hours * 3600 + minutes * 60 + seconds
