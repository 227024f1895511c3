"""Untrusted AMI text (caller-ID, DIDs, queue names, transfer targets) bounded and made printable.

Caller-ID is whatever the far end sent: it can be longer than the call log stores and carry CR, LF
or NUL. Every snapshot the tracker emits passes through :func:`bound_call`, so what reaches the
call log, the desktops and the wallboard fits its column (truncated, never refused) and is one line.
"""

from __future__ import annotations

from crm.models import Call
from telephony.calls.state import CallSnapshot

_COLUMNS = {"agent": "agent_extension"}  # snapshot field → calls column, where the names differ
TEXT_FIELDS = {
    field: Call.__table__.c[_COLUMNS.get(field, field)].type.length
    for field in (
        "did", "caller_number", "caller_name", "called_number", "queue", "entry_queue", "route",
        "agent", "agent_interface", "hangup_side",
    )
}  # fmt: skip
LINKEDID_LENGTH = Call.__table__.c["linkedid"].type.length
LIST_TEXT = 128  # a string inside an offer or a transfer (JSON columns)


def bounded(value: str, limit: int) -> str:
    """``value`` on one printable line of at most ``limit`` characters."""
    if len(value) <= limit and value.isprintable():
        return value
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())[:limit]


def clipped(value: object, limit: int = LIST_TEXT) -> object:
    """``value`` bounded if it is a string that needs it, else unchanged (the cheap check first)."""
    if isinstance(value, str) and (len(value) > limit or not value.isprintable()):
        return bounded(value, limit)
    return value


def bound_call(info: CallSnapshot) -> None:
    """Bound every text field of ``info`` in place (cheap when nothing needs it: a length and a
    printable check a field)."""
    for field, limit in TEXT_FIELDS.items():
        value = getattr(info, field)
        if value is not None and (len(value) > limit or not value.isprintable()):
            setattr(info, field, bounded(value, limit) or None)
    for entries in (info.offers, info.transfers):
        for entry in entries:
            for key, value in entry.items():
                entry[key] = clipped(value)
