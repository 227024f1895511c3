"""The QA workflow through the API, on SQLite and PostgreSQL: grading against the scorecard,
immutable versions with an audit trail, the agent's acknowledge/dispute and its resolution, blind
calibration with its spread, role checks, the review queue and the QA reports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.models import Call, CallDirection, QaIntake, User
from crm.queues import sync_queues
from crm.users import add_user
from qa.evaluations import drawn_for_review
from qa.scorecards import DEFAULT_SCORECARD
from qa.store import ensure_default_scorecard
from tests.test_api import Api
from tests.web import running


def full_marks(**changes: dict) -> dict[str, dict]:
    items = {code: ({"failed": False} if item.fatal else {"points": item.max_points}) for code, item in DEFAULT_SCORECARD.items().items()}
    return {**items, **changes}


@pytest.fixture
async def qa_api(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, qa={"sample_percent": 0, "review_percent": 100})
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        await add_user(session, username="qa2", password=DEMO_PASSWORD, role="qa_inspector")
        await ensure_default_scorecard(session)
        ids = {u.extension: u.id for u in await session.scalars(select(User)) if u.extension}
        now = datetime.now(UTC)
        calls = {}
        for name, extension, code in (("mine", "1001", "complaint"), ("theirs", "1003", "inquiry")):
            call = Call(linkedid=f"qa-{name}", direction=CallDirection.INBOUND, agent_id=ids[extension], agent_extension=extension,
                        queue="support", started_at=now - timedelta(minutes=5), answered_at=now - timedelta(minutes=5),
                        ended_at=now - timedelta(minutes=3), talk_s=120.0, disposition="answered", disposition_code=code)  # fmt: skip
            session.add(call)
            await session.flush()
            session.add(QaIntake(call_id=call.id, state="done", auto_score=60.0, flagged=name == "theirs"))
            calls[name] = call.id
    async with running(create_app(settings, engine)) as url, aiohttp.ClientSession() as http:
        api = Api(http, url)
        tokens = {u: await api.login(u) for u in ("qa", "qa2", "agent1001", "agent1003", "supervisor", "leader")}
        yield api, tokens, calls
    await engine.dispose()


async def test_grades_are_checked_and_a_fatal_error_zeroes_the_call(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    status, body = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks(**{"voice.pace": {"points": 7}})})
    assert status == 400 and "voice.pace" in body["error"] and "between 0 and 5" in body["error"]
    incomplete = full_marks()
    del incomplete["closing.thanks"]
    status, body = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": incomplete})
    assert status == 400 and "closing.thanks: not graded" in body["error"]
    status, body = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks(**{"voice.pace": {"points": 3}})})
    assert status == 201 and body["total"] == 98.0 and not body["fatal"] and body["status"] == "submitted"
    status, body = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["theirs"], "items": full_marks(**{"fatal.hang_up": {"failed": True, "comment": "挂断"}})})
    assert status == 201 and (body["total"], body["fatal"]) == (0.0, True)


async def test_a_correction_is_a_new_version_and_the_dispute_flow_leaves_a_trail(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    _, first = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={
        "call_id": calls["mine"], "items": full_marks(**{"opening.greeting": {"points": 0, "comment": "no greeting"}}),
        "comments": {"problems": "没有问候语"}})  # fmt: skip
    evaluation = f"/api/qa/evaluations/{first['id']}"
    assert first["total"] == 98.0
    status, body = await api.call("PUT", evaluation, tokens["qa"], json={"items": full_marks()})
    assert status == 400  # a correction says why
    status, body = await api.call("PUT", evaluation, tokens["qa"], json={"items": full_marks(), "reason": "greeting heard on the mix"})
    assert status == 200 and body["version"] == 2 and body["total"] == 100.0
    assert [(v["version"], v["total"]) for v in body["versions"]] == [(1, 98.0), (2, 100.0)]  # version 1 is kept as it was
    assert body["versions"][0]["items"]["opening.greeting"]["comment"] == "no greeting"
    assert (await api.call("PUT", evaluation, tokens["qa2"], json={"items": full_marks(), "reason": "x"}))[0] == 403

    assert (await api.call("POST", f"{evaluation}/dispute", tokens["agent1003"], json={"comment": "not mine"}))[0] == 404
    status, body = await api.call("POST", f"{evaluation}/dispute", tokens["agent1001"], json={"comment": "我有问候"})
    assert status == 200 and body["status"] == "disputed"
    assert (await api.call("POST", f"{evaluation}/acknowledge", tokens["agent1001"], json={}))[0] == 409
    assert (await api.call("POST", f"{evaluation}/resolve", tokens["agent1001"], json={"comment": "mine"}))[0] == 403
    status, body = await api.call("POST", f"{evaluation}/resolve", tokens["supervisor"], json={
        "comment": "听了录音,扣分成立", "items": full_marks(**{"opening.greeting": {"points": 1}})})  # fmt: skip
    assert status == 200 and body["status"] == "resolved" and body["version"] == 3 and body["total"] == 99.0
    assert [e["kind"] for e in body["events"]] == ["submitted", "corrected", "disputed", "corrected", "resolved"]
    assert body["versions"][2]["reason"].startswith("dispute resolved")

    status, listed = await api.call("GET", "/api/qa/evaluations", tokens["agent1001"])
    assert status == 200 and [e["id"] for e in listed["evaluations"]] == [first["id"]]
    assert (await api.call("GET", "/api/qa/evaluations", tokens["agent1003"]))[1]["evaluations"] == []


async def test_calibration_is_blind_until_graded_and_reports_the_spread(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    status, calibration = await api.call("POST", "/api/qa/calibrations", tokens["supervisor"], json={"call_id": calls["theirs"], "inspectors": ["qa", "qa2"]})
    assert status == 201
    path = f"/api/qa/calibrations/{calibration['id']}"
    grade = lambda points: {"call_id": calls["theirs"], "calibration_id": calibration["id"], "items": full_marks(**{"attitude.warm": {"points": points}})}  # noqa: E731
    status, mine = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json=grade(8))
    assert status == 201
    assert (await api.call("GET", path, tokens["qa2"]))[0] == 409  # qa2 has not graded yet
    assert (await api.call("GET", f"/api/qa/evaluations/{mine['id']}", tokens["qa2"]))[0] == 404  # nor sees qa's grades
    assert (await api.call("POST", "/api/qa/evaluations", tokens["qa"], json=grade(7)))[0] == 409  # once each
    assert (await api.call("POST", "/api/qa/evaluations", tokens["qa2"], json=grade(2)))[0] == 201
    status, spread = await api.call("GET", path, tokens["qa2"])
    assert status == 200 and spread["total_range"] == 6.0
    warm = next(i for i in spread["items"] if i["item"] == "attitude.warm")
    assert (warm["min"], warm["max"], warm["range"], warm["stdev"]) == (2.0, 8.0, 6.0, 3.0)
    assert next(i for i in spread["items"] if i["item"] == "voice.pace")["range"] == 0.0
    # Calibration grades are for inspectors: neither the agent nor the review queue count them.
    assert (await api.call("GET", "/api/qa/evaluations", tokens["agent1003"]))[1]["evaluations"] == []


async def test_grades_stay_the_graders_and_a_correction_after_acknowledgement_reopens(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    _, graded = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks()})
    evaluation = f"/api/qa/evaluations/{graded['id']}"
    # The team's leader reads the evaluation (coaching) but never overwrites the inspector's grades.
    assert (await api.call("GET", evaluation, tokens["leader"]))[0] == 200
    status, body = await api.call("PUT", evaluation, tokens["leader"], json={"items": full_marks(**{"voice.pace": {"points": 0}}), "reason": "太快"})
    assert status == 403 and "graded it" in body["error"]
    status, body = await api.call("POST", f"{evaluation}/acknowledge", tokens["agent1001"], json={"comment": "收到"})
    assert status == 200 and body["status"] == "acknowledged"
    status, body = await api.call("PUT", evaluation, tokens["qa"], json={"items": full_marks(**{"voice.pace": {"points": 3}}), "reason": "复听后扣分"})
    assert status == 200 and body["status"] == "submitted" and body["total"] == 98.0  # the agent acknowledged other grades
    assert [e["kind"] for e in body["events"]] == ["submitted", "acknowledged", "corrected", "reopened"]
    assert (await api.call("POST", f"{evaluation}/dispute", tokens["agent1001"], json={"comment": "语速正常"}))[1]["status"] == "disputed"
    status, body = await api.call("POST", f"{evaluation}/resolve", tokens["qa"], json={"comment": "维持"})
    assert status == 403 and "your own grading" in body["error"]  # the grader does not judge the appeal
    assert (await api.call("POST", f"{evaluation}/resolve", tokens["qa2"], json={"comment": "维持"}))[1]["status"] == "resolved"

    # A calibration's creator who also grades it is as blind as the others until they have graded.
    _, calibration = await api.call("POST", "/api/qa/calibrations", tokens["qa"], json={"call_id": calls["theirs"], "inspectors": ["qa", "qa2"]})
    path = f"/api/qa/calibrations/{calibration['id']}"
    assert (await api.call("GET", path, tokens["qa"]))[0] == 409
    grade = {"call_id": calls["theirs"], "calibration_id": calibration["id"], "items": full_marks()}
    assert (await api.call("POST", "/api/qa/evaluations", tokens["qa2"], json=grade))[0] == 201
    assert (await api.call("GET", path, tokens["qa"]))[0] == 409  # qa2's grades are in; qa's are not
    assert (await api.call("POST", "/api/qa/evaluations", tokens["qa"], json=grade))[0] == 201
    assert (await api.call("GET", path, tokens["qa"]))[1]["graded_by"] == sorted(calibration["inspectors"])


async def test_roles_an_inspector_edits_no_crm_data_and_an_agent_sees_only_their_own(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    assert (await api.call("PATCH", f"/api/calls/{calls['mine']}", tokens["qa"], json={"notes": "x"}))[0] == 403
    assert (await api.call("POST", "/api/customers", tokens["qa"], json={"name": "X", "phones": ["13900000000"]}))[0] == 403
    assert (await api.call("POST", "/api/qa/evaluations", tokens["agent1001"], json={"call_id": calls["mine"], "items": full_marks()}))[0] == 403
    assert (await api.call("GET", f"/api/calls/{calls['theirs']}/qa", tokens["agent1001"]))[0] == 404
    assert (await api.call("GET", f"/api/calls/{calls['theirs']}/recording/agent", tokens["agent1001"]))[0] == 404
    status, auto = await api.call("GET", f"/api/calls/{calls['mine']}/qa", tokens["agent1001"])
    assert status == 200 and auto["auto_score"] == 60.0
    # A team leader grades their own team's calls only (1003 is in team B).
    assert (await api.call("POST", "/api/qa/evaluations", tokens["leader"], json={"call_id": calls["theirs"], "items": full_marks()}))[0] == 404


async def test_the_review_queue_and_the_reports(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    status, queue = await api.call("GET", "/api/qa/queue", tokens["qa"])
    reasons = {c["call_id"]: c["reasons"] for c in queue["calls"]}
    assert reasons == {calls["mine"]: ["code:complaint"], calls["theirs"]: ["auto_qa"]}
    await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks(**{"closing.thanks": {"points": 0}})})
    await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["theirs"], "items": full_marks(**{"closing.thanks": {"points": 1}, "voice.pace": {"points": 4}})})
    status, queue = await api.call("GET", "/api/qa/queue", tokens["qa"])
    assert queue["calls"] == []  # both graded
    assert (await api.call("POST", "/api/qa/queue", tokens["qa"], json={"call_id": calls["mine"]}))[0] == 201  # a second look
    _, queue = await api.call("GET", "/api/qa/queue", tokens["qa"])
    assert [(c["call_id"], "picked" in c["reasons"]) for c in queue["calls"]] == [(calls["mine"], True)]
    await api.call("POST", "/api/qa/evaluations", tokens["supervisor"], json={"call_id": calls["mine"], "items": full_marks(**{"closing.thanks": {"points": 0}})})
    assert (await api.call("GET", "/api/qa/queue", tokens["qa"]))[1]["calls"] == []  # the pick is answered

    status, by_agent = await api.call("GET", "/api/qa/reports?by=agent", tokens["supervisor"])
    assert {r["agent"]: (r["evaluations"], r["average"]) for r in by_agent["rows"]} == {"1001": (2, 98.0), "1003": (1, 98.0)}
    status, by_item = await api.call("GET", "/api/qa/reports?by=item", tokens["qa"])
    assert by_item["rows"][0]["item"] == "closing.thanks" and by_item["rows"][0]["lost_share"] == 1.0  # failed most
    status, mine = await api.call("GET", "/api/qa/reports?by=agent", tokens["leader"])
    assert [r["agent"] for r in mine["rows"]] == ["1001"]  # team A only
    async with api.http.get(f"{api.base}/api/qa/reports?by=week&format=csv", headers={"Authorization": f"Bearer {tokens['qa']}"}) as r:
        table = list(csv.DictReader(io.StringIO((await r.text()).lstrip("\ufeff"))))
    assert len(table) == 1 and table[0]["evaluations"] == "3" and table[0]["week"].startswith(str(datetime.now(UTC).year))


async def test_editing_a_scorecard_makes_a_new_version(qa_api) -> None:  # type: ignore[no-untyped-def]
    api, tokens, calls = qa_api
    _, cards = await api.call("GET", "/api/qa/scorecards", tokens["agent1001"])
    (default,) = cards["scorecards"]
    assert (default["version"], default["max_total"], default["zh"]) == (1, 100.0, "呼叫质量监控表")
    _, evaluation = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks()})
    changed = DEFAULT_SCORECARD.model_dump()
    changed["sections"][0]["items"][0]["guidance_en"] = "Within 2 rings"
    status, second = await api.call("POST", "/api/qa/scorecards", tokens["supervisor"], json=changed)
    assert status == 201 and second["version"] == 2 and second["id"] != default["id"]
    assert (await api.call("POST", "/api/qa/scorecards", tokens["agent1001"], json=changed))[0] == 403
    broken = {**changed, "rules": [{"kind": "greeting", "item": "nope"}]}
    status, body = await api.call("POST", "/api/qa/scorecards", tokens["supervisor"], json=broken)
    assert status == 400 and "nope" in body["error"]
    _, kept = await api.call("GET", f"/api/qa/evaluations/{evaluation['id']}", tokens["qa"])
    assert kept["scorecard_id"] == default["id"]  # the evaluation keeps the version it was scored on


async def test_the_review_queue_samples_a_quarter_of_each_agents_week(migrated_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, qa={"sample_percent": 25})
    zone = ZoneInfo(settings.crm.timezone)
    local_now = datetime.now(zone)
    last_week = (local_now - timedelta(days=local_now.weekday() + 7)).replace(hour=10, minute=0, second=0, microsecond=0)  # last Monday but one, 10:00
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        ids = {u.extension: u.id for u in await session.scalars(select(User)) if u.extension}
        for extension, count in (("1001", 8), ("1002", 12), ("1003", 3)):
            for n in range(count):
                started = last_week + timedelta(hours=n)  # all on that Monday, in the call center's time zone
                call = Call(linkedid=f"week-{extension}-{n}", direction=CallDirection.INBOUND, agent_id=ids[extension], agent_extension=extension,
                            queue="support", started_at=started, answered_at=started, ended_at=started + timedelta(minutes=2),
                            talk_s=120.0, disposition="answered")  # fmt: skip
                session.add(call)
                await session.flush()
                session.add(QaIntake(call_id=call.id, state="done", auto_score=90.0))
        for n in range(4):  # 1001's unanswered attempts: recorded, but nothing to review, and not counted
            started = last_week + timedelta(hours=n, minutes=30)
            call = Call(linkedid=f"week-missed-{n}", direction=CallDirection.OUTBOUND, agent_id=ids["1001"], agent_extension="1001",
                        started_at=started, ended_at=started + timedelta(seconds=30), disposition="no_answer")  # fmt: skip
            session.add(call)
            await session.flush()
            session.add(QaIntake(call_id=call.id, state="skipped"))
    async with running(create_app(settings, engine)) as url, aiohttp.ClientSession() as http:
        api = Api(http, url)
        _, queue = await api.call("GET", "/api/qa/queue", await api.login("qa"))
    await engine.dispose()
    sampled = Counter(c["agent"] for c in queue["calls"] if "sample" in c["reasons"])
    assert (sampled["1001"], sampled["1002"]) == (2, 3)  # 25% of 8 and of 12: exact
    assert sampled["1003"] in (0, 1)  # 25% of 3 is 0.75: rounded down or up


async def test_the_monitoring_method_and_the_case_library(qa_api) -> None:  # type: ignore[no-untyped-def]
    """监控方式 on each evaluation (handbook §3.4); 典型案例: a grader marks good and bad examples with
    what they teach, each mark in the trail, and everyone finds the cases they may see."""
    api, tokens, calls = qa_api
    status, body = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks(), "method": "phone"})
    assert status == 400 and "method" in body["error"]
    status, good = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks(), "method": "live"})
    assert status == 201 and (good["method"], good["case"]) == ("live", None)
    status, bad = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["theirs"], "items": full_marks()})
    assert status == 201 and bad["method"] == "recording"
    path = f"/api/qa/evaluations/{good['id']}/case"
    status, body = await api.call("PUT", path, tokens["qa"], json={"kind": "good"})
    assert status == 400 and "what the case teaches" in body["error"]
    assert (await api.call("PUT", path, tokens["agent1001"], json={"kind": "good", "note": "x"}))[0] == 403
    status, marked = await api.call("PUT", path, tokens["qa"], json={"kind": "good", "note": "标准开场白与结束语"})
    assert status == 200 and (marked["case"], marked["case_note"]) == ("good", "标准开场白与结束语")
    assert marked["events"][-1]["kind"] == "case_good" and marked["events"][-1]["comment"] == "标准开场白与结束语"
    status, _ = await api.call("PUT", f"/api/qa/evaluations/{bad['id']}/case", tokens["supervisor"], json={"kind": "bad", "note": "未致歉"})
    assert status == 200
    status, library = await api.call("GET", "/api/qa/cases", tokens["qa"])
    assert status == 200 and [(c["call_id"], c["case"]) for c in library["cases"]] == [(calls["theirs"], "bad"), (calls["mine"], "good")]
    assert library["cases"][0]["queue"] == "support" and library["cases"][0]["talk_s"] == 120.0
    status, only_good = await api.call("GET", "/api/qa/cases?kind=good", tokens["qa"])
    assert [c["id"] for c in only_good["cases"]] == [good["id"]]
    assert (await api.call("GET", "/api/qa/cases?kind=typical", tokens["qa"]))[0] == 400
    # An agent finds the cases of their own calls only.
    status, own = await api.call("GET", "/api/qa/cases", tokens["agent1001"])
    assert status == 200 and [c["id"] for c in own["cases"]] == [good["id"]]
    status, removed = await api.call("PUT", path, tokens["qa"], json={"kind": None})
    assert status == 200 and removed["case"] is None and removed["events"][-1]["kind"] == "case_removed"
    assert [c["id"] for c in (await api.call("GET", "/api/qa/cases", tokens["qa"]))[1]["cases"]] == [bad["id"]]


async def test_a_share_of_evaluations_is_reviewed_by_a_leader_or_supervisor(qa_api) -> None:  # type: ignore[no-untyped-def]
    """组长/主管复核 (handbook §3.4), here for every evaluation (qa.review_percent = 100): the team's
    leader or a supervisor agrees, or returns it to its grader, whose correction comes back."""
    api, tokens, calls = qa_api
    status, graded = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["mine"], "items": full_marks()})
    assert status == 201 and graded["review"] == "due" and graded["reviewer_id"] is None
    path = f"/api/qa/evaluations/{graded['id']}/review"
    status, waiting = await api.call("GET", "/api/qa/reviews", tokens["leader"])
    assert status == 200 and [e["id"] for e in waiting["evaluations"]] == [graded["id"]]
    assert (await api.call("GET", "/api/qa/reviews", tokens["qa"]))[0] == 403
    status, body = await api.call("POST", path, tokens["leader"], json={"verdict": "returned"})
    assert status == 400 and "what the grader should look at" in body["error"]
    status, returned = await api.call("POST", path, tokens["leader"], json={"verdict": "returned", "comment": "开场白扣分依据不足"})
    assert status == 200 and returned["review"] == "returned" and returned["events"][-1]["kind"] == "review_returned"
    assert (await api.call("POST", path, tokens["supervisor"], json={"verdict": "agreed"}))[0] == 409  # not waiting now
    assert (await api.call("GET", "/api/qa/reviews", tokens["leader"]))[1]["evaluations"] == []
    status, corrected = await api.call("PUT", f"/api/qa/evaluations/{graded['id']}", tokens["qa"],
                                       json={"items": full_marks(**{"voice.pace": {"points": 4}}), "reason": "按复核意见调整"})  # fmt: skip
    assert status == 200 and corrected["review"] == "due"  # the correction is reviewed again
    status, agreed = await api.call("POST", path, tokens["supervisor"], json={"verdict": "agreed", "comment": "同意"})
    assert status == 200 and agreed["review"] == "agreed" and agreed["total"] == 99.0
    # A leader never reviews another team's evaluation, nor one they graded themselves.
    status, theirs = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": calls["theirs"], "items": full_marks()})
    assert (await api.call("POST", f"/api/qa/evaluations/{theirs['id']}/review", tokens["leader"], json={"verdict": "agreed"}))[0] == 404
    status, own = await api.call("POST", "/api/qa/evaluations", tokens["leader"], json={"call_id": calls["mine"], "items": full_marks()})
    assert status == 201 and own["review"] == "due"
    assert (await api.call("POST", f"/api/qa/evaluations/{own['id']}/review", tokens["leader"], json={"verdict": "agreed"}))[0] == 403


def test_the_reviewed_share_is_close_to_the_setting_and_spread_over_consecutive_evaluations() -> None:
    drawn = [drawn_for_review(i, 10) for i in range(1, 1001)]
    assert 80 <= sum(drawn) <= 120
    assert max(len(run) for run in "".join("x" if d else "." for d in drawn).split(".")) <= 3
    assert not any(drawn_for_review(i, 0) for i in range(1, 200)) and all(drawn_for_review(i, 100) for i in range(1, 200))
