"""QA reports: average score by agent, team, item or week over a range (the latest version of each
evaluation, calibration grades left out), and how often each item is lost — the items failed most."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm.models import Evaluation, Scorecard, Team, User
from qa.store import definition_of

GROUPINGS = ("agent", "team", "item", "week")


async def qa_report(
    session: AsyncSession, by: str, start: datetime, end: datetime, seen: ColumnElement[bool] | None = None
) -> list[dict[str, Any]]:
    """``seen``: the evaluations the reader may see (crm.access), all if None."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    evaluations = list(
        await session.scalars(
            select(Evaluation)
            .where(Evaluation.created_at >= start, Evaluation.created_at < end, Evaluation.calibration_id.is_(None))
            .where(seen if seen is not None else true())
            .options(selectinload(Evaluation.versions))
        )
    )
    latest = {e.id: max(e.versions, key=lambda v: v.version) for e in evaluations}
    if by == "item":
        return await _by_item(session, evaluations, latest)
    users = {u.id: u for u in await session.scalars(select(User))}
    teams = {t.id: t.name for t in await session.scalars(select(Team))}

    def key(e: Evaluation) -> str:
        if by == "agent":
            user = users.get(e.agent_id or -1)
            return user.extension or user.username if user else "-"
        if by == "team":
            user = users.get(e.agent_id or -1)
            return teams.get(user.team_id or -1, "-") if user else "-"
        year, week, _ = e.created_at.isocalendar()
        return f"{year}-W{week:02d}"

    groups: dict[str, list[Evaluation]] = defaultdict(list)
    for e in evaluations:
        groups[key(e)].append(e)
    return [
        {
            by: name,
            "evaluations": len(group),
            "average": round(sum(latest[e.id].total for e in group) / len(group), 2),
            "lowest": min(latest[e.id].total for e in group),
            "fatal": sum(latest[e.id].fatal for e in group),
            "disputed": sum(e.status in ("disputed", "resolved") for e in group),
        }
        for name, group in sorted(groups.items())
    ]


async def _by_item(session: AsyncSession, evaluations: list[Evaluation], latest: dict[int, Any]) -> list[dict[str, Any]]:
    """Per item: how often it was graded, its average points and the share of calls that lost points
    on it (failed, for a fatal item); the items failed most first."""
    cards = {s.id: definition_of(s) for s in await session.scalars(select(Scorecard))}
    stats: dict[str, dict[str, Any]] = {}
    for e in evaluations:
        items = cards[e.scorecard_id].items()
        for code, grade in latest[e.id].items.items():
            item = items.get(code)
            if item is None:
                continue
            row = stats.setdefault(code, {"item": code, "en": item.en, "zh": item.zh, "fatal": item.fatal, "max_points": item.max_points, "graded": 0, "points": 0.0, "lost": 0})
            row["graded"] += 1
            row["points"] += grade.get("points", 0.0)
            row["lost"] += bool(grade.get("failed")) if item.fatal else grade.get("points", 0.0) < item.max_points
    rows = []
    for row in stats.values():
        graded = row.pop("graded")
        rows.append({**row, "evaluations": graded, "points": round(row["points"] / graded, 2), "lost_share": round(row["lost"] / graded, 4)})
    return sorted(rows, key=lambda r: (-r["lost_share"], r["item"]))
