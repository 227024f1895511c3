"""What the bridge knows about one call at one moment."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any


class CallPhase(enum.StrEnum):
    STARTED = "started"  # entered Asterisk, not yet in a queue
    QUEUED = "queued"
    RINGING = "ringing"  # offered to an agent
    ANSWERED = "answered"
    HELD = "held"
    ENDED = "ended"


class Disposition(enum.StrEnum):
    """How the call ended, from the caller's point of view (calls.disposition)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller left before an agent answered
    NO_AGENT = "no_agent"  # the queue gave up: timeout, nobody logged in
    OUT_OF_HOURS = "out_of_hours"
    NO_ANSWER = "no_answer"  # outbound: the agent or the customer did not pick up
    BUSY = "busy"
    FAILED = "failed"
    CALLBACK = "callback"  # inbound: the caller left the queue asking to be called back (docs/callbacks.md)


@dataclass
class CallSnapshot:
    """A copy of one call's state; the fields follow the calls table (the handbook's 呼叫电话记录表)."""

    linkedid: str
    server: str
    direction: str  # inbound | outbound
    started_at: datetime
    phase: CallPhase = CallPhase.STARTED
    did: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    called_number: str | None = None
    customer_id: int | None = None
    route: str | None = None  # queue | preferred | closed | fallback (docs/agi.md)
    queue: str | None = None
    entry_queue: str | None = None  # the first queue the call went to; the KPIs count it there
    priority: int = 0
    position: int | None = None
    preferred_agent: str | None = None
    agent: str | None = None  # extension of the agent on the call (the last one, after transfers)
    agent_interface: str | None = None
    queued_at: datetime | None = None
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    held_since: datetime | None = None
    hold_s: float = 0.0
    hold_count: int = 0
    wait_s: float | None = None
    talk_s: float | None = None
    disposition: Disposition | None = None
    hangup_side: str | None = None  # caller | agent | system
    offers: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    recording_paused: list[dict[str, str | None]] = field(default_factory=list)  # spans not recorded: {"start", "end"} (ISO)
    campaign_id: int | None = None  # an outbound campaign's dial
    callback_id: int | None = None  # a queue callback's call (queue_callbacks.id)
    waiting_since: datetime | None = None  # a queue callback's: when its caller joined the queue
    surveyed_at: datetime | None = None  # the agent hung up and the caller was asked for a satisfaction score
    dial_status: str | None = None  # outbound: the customer's Dial status (ANSWER, BUSY, ...); none: never dialled
    adopted: bool = False  # picked up from a snapshot after a reconnection: its early details are unknown here

    def copy(self) -> CallSnapshot:
        # Offers, transfers and paused spans hold only strings: copying each dict is a full copy, ~20× faster
        # than deepcopy, and this runs for every call event.
        return replace(
            self,
            offers=[dict(o) for o in self.offers],
            transfers=[dict(t) for t in self.transfers],
            recordings=list(self.recordings),
            recording_paused=[dict(s) for s in self.recording_paused],
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def recording_paused(call: CallSnapshot) -> bool:
    """Whether the call's recording is paused now (its last paused span is open)."""
    return bool(call.recording_paused) and call.recording_paused[-1].get("end") is None
