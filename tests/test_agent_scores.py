"""The monthly agent score (handbook §2): QA combined with handle time and occupancy as a weighted
formula, per agent and month, through the API on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from agent_ui.app import create_app
from config import load_settings
from config.settings import AgentScoreSettings
from crm.agent_scores import part_scores, weighted
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.models import AgentStateLog, Calibration, Call, CallDirection, Evaluation, EvaluationVersion, Scorecard, User
from crm.queues import sync_queues
from crm.users import add_user
from qa.store import ensure_default_scorecard
from tests.test_api import Api
from tests.web import running

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = AgentScoreSettings()  # qa 0.5, aht 0.25, occupancy 0.25; 200 s; 85 %


def test_each_part_is_scored_against_its_target() -> None:
    assert part_scores(SETTINGS, 90.0, 200.0, 0.85) == {"qa": 90.0, "aht": 100.0, "occupancy": 100.0}
    assert part_scores(SETTINGS, None, 300.0, 0.425) == {"qa": None, "aht": 50.0, "occupancy": 50.0}
    assert part_scores(SETTINGS, None, 450.0, 0.95)["aht"] == 0.0 and part_scores(SETTINGS, None, 100.0, None)["aht"] == 100.0


def test_the_score_is_weighted_over_the_parts_with_data_and_says_how_much_it_covers() -> None:
    assert weighted(SETTINGS, {"qa": 80.0, "aht": 100.0, "occupancy": 60.0}) == (80.0, 1.0)
    assert weighted(SETTINGS, {"qa": None, "aht": 100.0, "occupancy": 60.0}) == (80.0, 0.5)
    assert weighted(SETTINGS, {"qa": None, "aht": None, "occupancy": None}) == (None, 0.0)
    only_qa = AgentScoreSettings(weights={"qa": 1.0, "aht": 0.0, "occupancy": 0.0})
    assert weighted(only_qa, {"qa": 70.0, "aht": 0.0, "occupancy": 0.0}) == (70.0, 1.0)
    with pytest.raises(ValidationError):
        AgentScoreSettings(weights={"qa": -1.0, "aht": 1.0})
    with pytest.raises(ValidationError):
        AgentScoreSettings(weights={"qa": 0.0})


async def _month_of_work(session, month_start: datetime) -> None:  # type: ignore[no-untyped-def]
    """Agent 1001 in the month: two calls of 150 and 250 s handle time, an hour logged in (35 min
    ready, 25 min handling), two evaluations (90, then one corrected from 100 to 60) and a
    calibration grade of 0 that must not count; a call and an evaluation the month before."""
    user = await session.scalar(select(User).where(User.extension == "1001"))
    scorecard = await session.scalar(select(Scorecard))
    day = month_start + timedelta(days=3, hours=10)
    calls = []
    for n, (talk, wrap, at) in enumerate(((120.0, 30.0, day), (200.0, 50.0, day + timedelta(minutes=20)), (60.0, 0.0, month_start - timedelta(days=2)))):
        call = Call(linkedid=f"score-{n}", direction=CallDirection.INBOUND, agent_id=user.id, agent_extension="1001", queue="support",
                    started_at=at, queued_at=at, answered_at=at + timedelta(seconds=5), ended_at=at + timedelta(seconds=5 + talk),
                    talk_s=talk, wrapup_s=wrap, wait_s=5.0, disposition="answered")  # fmt: skip
        session.add(call)
        calls.append(call)
    await session.flush()
    for n, (state, minutes) in enumerate((("available", 0), ("on_call", 10), ("available", 25), ("on_call", 50), ("logged_out", 60))):
        session.add(AgentStateLog(event_key=f"score-{n}", agent_extension="1001", agent_id=user.id, server="default", state=state,
                                  at=day - timedelta(minutes=5) + timedelta(minutes=minutes)))  # fmt: skip
    for call, totals, calibration in ((calls[0], [90.0], False), (calls[1], [100.0, 60.0], False), (calls[1], [0.0], True), (calls[2], [10.0], False)):
        evaluation = Evaluation(call_id=call.id, agent_id=user.id, scorecard_id=scorecard.id, inspector_id=None,
                                calibration_id=None, status="submitted")  # fmt: skip
        session.add(evaluation)
        await session.flush()
        if calibration:  # a calibration grade: counted for the spread, never in an agent's score
            row = Calibration(call_id=call.id, scorecard_id=scorecard.id, inspector_ids=[], created_by=None)
            session.add(row)
            await session.flush()
            evaluation.calibration_id = row.id
        for version, total in enumerate(totals, start=1):
            session.add(EvaluationVersion(evaluation_id=evaluation.id, version=version, items={}, total=total, fatal=total == 0.0))


async def test_the_report_combines_qa_with_handle_time_and_occupancy(migrated_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, crm={"timezone": "Asia/Shanghai"})
    engine = create_engine(migrated_url)
    month_start = datetime(2026, 11, 1, tzinfo=SHANGHAI)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        await ensure_default_scorecard(session)
        await add_user(session, username="leaderb", password=DEMO_PASSWORD, role="team_leader", team="B")
        await _month_of_work(session, month_start)
    try:
        async with running(create_app(settings, engine)) as url, aiohttp.ClientSession() as http:
            api = Api(http, url)
            status, report = await api.call("GET", "/api/reports/agent-scores?month=2026-11", await api.login("supervisor"))
            assert status == 200, report
            assert report["month"] == "2026-11" and report["from"].startswith("2026-11-01T00:00:00+08:00")
            row = next(r for r in report["rows"] if r["agent"] == "1001")
            # AHT (150 + 250) / 2 = 200 s: on target. Occupancy: 25 of the 60 minutes ready or handling.
            assert (row["handled"], row["aht_s"], row["aht_score"]) == (2, 200.0, 100.0)
            assert row["occupancy"] == round(25 / 60, 4) and row["occupancy_score"] == round(100 * (25 / 60) / 0.85, 1)
            assert row["qa_average"] == 75.0 and row["qa_score"] == 75.0  # (90 + 60) / 2: latest versions, no calibration, not October's
            assert row["score"] == round(0.5 * 75.0 + 0.25 * 100.0 + 0.25 * 100 * (25 / 60) / 0.85, 1) and row["covers"] == 1.0
            status, leader = await api.call("GET", "/api/reports/agent-scores?month=2026-11", await api.login("leaderb"))
            assert status == 200 and all(r["agent"] != "1001" for r in leader["rows"])  # another team's leader
            assert (await api.call("GET", "/api/reports/agent-scores", await api.login("agent1001")))[0] == 403
            for bad in ("2026-13", "26-11", "2026-1", "0000-05", "9999-12"):
                assert (await api.call("GET", f"/api/reports/agent-scores?month={bad}", await api.login("supervisor")))[0] == 400
            token = await api.login("supervisor")
            async with http.get(f"{url}/api/reports/agent-scores?month=2026-11&format=csv", headers={"Authorization": f"Bearer {token}"}) as response:
                table = list(csv.DictReader(io.StringIO((await response.text()).lstrip("\ufeff"))))
            assert response.status == 200 and next(r for r in table if r["agent"] == "1001")["score"] == str(row["score"])
    finally:
        await engine.dispose()
