"""A campaign's rules, without I/O: calling hours in the contact's own time zones, and what one
attempt's outcome means for the contact (the retry plan: per outcome a cap and a minimum gap, and a
cap on all attempts)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

MODES = ("preview", "progressive")
STATUSES = ("draft", "running", "paused", "stopped")
# How one attempt ended. connected: the customer answered; callback: answered, and asked to be called
# again (the record form's next contact time); failed: congestion, a vacant or wrong number.
OUTCOMES = ("connected", "no_answer", "busy", "failed", "callback")
RETRIED = ("no_answer", "busy", "failed", "callback")
# A contact's own end, beside the outcomes: never dialled because listed, skipped by the agent
# (preview), or its attempts used up.
FINAL = (*OUTCOMES, "dnc", "skipped")
CONTACT_STATUSES = ("pending", "reserved", "dialling", "done")  # reserved: shown to an agent (preview), or being claimed

_STEP = timedelta(minutes=5)
_HORIZON = timedelta(days=8)


def outcome_of(disposition: str | None, dial_status: str | None) -> str | None:
    """An attempt's outcome from its ended call; None when the customer was never dialled (the
    agent's phone did not answer), which does not count as an attempt."""
    if disposition == "answered":
        return "connected"
    if dial_status is None:
        return None
    return {"BUSY": "busy", "CONGESTION": "failed", "CHANUNAVAIL": "failed"}.get(dial_status, "no_answer")


def outcome_after_restart(dial_mark: str | None, disposition: str | None) -> str | None:
    """An attempt whose call ended while nobody listened, settled after a restart from what Asterisk
    kept of its dial (``dial_mark``: None when the customer was never dialled, ``DIALLING`` when
    Asterisk stopped mid-dial, else the Dial's status) and the call log's row, if any."""
    if dial_mark is None:
        return None
    if dial_mark == "DIALLING":  # no status: the call log's word, else failed so the plan retries it
        return {"answered": "connected", "busy": "busy", "no_answer": "no_answer"}.get(disposition or "", "failed")
    return outcome_of("answered" if dial_mark == "ANSWER" else None, dial_mark)


class PlanError(ValueError):
    """A calling-hours or retry setting that cannot hold; the message names it."""


@dataclass(frozen=True)
class CallingHours:
    """When contacts may be called, in *their* local time: weekdays 1 (Monday) to 7, from ``start``
    to ``end``. A number spanning several zones is called only when the window holds in all."""

    start: time = time(9)
    end: time = time(21)
    days: frozenset[int] = frozenset(range(1, 8))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CallingHours:
        data = data or {}
        try:
            start = time.fromisoformat(data.get("start", "09:00"))
            end = time.fromisoformat(data.get("end", "21:00"))
            days = frozenset(int(d) for d in data.get("days", range(1, 8)))
        except (TypeError, ValueError):
            raise PlanError("hours: start and end as HH:MM, days as weekday numbers 1 (Monday) to 7") from None
        if not start < end:
            raise PlanError("hours: start before end")
        if not days or not days <= set(range(1, 8)):
            raise PlanError("hours: days among 1 (Monday) to 7 (Sunday), at least one")
        return cls(start, end, days)

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"), "days": sorted(self.days)}

    def open_at(self, at: datetime, zones: list[str]) -> bool:
        for zone in zones:
            local = at.astimezone(zoneinfo.ZoneInfo(zone))
            if local.isoweekday() not in self.days or not self.start <= local.time().replace(tzinfo=None) < self.end:
                return False
        return True

    def next_open(self, at: datetime, zones: list[str]) -> datetime | None:
        """The first moment from ``at`` (to five minutes) when the window holds in every zone; none
        within a week and a day (zones whose windows never meet)."""
        moment = at
        while moment - at <= _HORIZON:
            if self.open_at(moment, zones):
                return moment
            moment += _STEP
        return None


@dataclass(frozen=True)
class Retry:
    attempts: int  # the most attempts that may end this way: after that many the contact is done
    gap_min: int  # the least time before the next attempt


def _default_retries() -> dict[str, Retry]:
    return {"no_answer": Retry(3, 60), "busy": Retry(3, 15), "failed": Retry(1, 60), "callback": Retry(3, 0)}


@dataclass(frozen=True)
class RetryPlan:
    retries: dict[str, Retry] = field(default_factory=_default_retries)
    max_attempts: int = 5

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RetryPlan:
        data = data or {}
        retries = _default_retries()
        for outcome, rule in (data.get("retries") or {}).items():
            if outcome not in RETRIED:
                raise PlanError(f"retry: {outcome!r} is not retried; one of {', '.join(RETRIED)}")
            try:
                attempts, gap = int(rule["attempts"]), int(rule.get("gap_min", 0))
            except (KeyError, TypeError, ValueError):
                raise PlanError(f"retry.{outcome}: attempts and gap_min as whole numbers") from None
            if not (0 <= attempts <= 20 and 0 <= gap <= 7 * 24 * 60):
                raise PlanError(f"retry.{outcome}: attempts 0 to 20, gap_min 0 to a week")
            retries[outcome] = Retry(attempts, gap)
        try:
            max_attempts = int(data.get("max_attempts", 5))
        except (TypeError, ValueError):
            raise PlanError("retry.max_attempts: a whole number") from None
        if not 1 <= max_attempts <= 50:
            raise PlanError("retry.max_attempts: 1 to 50")
        return cls(retries, max_attempts)

    def as_json(self) -> dict[str, Any]:
        return {
            "retries": {o: {"attempts": r.attempts, "gap_min": r.gap_min} for o, r in self.retries.items()},
            "max_attempts": self.max_attempts,
        }

    def next_attempt(
        self, outcome: str, *, ended_this_way: int, attempts: int, now: datetime, asked_for: datetime | None = None
    ) -> datetime | None:
        """When to dial again after an attempt that ended with ``outcome`` — the ``ended_this_way``-th
        to end so, the ``attempts``-th in all — or None: the contact is done. A callback the customer
        asked for is due at the time they gave (not before the plan's gap)."""
        if outcome not in RETRIED or attempts >= self.max_attempts:
            return None
        rule = self.retries[outcome]
        if ended_this_way >= rule.attempts:
            return None
        earliest = now + timedelta(minutes=rule.gap_min)
        return max(earliest, asked_for) if asked_for is not None else earliest
