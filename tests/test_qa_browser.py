"""The QA page in headless Chromium: an inspector opens a call from the review queue, the player
draws the agent's and the customer's waveforms, the auto-QA findings and the pre-filled scorecard
are there, the grade is submitted; the agent then disputes it from the same page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.models import Call, CallDirection, Evaluation, QaIntake, User
from crm.queues import sync_queues
from crm.users import add_user
from qa.analysis import analyse, load_legs
from qa.scorecards import DEFAULT_SCORECARD
from qa.store import ensure_default_scorecard
from telephony.sandbox.scripted import scripted_call
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.web import running


@pytest.fixture
async def qa_site(migrated_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    recordings = tmp_path / "recordings"
    (recordings / "20261127").mkdir(parents=True)
    agent, customer, marks = scripted_call(recordings / "20261127", "rude")
    settings = load_settings(data_dir=tmp_path, asterisk=[{"recordings_dir": str(recordings)}], qa={"sample_percent": 0, "review_percent": 100})
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        await ensure_default_scorecard(session)
        await add_user(session, username="qa2", password=DEMO_PASSWORD, role="qa_inspector")
        agent_id = await session.scalar(select(User.id).where(User.extension == "1001"))
        now = datetime.now(UTC)
        call = Call(linkedid="qa-page", direction=CallDirection.INBOUND, agent_id=agent_id, agent_extension="1001", queue="support",
                    caller_number="13800138000", started_at=now - timedelta(minutes=2), answered_at=now - timedelta(minutes=2),
                    ended_at=now - timedelta(minutes=1), talk_s=24.0, disposition="answered", disposition_code="complaint",
                    recordings=[f"20261127/{agent.name}", f"20261127/{customer.name}"])  # fmt: skip
        session.add(call)
        await session.flush()
        result = analyse(load_legs(agent, customer), DEFAULT_SCORECARD, "en")
        session.add(QaIntake(call_id=call.id, state="done", result=result, auto_score=result["auto_score"], flagged=result["flagged"]))
        call_id = call.id
    async with running(create_app(settings, engine)) as url:
        yield url, engine, call_id, marks
    await engine.dispose()


async def judge_unassessed(page) -> None:  # type: ignore[no-untyped-def]
    """The inspector's own judgement of the items the auto-QA could not assess: full marks here."""
    for line in await page.locator(".grade-item:has(.not-assessed)").all():
        box = line.locator("input[type=number]")
        await box.fill(await box.get_attribute("max"))


async def test_inspector_grades_from_the_player_and_the_agent_disputes(qa_site) -> None:  # type: ignore[no-untyped-def]
    url, engine, call_id, marks = qa_site
    async with chromium() as page:
        await browser_log_in(page, f"{url}/qa", "qa", "#qa-view")
        await page.click(f"tr[data-call='{call_id}'] button")
        await page.wait_for_function("qa.player && qa.player.getDecodedData() !== null", timeout=15_000)
        top = await page.evaluate("document.querySelector('#review').getBoundingClientRect().top")
        assert -1 < top < await page.evaluate("window.innerHeight")  # the review opens in view (to the subpixel), not below the fold
        assert await page.evaluate("qa.player.getDecodedData().numberOfChannels") == 2  # agent and customer
        assert await page.evaluate("qa.player.getDuration()") > 20
        failed = await page.locator("#findings li.failed").all_text_contents()
        shown = {f"@ 00:0{int(marks['silence_from'] + d)}" for d in (-0.6, 0.0)}  # espeak's trailing quiet ends the words early
        assert any(text.startswith("✗ Silence") and any(at in text for at in shown) for text in failed)
        assert await page.text_content("#signals") == "none"  # a silent customer shows no mood signal
        # The findings are marks on the waveform where they were heard: the silence, red.
        await page.wait_for_function("qa.regions.getRegions().length > 0", timeout=5_000)
        regions = await page.evaluate(
            "qa.regions.getRegions().map(r => ({ at: r.start - answerOffset(), text: r.content.textContent, kind: r.content.className }))"
        )
        silence = [r for r in regions if r["text"].startswith("Silence")]
        assert silence and silence[0]["kind"] == "mark failed" and abs(silence[0]["at"] - marks["silence_from"]) < 1.5, regions
        # The queue narrows and orders: another (made-up) row, then by agent, then lowest auto score first.
        await page.evaluate("qa.queue.push({ call_id: 999999, agent: '1002', queue: 'sales', reasons: ['short'], auto_score: 1 }); renderQueue()")
        assert await page.locator("#queue-rows tr").count() == 2 and await page.text_content("#queue-count") == "2 of 2 calls"
        await page.select_option("#queue-agent", "1001")
        assert await page.eval_on_selector_all("#queue-rows tr", "rows => rows.map(r => r.dataset.call)") == [str(call_id)]
        await page.select_option("#queue-agent", "")
        await page.select_option("#queue-sort", "auto_score")
        assert await page.eval_on_selector_all("#queue-rows tr", "rows => rows.map(r => r.dataset.call)") == ["999999", str(call_id)]
        await page.evaluate("qa.queue = qa.queue.filter(c => c.call_id !== 999999); renderQueue()")
        dead_air = page.locator(".grade-item[data-item='hold_transfer.no_dead_air']")
        assert await dead_air.locator("input[type=number]").input_value() == "0" and "auto" in await dead_air.text_content()
        # No transcript here: the word rules were not run, so their items wait for the inspector — blank, never passed.
        unjudged = page.locator(".grade-item:has(.not-assessed)")
        assert sorted(await unjudged.evaluate_all("lines => lines.map(l => l.dataset.item)")) == [
            "closing.thanks", "courtesy.no_forbidden", "opening.greeting", "opening.identify"]
        assert await unjudged.locator("input[type=number]").evaluate_all("inputs => inputs.map(i => i.value)") == ["", "", "", ""]
        assert await page.text_content("#grade-total") == "– (4 to judge)"
        await page.click("#grade-form button[type=submit]")  # refused by the form itself: nothing judged yet
        assert await page.text_content("#grade-result") == ""
        await judge_unassessed(page)
        assert await page.text_content("#grade-total") == "98"
        await page.fill(".grade-item[data-item='voice.pace'] input[type=number]", "3")
        await page.fill("#grade-form textarea[name=problems]", "冷场 12 秒")
        await page.select_option("#grade-method", "live")  # 监控方式: listened to live
        await page.click("#grade-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#grade-result').textContent.includes('96')", timeout=5_000)
        # The grade is a lesson: into the case library as a bad example, with what it teaches.
        await page.wait_for_selector("#case-form:not([hidden])")
        await page.select_option("#case-kind", "bad")
        await page.fill("#case-note", "冷场过长")
        await page.click("#case-mark")
        case = page.locator("#case-rows tr.case-bad")
        await case.wait_for(timeout=5_000)
        assert [await case.locator("td").nth(i).text_content() for i in range(5)] == [f"#{call_id}", "Bad example", "冷场过长", "96", "Live listen"]
        await page.wait_for_function("document.querySelectorAll('#queue-rows tr[data-call]').length === 0", timeout=5_000)
        await page.fill("#pick-call", str(call_id))  # any call can be picked again, e.g. for a second opinion
        await page.click("#pick-form button[type=submit]")
        await page.wait_for_selector(f"tr[data-call='{call_id}']", timeout=5_000)

    async with session_factory(engine)() as session:
        evaluation = await session.scalar(select(Evaluation).where(Evaluation.call_id == call_id))
    assert evaluation is not None and evaluation.status == "submitted"
    assert (evaluation.method, evaluation.case_kind, evaluation.case_note) == ("live", "bad", "冷场过长")

    async with chromium(locale="zh-CN") as page:
        await browser_log_in(page, f"{url}/qa", "agent1001", "#qa-view")
        row = f"#mine-rows tr[data-evaluation='{evaluation.id}']"
        await page.wait_for_selector(row)
        assert "96" in await page.text_content(row) and "冷场 12 秒" in await page.text_content(row)
        case = f"#case-rows tr[data-evaluation='{evaluation.id}']"  # the agent finds their call in the library, in Chinese
        assert [t.strip() for t in await page.locator(f"{case} td").all_text_contents()] == [f"#{call_id}", "反面案例", "冷场过长", "96", "实时监听", "播放"]
        await page.click(f"{case} button[data-play]")  # the agent listens to their call in the library
        await page.wait_for_function("!document.querySelector('#call-player').hidden && document.querySelector('#call-player').duration > 20",
                                     timeout=10_000)
        await page.click(f"{row} button[data-step=dispute]")  # the page's own dialog asks why, in Chinese
        await page.wait_for_selector("#ask-dialog[open]")
        assert await page.text_content("#ask-dialog .ask-ok") == "确定"
        await page.keyboard.press("Escape")  # cancelled: nothing is sent
        await page.wait_for_selector("#ask-dialog:not([open])", state="attached")
        assert "申诉中" not in await page.text_content(row)
        await page.click(f"{row} button[data-step=dispute]")
        await page.fill("#ask-text", "我当时在查系统")
        await page.click("#ask-dialog .ask-ok")
        await page.wait_for_function(f"document.querySelector(\"{row}\").textContent.includes('申诉中')", timeout=5_000)

    async with chromium() as page:  # the grader sees the appeal but leaves it to another
        await browser_log_in(page, f"{url}/qa", "qa", "#qa-view")
        row = f"#dispute-rows tr[data-evaluation='{evaluation.id}']"
        await page.wait_for_selector(row)
        assert await page.locator(f"{row} button").count() == 0 and "another inspector" in await page.text_content(row)

    async with chromium() as page:
        await browser_log_in(page, f"{url}/qa", "qa2", "#qa-view")
        row = f"#dispute-rows tr[data-evaluation='{evaluation.id}']"
        await page.wait_for_selector(row)
        assert "我当时在查系统" in await page.text_content(row)
        await page.fill(f"{row} input", "Listened again: the silence stands")
        await page.click(f"{row} button")
        await page.wait_for_selector(row, state="detached", timeout=5_000)
        await page.select_option("#qa-report-by", "item")
        await page.click("#qa-report-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#qa-report-rows tr td')?.textContent.startsWith('hold_transfer.no_dead_air')", timeout=5_000)
        assert "format=csv" in (await page.get_attribute("#qa-report-csv", "href") or "")
    async with session_factory(engine)() as session:
        assert await session.scalar(select(Evaluation.status).where(Evaluation.id == evaluation.id)) == "resolved"

    async with chromium(locale="zh-CN") as page:  # 组长复核: the team's leader reviews the grading, in Chinese
        await browser_log_in(page, f"{url}/qa", "leader", "#qa-view")
        row = f"#review-rows tr[data-evaluation='{evaluation.id}']"
        await page.wait_for_selector(row)
        assert "实时监听" in await page.text_content(row) and "冷场 12 秒" in await page.text_content(row)
        await page.click(f"{row} button[data-verdict=returned]")
        await page.fill("#ask-text", "开场白扣分依据不足")
        await page.click("#ask-dialog .ask-ok")
        await page.wait_for_selector(row, state="detached", timeout=5_000)
        assert await page.text_content("#reviews-result") == "已退回质检员"
    async with session_factory(engine)() as session:
        reviewed = await session.get(Evaluation, evaluation.id)
        assert reviewed is not None and reviewed.review_state == "returned"


async def test_a_calibration_from_the_page_is_blind_then_shows_the_spread(qa_site) -> None:  # type: ignore[no-untyped-def]
    url, engine, call_id, marks = qa_site
    async with chromium() as page:
        await browser_log_in(page, f"{url}/qa", "supervisor", "#qa-view")
        await page.fill("#calibration-call", str(call_id))
        await page.fill("#calibration-inspectors", "qa, qa2")
        await page.click("#calibration-form button[type=submit]")
        await page.wait_for_selector("#calibration-rows tr[data-calibration]")
    for inspector, warm in (("qa", "8"), ("qa2", "2")):
        async with chromium() as page:
            await browser_log_in(page, f"{url}/qa", inspector, "#qa-view")
            row = "#calibration-rows tr[data-calibration]"
            await page.wait_for_selector(row)
            await page.click(f"{row} button:nth-of-type(2)")  # the spread, before grading: refused (blind)
            await page.wait_for_function("document.querySelector('#calibration-result').textContent.includes('grade the call first')", timeout=5_000)
            await page.click(f"{row} button:nth-of-type(1)")
            await page.wait_for_selector(".grade-item[data-item='attitude.warm']")
            await page.fill(".grade-item[data-item='attitude.warm'] input[type=number]", warm)
            await judge_unassessed(page)
            await page.click("#grade-form button[type=submit]")
            await page.wait_for_function("document.querySelector('#grade-result').textContent.includes('Saved')", timeout=5_000)
    async with chromium() as page:
        await browser_log_in(page, f"{url}/qa", "qa2", "#qa-view")
        await page.click("#calibration-rows tr[data-calibration] button:nth-of-type(2)")
        warm = "#spread-rows tr[data-item='attitude.warm']"
        await page.wait_for_selector(warm)
        cells = await page.locator(f"{warm} td").all_text_contents()
        assert cells[2] == "6" and cells[3] == "3"  # range and standard deviation of 8 and 2
