"""The review queue: which recent calls wait for an inspector, and why (qa/sampling.py decides the
reasons), and the picks an inspector adds by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import QaSettings
from crm.models import Call, Evaluation, QaIntake
from qa.sampling import review_reasons, weekly_sample, weight

QUEUE_DAYS = 30
QUEUE_ROWS = 2000
PICKED = "picked"


async def intake_of(session: AsyncSession, call_id: int) -> QaIntake | None:
    """The call's auto-QA intake row (its state, score, findings and review reasons), if it has one."""
    return await session.scalar(select(QaIntake).where(QaIntake.call_id == call_id))


async def waiting_for_review(session: AsyncSession, calls_seen: ColumnElement[bool], settings: QaSettings, timezone: str) -> list[dict[str, Any]]:
    """The calls of the last QUEUE_DAYS that ``calls_seen`` lets the user see and that wait for review,
    the weightiest reasons first (qa.sampling.REASON_WEIGHT), then the newest, each with its reasons. A graded call leaves the queue unless it was picked again."""
    since = datetime.now(UTC) - timedelta(days=QUEUE_DAYS)
    rows = list(
        await session.execute(
            select(QaIntake, Call).join(Call, Call.id == QaIntake.call_id).where(QaIntake.created_at >= since, calls_seen)
            .order_by(QaIntake.id.desc()).limit(QUEUE_ROWS)
        )  # fmt: skip
    )
    graded = set(
        await session.scalars(
            select(Evaluation.call_id).where(Evaluation.calibration_id.is_(None), Evaluation.call_id.in_([c.id for _, c in rows]))
        )
    )
    sample = await _weekly_sample(session, [call for _, call in rows], settings.sample_percent, timezone)
    waiting: list[dict[str, Any]] = []
    for intake, call in rows:
        reasons = review_reasons(call, intake.flagged, intake.review_reasons, intake.id in sample, settings)
        if reasons and (call.id not in graded or PICKED in intake.review_reasons):  # a pick asks for another look
            waiting.append({
                "call_id": call.id, "linkedid": call.linkedid, "agent": call.agent_extension, "queue": call.queue,
                "started_at": call.started_at.isoformat(), "talk_s": call.talk_s, "disposition_code": call.disposition_code,
                "auto_score": intake.auto_score, "flagged": intake.flagged, "state": intake.state, "reasons": reasons,
                "satisfaction": call.satisfaction,
            })  # fmt: skip
    waiting.sort(key=lambda row: weight(row["reasons"]), reverse=True)  # stable: newest first within a weight
    return waiting


async def _weekly_sample(session: AsyncSession, calls: list[Call], percent: float, timezone: str) -> set[int]:
    """The sampled intake ids, counted over the whole weeks of the agents in ``calls`` (a week
    may begin before the queue's window). Only answered calls count: there is nothing to hear in
    the others."""
    agents = {c.agent_id for c in calls if c.agent_id is not None}
    if not agents or percent <= 0:
        return set()
    since = min(c.started_at for c in calls) - timedelta(days=7)
    rows = await session.execute(
        select(QaIntake.id, Call.agent_id, Call.started_at)
        .join(Call, Call.id == QaIntake.call_id)
        .where(Call.agent_id.in_(agents), Call.started_at >= since, Call.answered_at.is_not(None))
    )
    return weekly_sample(rows, percent, timezone)  # type: ignore[arg-type]


async def pick(session: AsyncSession, call: Call) -> None:
    """An inspector wants this call reviewed, whatever the sampling says."""
    intake = await intake_of(session, call.id)
    if intake is None:
        intake = QaIntake(call_id=call.id, state="pending" if call.recordings else "skipped", review_reasons=[])
        session.add(intake)
    if PICKED not in intake.review_reasons:
        intake.review_reasons = [*intake.review_reasons, PICKED]


async def answer_pick(session: AsyncSession, call_id: int) -> None:
    """The call was graded: a pick of it is answered."""
    intake = await intake_of(session, call_id)
    if intake is not None and PICKED in intake.review_reasons:
        intake.review_reasons = [r for r in intake.review_reasons if r != PICKED]


async def backlog(session: AsyncSession) -> int:
    """Calls whose auto-QA has not run yet (the worker's queue)."""
    return await session.scalar(select(func.count()).select_from(QaIntake).where(QaIntake.state == "pending")) or 0
