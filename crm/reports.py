"""Reports by queue and by agent over any range, in 15-minute, hourly or daily intervals of the call
center's time zone. The call figures come from the same tally as the wallboard (crm/kpis.py);
login, pause and occupancy from the agent state log. Definitions: docs/kpis.md.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.kpis import CallFacts, Tally, Thresholds
from crm.models import AgentStateLog, Call

INTERVALS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
MAX_ROWS_SPAN = 5000  # intervals in one report
HANDLING = ("on_call", "wrap_up")  # the agent's handle time in the state log
READY = ("available", "ringing")

CALL_COLUMNS = (
    Call.linkedid, Call.direction, Call.entry_queue, Call.queue, Call.agent_extension, Call.queued_at, Call.started_at,
    Call.answered_at, Call.ended_at, Call.disposition, Call.route, Call.wait_s, Call.talk_s, Call.hold_s, Call.wrapup_s,
    Call.transfers,
)  # fmt: skip


class ReportError(ValueError):
    """The report cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    interval: str
    zone: zoneinfo.ZoneInfo

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise ReportError(f"interval must be one of {', '.join(INTERVALS)}")
        if self.end <= self.start:
            raise ReportError("'to' must be after 'from'")
        if (self.end - self.start) / INTERVALS[self.interval] > MAX_ROWS_SPAN:
            raise ReportError(f"too many intervals: at most {MAX_ROWS_SPAN} {self.interval} intervals in one report")

    def bin(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.zone)
        if self.interval == "1d":
            return local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.interval == "1h":
            return local.replace(minute=0, second=0, microsecond=0)
        return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)

    def bins(self, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime, datetime]]:
        """(bin, from, to) pieces of [start, end) clipped to the period, one per interval crossed."""
        start, end = max(start, self.start), min(end, self.end)
        while start < end:
            label = self.bin(start)
            following = _next_bin(label, self.interval, self.zone)
            stop = min(end, following)
            yield label, start, stop
            start = stop


def _next_bin(label: datetime, interval: str, zone: zoneinfo.ZoneInfo) -> datetime:
    if interval == "1d":  # a calendar day, 23 or 25 hours across a DST change
        return (label.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return (label + INTERVALS[interval]).astimezone(zone)


async def call_facts(session: AsyncSession, period: Period) -> list[CallFacts]:
    # A call counts at its queue time, which comes after its start: start a day early, filter exactly.
    rows = await session.execute(
        select(*CALL_COLUMNS).where(Call.started_at >= period.start - timedelta(days=1), Call.started_at < period.end)
    )
    facts = [CallFacts.from_call(row) for row in rows]
    return [f for f in facts if period.start <= f.counted_at < period.end]


async def queue_report(
    session: AsyncSession, period: Period, limits_for: Callable[[str | None], Thresholds], queues: set[str] | None = None
) -> list[dict[str, Any]]:
    """One row per queue and interval with calls; ``queues`` limits it (a team leader's)."""
    tallies: dict[datetime, Tally] = defaultdict(lambda: Tally(limits_for=limits_for))
    for facts in await call_facts(session, period):
        if facts.queue is not None and (queues is None or facts.queue in queues):
            tallies[period.bin(facts.counted_at)].put(facts)
    rows = []
    for label in sorted(tallies):
        tally = tallies[label]
        for queue in sorted(tally.queues):
            figures = tally.queue_figures(queue)
            if figures["offered"]:
                rows.append({"interval_start": label.isoformat(), "queue": queue, **figures})
    return rows


async def agent_report(
    session: AsyncSession, period: Period, now: datetime, agents: set[str] | None = None, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per agent and interval with calls or logged-in time; ``agents`` limits it."""
    tallies: dict[datetime, Tally] = defaultdict(Tally)
    for facts in await call_facts(session, period):
        if facts.agent is not None and (agents is None or facts.agent in agents):
            tallies[period.bin(facts.counted_at)].put(facts)
    times = await state_times(session, period, min(period.end, now), agents)
    labels = sorted(set(tallies) | {label for label, _ in times})
    extensions = sorted({a for t in tallies.values() for a in t.agents} | {agent for _, agent in times})
    rows = []
    for label in labels:
        for agent in extensions:
            spent = times.get((label, agent), {})
            tally = tallies.get(label)
            if not spent and (tally is None or agent not in tally.agents):
                continue
            figures = tally.agent_figures(agent) if tally is not None else Tally().agent_figures(agent)
            handling = sum(spent.get(s, 0.0) for s in HANDLING)
            ready = sum(spent.get(s, 0.0) for s in READY)
            rows.append(
                {
                    "interval_start": label.isoformat(),
                    "agent": agent,
                    "name": (names or {}).get(agent, ""),
                    **figures,
                    "login_s": round(sum(v for k, v in spent.items() if k != "logged_out" and not k.startswith("paused:")), 1),
                    "available_s": round(spent.get("available", 0.0), 1),
                    "on_call_s": round(spent.get("on_call", 0.0), 1),
                    "wrap_up_s": round(spent.get("wrap_up", 0.0), 1),
                    "paused_s": round(spent.get("paused", 0.0), 1),
                    "pause_by_reason": {k.removeprefix("paused:"): round(v, 1) for k, v in sorted(spent.items()) if k.startswith("paused:")},
                    "occupancy": round(handling / (handling + ready), 4) if handling + ready else None,
                }
            )
    return rows


async def state_times(
    session: AsyncSession, period: Period, until: datetime, agents: set[str] | None
) -> dict[tuple[datetime, str], dict[str, float]]:
    """Seconds per (interval, agent) in each state, and per pause reason as ``paused:<reason>``."""
    last_before = (
        select(AgentStateLog.agent_extension, func.max(AgentStateLog.at).label("at"))
        .where(AgentStateLog.at < period.start)
        .group_by(AgentStateLog.agent_extension)
        .subquery()
    )
    earlier = await session.execute(
        select(AgentStateLog.agent_extension, AgentStateLog.state, AgentStateLog.reason, AgentStateLog.at).join(
            last_before, (AgentStateLog.agent_extension == last_before.c.agent_extension) & (AgentStateLog.at == last_before.c.at)
        )
    )
    during = await session.execute(
        select(AgentStateLog.agent_extension, AgentStateLog.state, AgentStateLog.reason, AgentStateLog.at)
        .where(AgentStateLog.at >= period.start, AgentStateLog.at < until)
        .order_by(AgentStateLog.at, AgentStateLog.id)
    )
    changes: dict[str, list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for agent, state, reason, at in [*earlier, *during]:
        if agents is None or agent in agents:
            changes[agent].append((at, state, reason))
    spent: dict[tuple[datetime, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for agent, steps in changes.items():
        steps.sort(key=lambda step: step[0])
        for (at, state, reason), following in zip(steps, [*steps[1:], (until, "", None)], strict=True):
            for label, start, stop in period.bins(at, min(following[0], until)):
                seconds = (stop - start).total_seconds()
                spent[(label, agent)][state] += seconds
                if state == "paused":
                    spent[(label, agent)][f"paused:{reason or ''}"] += seconds
    return {key: dict(value) for key, value in spent.items() if any(value.values())}


def csv_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """A report's rows as a table: nested pause reasons become ``paused_<reason>_s`` columns."""
    reasons = sorted({r for row in rows for r in row.get("pause_by_reason", {})})
    columns = [k for k in (rows[0] if rows else {}) if k != "pause_by_reason"]
    table = [[row.get(k) for k in columns] + [row.get("pause_by_reason", {}).get(r, 0.0) for r in reasons] for row in rows]
    return columns + [f"paused_{r or 'unknown'}_s" for r in reasons], table
