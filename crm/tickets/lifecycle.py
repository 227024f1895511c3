"""The rules every ticket type follows, without the database."""

from __future__ import annotations

import math
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from config.tickets import TicketField, TicketType

TEXT_LIMIT, LONG_TEXT_LIMIT = 200, 5000


class TicketError(ValueError):
    """A ticket cannot be opened or moved as asked; the message says which field or step and why."""


def ticket_number(kind: TicketType, opened_at: datetime, ticket_id: int, timezone: str) -> str:
    """投诉编号 / 登记号: the type's prefix, the local day it opened, its id: stable and unique."""
    return f"{kind.prefix}-{opened_at.astimezone(zoneinfo.ZoneInfo(timezone)):%Y%m%d}-{ticket_id:06d}"


def _value(field: TicketField, value: Any) -> Any:
    if field.kind in ("text", "long_text"):
        if not isinstance(value, str):
            raise TicketError(f"{field.code}: text expected")
        limit = TEXT_LIMIT if field.kind == "text" else LONG_TEXT_LIMIT
        if len(value.strip()) > limit:
            raise TicketError(f"{field.code}: at most {limit} characters")
        return value.strip()
    if field.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TicketError(f"{field.code}: a number expected")
        return value
    if field.kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise TicketError(f"{field.code}: a date as YYYY-MM-DD expected") from None
    codes = [c.code for c in field.choices]
    if value not in codes:
        raise TicketError(f"{field.code}: one of {', '.join(codes)}")
    return value


def clean_values(fields: list[TicketField], given: dict[str, Any], where: str) -> dict[str, Any]:
    """The form's values checked against its fields: no stranger, each of its kind, the required ones given."""
    known = {f.code: f for f in fields}
    stray = sorted(set(given) - set(known))
    if stray:
        raise TicketError(f"{stray[0]}: not a field of {where}")
    values = {}
    for code, field in known.items():
        value = given.get(code)
        if value is None or value == "":
            if field.required:
                raise TicketError(f"{code}: required for {where}")
            continue
        values[code] = _value(field, value)
    return values


def reachable(kind: TicketType, status: str) -> list[str]:
    """The steps a ticket at ``status`` may go on to: the next one, or past optional ones."""
    codes = [s.code for s in kind.steps]
    ahead = []
    for step in kind.steps[codes.index(status) + 1 :]:
        ahead.append(step.code)
        if not step.optional:
            break
    return ahead


def move_kind(kind: TicketType, status: str, target: str) -> str:
    """'step' forward, 'back' to an earlier step to rework it (a dissatisfied customer goes back to
    handling), or TicketError. A closed ticket is reopened, not moved."""
    codes = [s.code for s in kind.steps]
    if target not in codes:
        raise TicketError(f"step: {target!r} is not a step of a {kind.code} ticket ({', '.join(codes)})")
    if status == codes[-1]:
        raise TicketError("step: the ticket is closed; reopen it first")
    if target in reachable(kind, status):
        return "step"
    if codes.index(target) < codes.index(status) and target != codes[0]:
        return "back"
    raise TicketError(f"step: from {status!r} a {kind.code} ticket goes to {' or '.join(reachable(kind, status))}")


def promised_by(kind: TicketType, category: str, opened_at: datetime) -> datetime:
    found = kind.category(category)
    if found is None:
        raise TicketError(f"category: one of {', '.join(c.code for c in kind.categories)}")
    return opened_at + timedelta(hours=found.respond_h)


def deadline_state(*, closed: bool, responded_at: datetime | None, due_at: datetime, now: datetime, near_due_h: float) -> str:
    """closed | responded (the promise is kept) | overdue | due_soon | on_time."""
    if closed:
        return "closed"
    if responded_at is not None:
        return "responded"
    if now >= due_at:
        return "overdue"
    return "due_soon" if now >= due_at - timedelta(hours=near_due_h) else "on_time"
