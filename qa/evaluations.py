"""Evaluations: submitted grades are never changed. A correction adds a version (who, when, why);
the agent acknowledges or disputes; an inspector or supervisor resolves the dispute (with or
without a correction). Every step is an event in the audit trail. Calibration: several inspectors
grade the same call blind, and the spread of their grades shows per item how far apart they are.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm.models import CASE_KINDS, MONITORING_METHODS, Calibration, Call, Evaluation, EvaluationEvent, EvaluationVersion, Scorecard, User
from qa.scorecards import grade
from qa.store import definition_of

COMMENT_KEYS = ("strengths", "problems", "advice", "training")  # 亮点, 问题描述, 改进建议, 培训建议
REOPENED_BY_CORRECTION = ("acknowledged", "resolved")


class EvaluationError(ValueError):
    """The step cannot be taken; ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Grades:
    items: dict[str, dict[str, Any]]
    comments: dict[str, str]


def _comments(given: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(given) - set(COMMENT_KEYS))
    if unknown:
        raise EvaluationError(f"comments.{unknown[0]}: unknown; use {', '.join(COMMENT_KEYS)}")
    return {k: str(v)[:4000] for k, v in given.items()}


async def _version(session: AsyncSession, evaluation: Evaluation, scorecard: Scorecard, grades: Grades, author: int, number: int, reason: str) -> EvaluationVersion:
    try:
        items, total, fatal = grade(definition_of(scorecard), grades.items)
    except ValueError as error:
        raise EvaluationError(str(error)) from None
    version = EvaluationVersion(
        evaluation_id=evaluation.id, version=number, items=items, total=total, fatal=fatal,
        comments=_comments(grades.comments), author_id=author, reason=reason,
    )  # fmt: skip
    session.add(version)
    return version


async def load(session: AsyncSession, evaluation_id: int) -> Evaluation | None:
    """The evaluation with its versions and events, read afresh (after a step added to them)."""
    return await session.scalar(
        select(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .options(selectinload(Evaluation.versions), selectinload(Evaluation.events))
        .execution_options(populate_existing=True)
    )


async def submit(
    session: AsyncSession, call: Call, scorecard: Scorecard, grades: Grades, inspector: int, calibration: Calibration | None = None,
    *, method: str = "recording", review_percent: float = 0.0,
) -> Evaluation:
    """A new evaluation of ``call``; ``method`` is how it was monitored (MONITORING_METHODS); one in
    ``review_percent`` (not a calibration grade) is drawn for a leader's or supervisor's review."""
    if method not in MONITORING_METHODS:
        raise EvaluationError(f"method: one of {', '.join(MONITORING_METHODS)}")
    if calibration is not None:
        if inspector not in calibration.inspector_ids:
            raise EvaluationError("you are not one of this calibration's inspectors", 403)
        taken = await session.scalar(select(Evaluation.id).where(Evaluation.calibration_id == calibration.id, Evaluation.inspector_id == inspector))
        if taken is not None:
            raise EvaluationError("you have already graded this calibration call; correct your evaluation instead", 409)
    evaluation = Evaluation(
        call_id=call.id, agent_id=call.agent_id, inspector_id=inspector, scorecard_id=scorecard.id,
        calibration_id=calibration.id if calibration else None, method=method,
    )  # fmt: skip
    session.add(evaluation)
    await session.flush()
    await _version(session, evaluation, scorecard, grades, inspector, 1, "")
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="submitted", actor_id=inspector))
    if calibration is None and drawn_for_review(evaluation.id, review_percent):
        evaluation.review_state = "due"
    await session.flush()
    return evaluation


def drawn_for_review(evaluation_id: int, percent: float) -> bool:
    """Whether this evaluation is in the reviewed share: its id spread over 0–99 by a multiplicative
    hash, so consecutive evaluations (one inspector's morning) do not all fall in or out."""
    return (evaluation_id * 2654435761) % 2**32 * 100 / 2**32 < percent


async def correct(session: AsyncSession, evaluation: Evaluation, grades: Grades, author: int, reason: str) -> EvaluationVersion:
    if not reason.strip():
        raise EvaluationError("reason: say why the grades change (it goes into the audit trail)")
    scorecard = await session.get(Scorecard, evaluation.scorecard_id)
    assert scorecard is not None
    number = max(v.version for v in evaluation.versions) + 1
    version = await _version(session, evaluation, scorecard, grades, author, number, reason.strip())
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="corrected", actor_id=author, comment=reason.strip()))
    if evaluation.review_state == "returned":  # the reviewer sent it back: the correction is reviewed again
        evaluation.review_state = "due"
    if evaluation.status in REOPENED_BY_CORRECTION:
        # The agent acknowledged (or was told the outcome of) other grades: they see the new ones
        # and acknowledge or dispute again.
        session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="reopened", actor_id=author, comment=f"was {evaluation.status}"))
        evaluation.status = "submitted"
    await session.flush()
    return version


async def acknowledge(session: AsyncSession, evaluation: Evaluation, agent: int, comment: str) -> None:
    if evaluation.status not in ("submitted",):
        raise EvaluationError(f"the evaluation is {evaluation.status}; only a submitted one can be acknowledged", 409)
    evaluation.status = "acknowledged"
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="acknowledged", actor_id=agent, comment=comment))


async def dispute(session: AsyncSession, evaluation: Evaluation, agent: int, comment: str) -> None:
    if not comment.strip():
        raise EvaluationError("comment: say what you dispute")
    if evaluation.status not in ("submitted", "acknowledged"):
        raise EvaluationError(f"the evaluation is {evaluation.status}; it cannot be disputed now", 409)
    evaluation.status = "disputed"
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="disputed", actor_id=agent, comment=comment.strip()))


async def resolve(session: AsyncSession, evaluation: Evaluation, reviewer: int, comment: str, grades: Grades | None) -> None:
    if evaluation.status != "disputed":
        raise EvaluationError("only a disputed evaluation is resolved", 409)
    if not comment.strip():
        raise EvaluationError("comment: say how the dispute was settled")
    if grades is not None:
        await correct(session, evaluation, grades, reviewer, f"dispute resolved: {comment.strip()}")
    evaluation.status = "resolved"
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind="resolved", actor_id=reviewer, comment=comment.strip()))


def latest(evaluation: Evaluation) -> EvaluationVersion:
    return max(evaluation.versions, key=lambda v: v.version)


async def calibration_spread(session: AsyncSession, calibration: Calibration) -> dict[str, Any]:
    """Per item, each inspector's latest points and their spread (min, max, range, standard deviation)."""
    evaluations = list(
        await session.scalars(select(Evaluation).where(Evaluation.calibration_id == calibration.id).options(selectinload(Evaluation.versions)))
    )
    graded = {e.inspector_id: latest(e) for e in evaluations}
    scorecard = await session.get(Scorecard, calibration.scorecard_id)
    assert scorecard is not None
    items = []
    for code, item in definition_of(scorecard).items().items():
        points = {inspector: v.items[code].get("points", 0.0) if not item.fatal else float(bool(v.items[code].get("failed"))) for inspector, v in graded.items()}
        values = list(points.values())
        items.append({
            "item": code, "fatal": item.fatal, "max_points": item.max_points, "by_inspector": points,
            "min": min(values, default=None), "max": max(values, default=None),
            "range": (max(values) - min(values)) if values else None,
            "stdev": round(statistics.pstdev(values), 3) if len(values) > 1 else 0.0 if values else None,
        })  # fmt: skip
    totals = [v.total for v in graded.values()]
    return {
        "calibration": calibration.id, "call_id": calibration.call_id, "inspectors": calibration.inspector_ids,
        "graded_by": sorted(graded), "totals": {i: v.total for i, v in graded.items()},
        "total_range": (max(totals) - min(totals)) if totals else None, "items": items,
    }  # fmt: skip


async def load_visible(session: AsyncSession, evaluation_id: int, seen: ColumnElement[bool]) -> Evaluation | None:
    """The evaluation with its versions and events, if ``seen`` (crm.access Scope) lets the user see it."""
    if await session.scalar(select(Evaluation.id).where(Evaluation.id == evaluation_id, seen)) is None:
        return None
    return await load(session, evaluation_id)


async def visible_evaluations(session: AsyncSession, seen: ColumnElement[bool], *, agent_id: int | None = None, call_id: int | None = None) -> list[Evaluation]:
    """The newest 500 evaluations ``seen`` lets the user see, of one agent or one call if given."""
    rows = select(Evaluation).where(seen).options(selectinload(Evaluation.versions)).order_by(Evaluation.id.desc()).limit(500)
    for value, column in ((agent_id, Evaluation.agent_id), (call_id, Evaluation.call_id)):
        if value is not None:
            rows = rows.where(column == value)
    return list(await session.scalars(rows))


async def mark_case(session: AsyncSession, evaluation: Evaluation, actor: int, kind: str | None, note: str) -> None:
    """Put the evaluation in the case library (典型案例) as a good or a bad example, with why; or take
    it out (``kind`` None). A calibration grade is an exercise, not a case."""
    if kind is not None and kind not in CASE_KINDS:
        raise EvaluationError(f"kind: one of {', '.join(CASE_KINDS)}, or null to take it out")
    if evaluation.calibration_id is not None:
        raise EvaluationError("a calibration grade is not a case; mark the call's own evaluation", 409)
    if kind is not None and not note.strip():
        raise EvaluationError("note: say what the case teaches")
    evaluation.case_kind, evaluation.case_note = kind, note.strip() if kind else ""
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind=f"case_{kind}" if kind else "case_removed", actor_id=actor, comment=note.strip()))
    await session.flush()


async def review(session: AsyncSession, evaluation: Evaluation, reviewer: int, verdict: str, comment: str) -> None:
    """组长/主管复核: the reviewer agrees with the grading, or returns it to its grader with why."""
    if verdict not in ("agreed", "returned"):
        raise EvaluationError("verdict: agreed or returned")
    if evaluation.review_state != "due":
        raise EvaluationError("this evaluation is not waiting for a review", 409)
    if evaluation.inspector_id == reviewer:
        raise EvaluationError("an evaluation is reviewed by someone other than its grader", 403)
    if verdict == "returned" and not comment.strip():
        raise EvaluationError("comment: say what the grader should look at again")
    evaluation.review_state, evaluation.reviewer_id = verdict, reviewer
    session.add(EvaluationEvent(evaluation_id=evaluation.id, kind=f"review_{verdict}", actor_id=reviewer, comment=comment.strip()))
    await session.flush()


async def due_reviews(session: AsyncSession, seen: ColumnElement[bool], limit: int = 200) -> list[Evaluation]:
    """The evaluations waiting for a review that the user may see, oldest first."""
    rows = select(Evaluation).where(seen, Evaluation.review_state == "due").options(selectinload(Evaluation.versions))
    return list(await session.scalars(rows.order_by(Evaluation.id).limit(limit)))


async def cases(session: AsyncSession, seen: ColumnElement[bool], kind: str | None = None, limit: int = 200) -> list[tuple[Evaluation, Call]]:
    """The case library as the user may see it, newest first, with each case's call."""
    rows = (
        select(Evaluation, Call).join(Call, Call.id == Evaluation.call_id)
        .where(seen, Evaluation.case_kind.is_not(None) if kind is None else Evaluation.case_kind == kind)
        .options(selectinload(Evaluation.versions)).order_by(Evaluation.id.desc()).limit(limit)
    )  # fmt: skip
    return [(evaluation, call) for evaluation, call in await session.execute(rows)]


async def recent_calibrations(session: AsyncSession, limit: int = 200) -> list[Calibration]:
    return list(await session.scalars(select(Calibration).order_by(Calibration.id.desc()).limit(limit)))


async def users_named(session: AsyncSession, usernames: list[str]) -> list[User]:
    """The users with these user names (the inspectors of a calibration)."""
    return list(await session.scalars(select(User).where(User.username.in_(usernames))))
