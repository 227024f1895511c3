"""What the bridge knows about one agent at one moment."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


@dataclass
class AgentSnapshot:
    extension: str
    server: str
    state: AgentState
    since: datetime
    name: str = ""
    reason: str | None = None  # the pause reason code while the state is paused
    queues: list[str] = field(default_factory=list)
    paused: bool = False  # paused in Asterisk, which may be true during a call or wrap-up too
    pause_reason: str | None = None  # Asterisk's reason for that pause, whatever the state
    call: str | None = None  # linkedid of the call ringing or in progress
    wrapup_until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
