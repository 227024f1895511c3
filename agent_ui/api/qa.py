"""/api/qa: scorecards, the review queue, evaluations (immutable versions, acknowledge, dispute,
resolve), calibrations and QA reports; /api/calls/{id}/qa (the auto-QA result) and
/api/calls/{id}/recording/{leg} (the audio, for the player).

Who may do what (the handbook's RBAC, §1.4; what each sees is crm.access's Scope): QA inspectors,
team leaders (coaching, their team), supervisors and admins grade; only the grader, a supervisor or
an admin corrects; inspectors, supervisors and admins resolve disputes, never about their own
grading; an agent reads only their own evaluations and recordings and acknowledges or disputes them.
Calibration grades are blind: a grader sees only their own until they have graded.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from agent_ui.api import answers
from agent_ui.api.calls import CALL_PATH, SCOPE_NOTE, own_call
from agent_ui.api.common import EVERYONE, SESSIONS, IsoDateTime, RowId, endpoint, path_id
from agent_ui.api.reports import table_response
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm.access import Scope
from crm.calls import visible_call
from crm.models import CASE_KINDS, MONITORING_METHODS, Calibration, Call, Evaluation, Role, Scorecard, User
from crm.recordings import LEG_SUFFIXES, leg_file, recording_file
from qa import evaluations as flow
from qa.reports import qa_report
from qa.analysis import stereo_wav
from qa.redaction import redact_result
from qa import review
from qa.scorecards import ScorecardDefinition
from qa.signals import AudioError
from qa.store import definition_of, ensure_default_scorecard, latest_scorecard, latest_versions, save_scorecard

GRADERS = (Role.QA_INSPECTOR, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
CHECKERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)  # 组长/主管复核
REVIEWERS = (Role.QA_INSPECTOR, Role.SUPERVISOR, Role.ADMIN)
LEGS = (*LEG_SUFFIXES, "stereo")  # stereo: the agent's and the caller's legs side by side, made here
EVALUATION_PATH = {"id": "the evaluation's id"}
NO_SUCH_CALL = {404: "no such call (or not one you may see), scorecard or calibration"}


class Grading(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: dict[str, dict[str, Any]]
    comments: dict[str, str] = {}

    def grades(self) -> flow.Grades:
        return flow.Grades(self.items, self.comments)


class NewEvaluation(Grading):
    call_id: RowId
    scorecard_id: RowId | None = None
    calibration_id: RowId | None = None
    method: Literal[MONITORING_METHODS] = Field(default="recording", description="监控方式: live listen, a recording sampled, a floor walk")  # type: ignore[valid-type]


class CaseMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal[CASE_KINDS] | None = Field(description="good or bad example; null takes it out of the case library")  # type: ignore[valid-type]
    note: str = Field(default="", max_length=2000, description="what the case teaches (required with a kind)")


class ReviewVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["agreed", "returned"] = Field(description="agree with the grading, or return it to its grader")
    comment: str = Field(default="", max_length=4000, description="required to return it: what to look at again")


class CaseQuery(BaseModel):
    kind: Literal[CASE_KINDS] | None = Field(default=None, description="only good or only bad examples")  # type: ignore[valid-type]


class Correction(Grading):
    reason: str = Field(min_length=1, max_length=2000)


class Remark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=4000)


class Resolution(Remark):
    items: dict[str, dict[str, Any]] | None = None
    comments: dict[str, str] = {}


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: RowId


class NewCalibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: RowId
    inspectors: list[str] = Field(min_length=2, max_length=20)  # user names
    scorecard_id: RowId | None = None


async def _call(session, call_id: int, user: User) -> Call:  # type: ignore[no-untyped-def]
    call = await visible_call(session, Scope.of(user), row_id=call_id)
    if call is None:
        raise json_error(404, "no such call")
    return call


def _fail(error: flow.EvaluationError) -> web.HTTPException:
    return json_error(error.status, str(error))


# Scorecards -----------------------------------------------------------------------------------------


def scorecard_json(row: Scorecard, full: bool = True) -> dict[str, Any]:
    definition = definition_of(row)
    data = {"id": row.id, "key": row.key, "version": row.version, "en": definition.en, "zh": definition.zh, "max_total": definition.max_total}
    return {**data, **({"sections": definition.model_dump()["sections"], "rules": definition.model_dump()["rules"]} if full else {})}


@endpoint(*EVERYONE, summary="The latest version of each scorecard", answer=answers.Scorecards)
async def list_scorecards(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        latest = await latest_versions(session)
    if not latest:  # the handbook's monitoring form is built in: a center has it before anyone saves one
        # One request at a time here (two racing writers are refused by SQLite), and another process
        # that put it there first is no error (PostgreSQL's unique key on key and version).
        async with request.app[DEFAULT_SCORECARD_LOCK]:
            with contextlib.suppress(IntegrityError):
                async with request.app[SESSIONS]() as session, session.begin():
                    await ensure_default_scorecard(session)
        async with request.app[SESSIONS]() as session:
            latest = await latest_versions(session)
    return web.json_response({"scorecards": [scorecard_json(r, full=False) for r in latest]})


@endpoint(Role.QA_INSPECTOR, Role.SUPERVISOR, Role.ADMIN, summary="Save a scorecard: a new key, or the next version of an existing one",
          body=ScorecardDefinition, answer=answers.Scorecard, status=201, notes="Versions are never edited.")  # fmt: skip
async def create_scorecard(request: web.Request, user: User, body: ScorecardDefinition) -> web.Response:
    definition = body
    async with request.app[SESSIONS]() as session, session.begin():
        row = await save_scorecard(session, definition, user.id)
        answer = scorecard_json(row)
    return web.json_response(answer, status=201)


@endpoint(*EVERYONE, summary="One scorecard version: sections, items, max points, fatal flags, rules", answer=answers.Scorecard, path={"id": "the scorecard version's id"})
async def read_scorecard(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        row = await session.get(Scorecard, path_id(request))
    if row is None:
        raise json_error(404, "no such scorecard")
    return web.json_response(scorecard_json(row))


# The review queue --------------------------------------------------------------------------------------


@endpoint(*GRADERS, summary="Calls waiting for review (last 30 days) and why", answer=answers.ReviewQueue, notes=SCOPE_NOTE)
async def review_queue(request: web.Request, user: User) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        waiting = await review.waiting_for_review(session, Scope.of(user).calls(), settings.qa, settings.crm.timezone)
    return web.json_response({"calls": waiting})


@endpoint(*GRADERS, summary="Pick any call for review", body=Pick, answer=answers.Picked, status=201, notes=SCOPE_NOTE, errors=NO_SUCH_CALL)
async def pick(request: web.Request, user: User, body: Pick) -> web.Response:
    wanted = body
    async with request.app[SESSIONS]() as session, session.begin():
        await review.pick(session, await _call(session, wanted.call_id, user))
    return web.json_response({"call_id": wanted.call_id, "reasons": [review.PICKED]}, status=201)


# Evaluations -----------------------------------------------------------------------------------------


def evaluation_json(evaluation: Evaluation, full: bool = False) -> dict[str, Any]:
    current = flow.latest(evaluation)
    data: dict[str, Any] = {
        "id": evaluation.id, "call_id": evaluation.call_id, "agent_id": evaluation.agent_id, "inspector_id": evaluation.inspector_id,
        "scorecard_id": evaluation.scorecard_id, "calibration_id": evaluation.calibration_id, "status": evaluation.status,
        "created_at": evaluation.created_at.isoformat(), "version": current.version, "total": current.total, "fatal": current.fatal,
        "items": current.items, "comments": current.comments, "method": evaluation.method, "case": evaluation.case_kind,
        "case_note": evaluation.case_note, "review": evaluation.review_state, "reviewer_id": evaluation.reviewer_id,
    }  # fmt: skip
    if full:
        data["versions"] = [
            {"version": v.version, "total": v.total, "fatal": v.fatal, "items": v.items, "comments": v.comments,
             "author_id": v.author_id, "reason": v.reason, "created_at": v.created_at.isoformat()}
            for v in evaluation.versions
        ]  # fmt: skip
        data["events"] = [{"kind": e.kind, "actor_id": e.actor_id, "comment": e.comment, "at": e.at.isoformat()} for e in evaluation.events]
    return data


async def _evaluation(request: web.Request, session, user: User) -> Evaluation:  # type: ignore[no-untyped-def]
    evaluation = await flow.load_visible(session, path_id(request), Scope.of(user).evaluations())
    if evaluation is None:
        raise json_error(404, "no such evaluation")
    return evaluation


class EvaluationQuery(BaseModel):
    agent: RowId | None = Field(default=None, description="the agent's user id")
    call: RowId | None = Field(default=None, description="the call's row id")


EVALUATION_NOTE = "Agents see their own; a calibration grade only its grader (docs/security.md)."


@endpoint(*EVERYONE, summary="Evaluations, newest first", query=EvaluationQuery, answer=answers.Evaluations, notes=EVALUATION_NOTE)
async def list_evaluations(request: web.Request, user: User, query: EvaluationQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        found = await flow.visible_evaluations(session, Scope.of(user).evaluations(), agent_id=query.agent, call_id=query.call)
    return web.json_response({"evaluations": [evaluation_json(e) for e in found]})


@endpoint(*GRADERS, summary="Grade a call (a calibration grade with calibration_id)", body=NewEvaluation, answer=answers.Evaluation, status=201,
          notes=SCOPE_NOTE, errors={**NO_SUCH_CALL, 409: "this calibration call is graded already"})  # fmt: skip
async def create_evaluation(request: web.Request, user: User, body: NewEvaluation) -> web.Response:
    wanted = body
    async with request.app[SESSIONS]() as session, session.begin():
        call = await _call(session, wanted.call_id, user)
        calibration = await session.get(Calibration, wanted.calibration_id) if wanted.calibration_id else None
        if wanted.calibration_id and (calibration is None or calibration.call_id != call.id):
            raise json_error(404, "no such calibration for this call")
        if calibration is not None:
            scorecard = await session.get(Scorecard, calibration.scorecard_id)
        elif wanted.scorecard_id:
            scorecard = await session.get(Scorecard, wanted.scorecard_id)
        else:
            scorecard = await latest_scorecard(session, request.app[SETTINGS].qa.scorecard)
        if scorecard is None:
            raise json_error(404, "no such scorecard")
        try:
            evaluation = await flow.submit(session, call, scorecard, wanted.grades(), user.id, calibration, method=wanted.method,
                                         review_percent=request.app[SETTINGS].qa.review_percent)
        except flow.EvaluationError as error:
            raise _fail(error) from None
        if calibration is None:
            await review.answer_pick(session, call.id)
        evaluation = await flow.load(session, evaluation.id)
        answer = evaluation_json(evaluation, full=True)  # type: ignore[arg-type]
    return web.json_response(answer, status=201)


@endpoint(*EVERYONE, summary="One evaluation with all its versions and its audit trail", answer=answers.Evaluation, path=EVALUATION_PATH, notes=EVALUATION_NOTE)
async def read_evaluation(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        return web.json_response(evaluation_json(await _evaluation(request, session, user), full=True))


async def _step(request: web.Request, user: User, wanted: BaseModel, action) -> web.Response:  # type: ignore[no-untyped-def]
    async with request.app[SESSIONS]() as session, session.begin():
        evaluation = await _evaluation(request, session, user)
        try:
            await action(session, evaluation, wanted)
        except flow.EvaluationError as error:
            raise _fail(error) from None
        await session.flush()
        answer = evaluation_json(await flow.load(session, evaluation.id), full=True)  # type: ignore[arg-type]
    return web.json_response(answer)


@endpoint(*GRADERS, summary="Correct an evaluation: a new version; the old ones are kept", body=Correction, answer=answers.Evaluation, path=EVALUATION_PATH,
          notes="Only its grader, a supervisor or an admin. A correction of an acknowledged or resolved evaluation reopens it.")  # fmt: skip
async def correct_evaluation(request: web.Request, user: User, body: Correction) -> web.Response:
    async def run(session, evaluation: Evaluation, wanted: Correction) -> None:  # type: ignore[no-untyped-def]
        if not Scope.of(user).corrects(evaluation):
            raise flow.EvaluationError("only the one who graded it, a supervisor or an admin corrects an evaluation", 403)
        await flow.correct(session, evaluation, wanted.grades(), user.id, wanted.reason)

    return await _step(request, user, body, run)


AGENT_STEP = {409: "the evaluation is not in a state for it"}


@endpoint(Role.AGENT, summary="The agent accepts the evaluation", body=Remark, answer=answers.Evaluation, path=EVALUATION_PATH, errors=AGENT_STEP)
async def acknowledge(request: web.Request, user: User, body: Remark) -> web.Response:
    return await _step(request, user, body, lambda session, evaluation, wanted: flow.acknowledge(session, evaluation, user.id, wanted.comment))


@endpoint(Role.AGENT, summary="The agent disputes the evaluation (a comment is required)", body=Remark, answer=answers.Evaluation,
          path=EVALUATION_PATH, errors=AGENT_STEP)  # fmt: skip
async def dispute(request: web.Request, user: User, body: Remark) -> web.Response:
    return await _step(request, user, body, lambda session, evaluation, wanted: flow.dispute(session, evaluation, user.id, wanted.comment))


@endpoint(*REVIEWERS, summary="Settle a dispute, with a corrected grading or not", body=Resolution, answer=answers.Evaluation, path=EVALUATION_PATH,
          notes="Never by the one who graded it.", errors={409: "only a disputed evaluation is resolved"})  # fmt: skip
async def resolve(request: web.Request, user: User, body: Resolution) -> web.Response:
    async def run(session, evaluation: Evaluation, wanted: Resolution) -> None:  # type: ignore[no-untyped-def]
        if not Scope.of(user).resolves(evaluation):
            raise flow.EvaluationError("a dispute about your own grading is resolved by another inspector or a supervisor", 403)
        grades = flow.Grades(wanted.items, wanted.comments) if wanted.items is not None else None
        await flow.resolve(session, evaluation, user.id, wanted.comment, grades)

    return await _step(request, user, body, run)


@endpoint(*CHECKERS, summary="Evaluations waiting for a team leader's or supervisor's review (组长/主管复核), oldest first", answer=answers.Evaluations,
          notes="A share of evaluations (qa.review_percent) is drawn when graded; a leader sees their team's.")  # fmt: skip
async def list_reviews(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        found = await flow.due_reviews(session, Scope.of(user).evaluations())
    return web.json_response({"evaluations": [evaluation_json(e) for e in found]})


@endpoint(*CHECKERS, summary="Review an evaluation: agree, or return it to its grader with why", body=ReviewVerdict, answer=answers.Evaluation,
          path=EVALUATION_PATH, notes="Never by its grader. A returned evaluation is reviewed again once its grader corrects it.",
          errors={409: "the evaluation is not waiting for a review"})  # fmt: skip
async def review_evaluation(request: web.Request, user: User, body: ReviewVerdict) -> web.Response:
    return await _step(request, user, body, lambda session, evaluation, wanted: flow.review(session, evaluation, user.id, wanted.verdict, wanted.comment))


@endpoint(*GRADERS, summary="Put an evaluation in the case library (典型案例) as a good or a bad example, or take it out", body=CaseMark,
          answer=answers.Evaluation, path=EVALUATION_PATH, notes="Of the evaluations the user may see. Audited in its trail.",
          errors={409: "a calibration grade is not a case"})  # fmt: skip
async def mark_case(request: web.Request, user: User, body: CaseMark) -> web.Response:
    return await _step(request, user, body, lambda session, evaluation, wanted: flow.mark_case(session, evaluation, user.id, wanted.kind, wanted.note))


@endpoint(*EVERYONE, summary="The case library: good and bad examples, newest first, with their calls", query=CaseQuery, answer=answers.Cases,
          notes=EVALUATION_NOTE)  # fmt: skip
async def list_cases(request: web.Request, user: User, query: CaseQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        found = await flow.cases(session, Scope.of(user).evaluations(), query.kind)
    return web.json_response({"cases": [
        {**evaluation_json(evaluation), "started_at": call.started_at.isoformat(), "direction": call.direction.value, "queue": call.queue,
         "talk_s": call.talk_s}
        for evaluation, call in found
    ]})  # fmt: skip


# Calibrations ------------------------------------------------------------------------------------------


@endpoint(Role.QA_INSPECTOR, Role.SUPERVISOR, Role.ADMIN, summary="Several inspectors grade the same call blind", body=NewCalibration,
          answer=answers.Calibration, status=201, errors=NO_SUCH_CALL)  # fmt: skip
async def create_calibration(request: web.Request, user: User, body: NewCalibration) -> web.Response:
    wanted = body
    async with request.app[SESSIONS]() as session, session.begin():
        call = await _call(session, wanted.call_id, user)
        inspectors = await flow.users_named(session, wanted.inspectors)
        missing = sorted(set(wanted.inspectors) - {u.username for u in inspectors})
        if missing or any(u.role not in GRADERS for u in inspectors):
            raise json_error(400, f"inspectors: {missing[0] if missing else 'everyone'} must be a user who grades calls")
        scorecard = (
            await session.get(Scorecard, wanted.scorecard_id) if wanted.scorecard_id else await latest_scorecard(session, request.app[SETTINGS].qa.scorecard)
        )
        if scorecard is None:
            raise json_error(404, "no such scorecard")
        calibration = Calibration(call_id=call.id, scorecard_id=scorecard.id, inspector_ids=sorted(u.id for u in inspectors), created_by=user.id)
        session.add(calibration)
        await session.flush()
        answer = {"id": calibration.id, "call_id": call.id, "scorecard_id": scorecard.id, "inspectors": calibration.inspector_ids}
    return web.json_response(answer, status=201)


@endpoint(*GRADERS, summary="Calibration sessions you take part in or set up (all for supervisors and admins)", answer=answers.Calibrations)
async def list_calibrations(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await flow.recent_calibrations(session)
    scope = Scope.of(user)
    mine = [c for c in rows if scope.whole_center or user.id in c.inspector_ids or c.created_by == user.id]
    return web.json_response({"calibrations": [{"id": c.id, "call_id": c.call_id, "scorecard_id": c.scorecard_id, "inspectors": c.inspector_ids} for c in mine]})


@endpoint(*GRADERS, summary="The spread report: per item each inspector's points, min, max, range, standard deviation", answer=answers.Spread,
          path={"id": "the calibration's id"}, notes="Blind (409) for each of its graders until they have graded; then, and for its creator and supervisors, the spread.",
          errors={409: "grade the call first"})  # fmt: skip
async def read_calibration(request: web.Request, user: User) -> web.Response:
    """The spread report: for its graders once they have graded (so nobody grades after seeing the
    others, not even the one who set it up), and for its creator and supervisors otherwise."""
    async with request.app[SESSIONS]() as session:
        calibration = await session.get(Calibration, path_id(request))
        if calibration is None:
            raise json_error(404, "no such calibration")
        report = await flow.calibration_spread(session, calibration)
    shown = Scope.of(user).sees_spread(calibration.created_by, calibration.inspector_ids, report["graded_by"])
    if shown is None:
        raise json_error(404, "no such calibration")
    if not shown:
        raise json_error(409, "grade the call first: calibration is blind until you have")
    return web.json_response(report)


# Reports -----------------------------------------------------------------------------------------------


class QaReportQuery(BaseModel):
    by: Literal["agent", "team", "item", "week"] = "agent"
    start: IsoDateTime | None = Field(default=None, alias="from", description="ISO date or date-time; default 28 days ago")
    end: IsoDateTime | None = Field(default=None, alias="to", description="ISO date or date-time; default now")
    format: Literal["json", "csv"] = "json"


@endpoint(Role.QA_INSPECTOR, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN, query=QaReportQuery, answer=answers.Report, also=("text/csv",),
          summary="QA scores by agent, team, item (the items failed most first) or ISO week; JSON or CSV", notes="Team leaders: their team's agents.")  # fmt: skip
async def report(request: web.Request, user: User, query: QaReportQuery) -> web.Response:
    by = query.by
    start = query.start or datetime.now(UTC) - timedelta(days=28)
    end = query.end or datetime.now(UTC) + timedelta(seconds=1)
    start, end = (m if m.tzinfo else m.replace(tzinfo=UTC) for m in (start, end))
    async with request.app[SESSIONS]() as session:
        try:
            rows = await qa_report(session, by, start, end, Scope.of(user).evaluations())
        except ValueError as error:
            raise json_error(400, str(error)) from None
    return table_response(query.format, f"qa-{by}", {"from": start.isoformat(), "to": end.isoformat(), "by": by}, rows)


# The auto-QA result and the recordings ---------------------------------------------------------------


@endpoint(*EVERYONE, summary="The call's auto-QA: metrics, transcript if any, findings with timestamps, pre-filled items", answer=answers.AutoQa,
          path=CALL_PATH, notes=SCOPE_NOTE)  # fmt: skip
async def call_qa(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        call = await own_call(request, session, user)
        intake = await review.intake_of(session, call.id)
    if intake is None:
        raise json_error(404, "this call has no auto-QA: it has no recording, or it has not ended")
    result = intake.result or {"metrics": None, "transcript": None, "findings": [], "prefilled": {}}
    if user.role.value not in request.app[SETTINGS].privacy.transcripts_unredacted:
        result = redact_result(result)  # card, ID and phone numbers said on the call (handbook §6)
    return web.json_response(
        {"call_id": call.id, "state": intake.state, "error": intake.error or None, "auto_score": intake.auto_score,
         "flagged": intake.flagged, "analysed_at": intake.analysed_at.isoformat() if intake.analysed_at else None, **result}
    )  # fmt: skip


@endpoint(*EVERYONE, summary="The call's recording: agent, caller or mix (WAV); stereo = agent left, customer right", media="audio/wav",
          path={**CALL_PATH, "leg": "agent, caller, mix or stereo"}, notes=SCOPE_NOTE)  # fmt: skip
async def recording(request: web.Request, user: User) -> web.StreamResponse:
    leg = request.match_info["leg"]
    if leg not in LEGS:
        raise json_error(404, f"leg must be one of {', '.join(LEGS)}")
    async with request.app[SESSIONS]() as session:
        call = await own_call(request, session, user)
    headers = {"Content-Type": "audio/wav", "Cache-Control": "private, max-age=3600"}
    if leg == "stereo":  # the player's: agent left, customer right, one waveform each
        paths = [_leg_file(request, call, side) for side in ("agent", "caller")]
        if None in paths:
            raise json_error(404, "no such recording")
        try:
            data = await asyncio.to_thread(stereo_wav, *paths)  # type: ignore[arg-type]
        except AudioError as error:
            raise json_error(404, str(error)) from None
        return web.Response(body=data, headers=headers)
    path = _leg_file(request, call, leg)
    if path is None:
        raise json_error(404, "no such recording")
    return web.FileResponse(path, headers=headers)


def _leg_file(request: web.Request, call: Call, leg: str):  # type: ignore[no-untyped-def]
    relative = leg_file(call.recordings, leg)
    return recording_file(request.app[SETTINGS], call.server, relative) if relative else None


DEFAULT_SCORECARD_LOCK = web.AppKey("default_scorecard_lock", asyncio.Lock)


def routes(app: web.Application) -> None:
    app[DEFAULT_SCORECARD_LOCK] = asyncio.Lock()
    app.router.add_get("/api/qa/scorecards", list_scorecards)
    app.router.add_post("/api/qa/scorecards", create_scorecard)
    app.router.add_get("/api/qa/scorecards/{id}", read_scorecard)
    app.router.add_get("/api/qa/queue", review_queue)
    app.router.add_post("/api/qa/queue", pick)
    app.router.add_get("/api/qa/evaluations", list_evaluations)
    app.router.add_post("/api/qa/evaluations", create_evaluation)
    app.router.add_get("/api/qa/evaluations/{id}", read_evaluation)
    app.router.add_put("/api/qa/evaluations/{id}", correct_evaluation)
    app.router.add_post("/api/qa/evaluations/{id}/acknowledge", acknowledge)
    app.router.add_post("/api/qa/evaluations/{id}/dispute", dispute)
    app.router.add_post("/api/qa/evaluations/{id}/resolve", resolve)
    app.router.add_put("/api/qa/evaluations/{id}/case", mark_case)
    app.router.add_post("/api/qa/evaluations/{id}/review", review_evaluation)
    app.router.add_get("/api/qa/reviews", list_reviews)
    app.router.add_get("/api/qa/cases", list_cases)
    app.router.add_get("/api/qa/calibrations", list_calibrations)
    app.router.add_post("/api/qa/calibrations", create_calibration)
    app.router.add_get("/api/qa/calibrations/{id}", read_calibration)
    app.router.add_get("/api/qa/reports", report)
    app.router.add_get("/api/calls/{id}/qa", call_qa)
    app.router.add_get("/api/calls/{id}/recording/{leg}", recording)
