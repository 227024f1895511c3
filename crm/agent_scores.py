"""The monthly agent score (handbook §2, 座席员月度考核): QA combined with the other KPIs as a weighted
formula the center configures (``agent_score`` in the settings).

Each part is scored 0–100: ``qa`` is the average of the month's evaluations of the agent's calls
(the latest version of each; a fatal error counts as its 0; calibration grades are not counted),
``aht`` is 100 at or under the target handle time and falls to 0 at twice it, ``occupancy`` is the
share of ready time spent handling calls against its target (100 at or over it). A part without
data that month (no evaluation, no handled call, no logged-in time) is left out: the score is
weighted over the parts it has, and ``covers`` says which share of the weights that is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from config.settings import AgentScoreSettings
from crm.kpis import Tally
from crm.models import Call, Evaluation, User
from crm.reports import HANDLING, READY, Period, call_facts, state_times  # the same tallies as the agent report


def part_scores(settings: AgentScoreSettings, qa: float | None, aht_s: float | None, occupancy: float | None) -> dict[str, float | None]:
    """Each part's 0–100 score, None for a part without data."""
    aht = None if aht_s is None else max(0.0, min(100.0, 100.0 * (2.0 - aht_s / settings.target_aht_s)))
    occupied = None if occupancy is None else min(100.0, 100.0 * occupancy / settings.target_occupancy)
    return {"qa": qa, "aht": aht, "occupancy": occupied}


def weighted(settings: AgentScoreSettings, parts: dict[str, float | None]) -> tuple[float | None, float]:
    """(the score over the parts that have data, the share of the weights it covers)."""
    total = sum(settings.weights.values())
    present = {name: weight for name, weight in settings.weights.items() if weight and parts.get(name) is not None}
    covered = sum(present.values())
    if not covered:
        return None, 0.0
    return round(sum(parts[name] * weight for name, weight in present.items()) / covered, 1), round(covered / total, 3)  # type: ignore[operator]


async def _qa_averages(session: AsyncSession, period: Period, users: dict[int, str]) -> dict[str, float]:
    evaluations = await session.scalars(
        select(Evaluation)
        .join(Call, Call.id == Evaluation.call_id)
        .where(Evaluation.calibration_id.is_(None), Evaluation.agent_id.in_(users), Call.started_at >= period.start, Call.started_at < period.end)
        .options(selectinload(Evaluation.versions))
    )
    totals: dict[str, list[float]] = defaultdict(list)
    for evaluation in evaluations:
        latest = max(evaluation.versions, key=lambda version: version.version)
        totals[users[evaluation.agent_id]].append(latest.total)  # type: ignore[index]
    return {extension: fmean(values) for extension, values in totals.items()}


async def agent_scores(
    session: AsyncSession, period: Period, now: datetime, settings: AgentScoreSettings, agents: set[str] | None = None,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per agent with calls, logged-in time or evaluations in ``period`` (``agents`` limits it)."""
    tally = Tally()
    for facts in await call_facts(session, period):
        if facts.agent is not None and (agents is None or facts.agent in agents):
            tally.put(facts)
    spent: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (_, agent), seconds in (await state_times(session, period, min(period.end, now), agents)).items():
        for state, value in seconds.items():
            spent[agent][state] += value
    rows = await session.execute(select(User.id, User.extension).where(User.extension.is_not(None)))
    users = {user_id: extension for user_id, extension in rows if agents is None or extension in agents}
    qa = await _qa_averages(session, period, users)
    report = []
    for agent in sorted(set(tally.agents) | set(spent) | set(qa)):
        figures = tally.agent_figures(agent)
        handling = sum(spent[agent].get(state, 0.0) for state in HANDLING)
        ready = sum(spent[agent].get(state, 0.0) for state in READY)
        occupancy = handling / (handling + ready) if handling + ready else None
        parts = part_scores(settings, qa.get(agent), figures["aht_s"], occupancy)
        score, covers = weighted(settings, parts)
        report.append({
            "agent": agent, "name": (names or {}).get(agent, ""), "handled": figures["handled"], "aht_s": figures["aht_s"],
            "occupancy": round(occupancy, 4) if occupancy is not None else None,
            "qa_average": round(qa[agent], 1) if agent in qa else None,
            **{f"{name}_score": round(value, 1) if value is not None else None for name, value in parts.items()},
            "score": score, "covers": covers,
        })  # fmt: skip
    return report
