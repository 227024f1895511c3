"""What the call tracker keeps per call, and the parts of it that every concern shares: the contexts
and Linkedids that mark our calls, the state of one live call, and the base the tracker's concerns
(telephony/calls/tracker.py: a call's life; hold.py: hold and transfers; resync.py: resync and
adopt) are built on."""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telephony.agents.interfaces import InterfacePattern
from telephony.calls.bounds import bound_call, clipped
from telephony.calls.state import CallSnapshot, Disposition
from telephony.events import CallEvent

INBOUND_CONTEXT = "cc-inbound"
TRANSFER_CONTEXT = "cc-transfer"
SURVEY_CONTEXT = "cc-survey"  # the caller answers the satisfaction survey: the call has ended for us
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
class LiveCall:
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
    recording_channel: str | None = None  # the channel MixMonitor records on (cc-record ran there)


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


class TrackerBase(abc.ABC):
    """One server's live calls and what the tracker must still do about them."""

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
        self._calls: dict[str, LiveCall] = {}
        self._expected: dict[str, ExpectedOutbound | ExpectedCallback] = {}
        self._to_hang_up: list[str] = []

    def _call(self, event: AmiEvent) -> LiveCall | None:
        return self._calls.get(event.get("Linkedid", ""))

    def _emit(self, live: LiveCall, cls: type[CallEvent], at: datetime, **fields: object) -> CallEvent:
        bound_call(live.info)
        fields = {key: clipped(value) for key, value in fields.items()}
        return cls(server=self.server, at=at, call=live.info.copy(), **fields)  # type: ignore[arg-type]

    def _take_caller(self, live: LiveCall, event: AmiEvent) -> None:
        number, name = event.get("CallerIDNum", ""), event.get("CallerIDName", "")
        if number.strip().lower() not in UNKNOWN_CALLER:
            live.info.caller_number = number
        if name.strip().lower() not in UNKNOWN_CALLER:
            live.info.caller_name = name

    def _end_hold(self, live: LiveCall, at: datetime) -> float:
        info = live.info
        if info.held_since is None:
            return 0.0
        held_s = max(0.0, (at - info.held_since).total_seconds())
        info.hold_s = round(info.hold_s + held_s, 3)
        info.held_since = None
        return held_s

    @abc.abstractmethod
    def _answer(self, live: LiveCall, at: datetime, agent: str | None, interface: str | None) -> list[CallEvent]:
        """An agent answered: the call is in conversation (telephony/calls/tracker.py)."""

    @abc.abstractmethod
    def _end(self, live: LiveCall, at: datetime, *, lost: bool = False) -> CallEvent:
        """The call is over: its last state, as CallEnded (telephony/calls/tracker.py)."""


def int_field(value: str | None, default):  # type: ignore[no-untyped-def]
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def duration_s(value: str) -> float:
    """CoreShowChannels' ``Duration`` is ``HH:MM:SS``."""
    try:
        hours, minutes, seconds = (int(part) for part in value.split(":"))
    except ValueError:
        return 0.0
    return hours * 3600 + minutes * 60 + seconds
