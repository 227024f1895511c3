"""Card, ID and phone numbers said on a call are masked in its transcript and auto-QA evidence for
the roles outside privacy.transcripts_unredacted (issue 18), however Whisper wrote them; on SQLite
and PostgreSQL through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import load_demo_data
from crm.models import Call, CallDirection, QaIntake, User
from crm.queues import sync_queues
from qa.redaction import find, redact
from qa.store import ensure_default_scorecard
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.test_api import Api
from tests.web import running

CARD = "6222021234567890128"  # 19 digits, Luhn-valid
RESIDENT_ID = "11010519491231002X"  # GB 11643 check digit X


@pytest.mark.parametrize(
    ("said", "shown", "kind"),
    [
        (f"卡号是 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]} 谢谢", "卡号是 **** **** **** ***0 128 谢谢", "card"),
        ("card 4111-1111-1111-1111 thanks", "card ****-****-****-1111 thanks", "card"),
        (f"身份证号{RESIDENT_ID}。", "身份证号**************002X。", "id"),
        ("我的手机一三八零零一三八零零零", "我的手机*******八零零零", "phone"),
        ("手机 １３８００１３８０００", "手机 *******８０００", "phone"),
        ("call me at 415-555-2671", "call me at ***-***-2671", "phone"),
        ("ID 110105194912310021 heard wrong", "ID **************0021 heard wrong", "number"),
    ],
)
def test_a_number_is_masked_but_its_last_four_digits_whatever_way_it_was_written(said: str, shown: str, kind: str) -> None:
    assert redact(said) == shown
    assert [f.kind for f in find(said)] == [kind]


@pytest.mark.parametrize("said", ["我要两三个", "2024 年 12 月 7 日", "工号1002为您服务", "room 101, box 12", "一共 350 元"])
def test_short_numbers_dates_and_agent_ids_stay(said: str) -> None:
    assert redact(said) == said


@given(st.text(alphabet=st.sampled_from("0123456789 -一二三四五六七八九零幺两xX号码卡abc，。"), max_size=80))
def test_redaction_keeps_the_text_shape_and_leaves_no_long_run_of_digits(text: str) -> None:
    shown = redact(text)
    assert len(shown) == len(text)
    assert all(a == b or b == "*" for a, b in zip(text, shown, strict=True))
    assert redact(shown) == shown  # nothing said is left to find


RESULT = {
    "scorecard": "default", "language": "zh", "metrics": {"agent_talk_s": 10.0},
    "transcript": [{"side": "customer", "start": 3.0, "end": 6.0, "text": f"我的卡号是{CARD}"},
                   {"side": "agent", "start": 6.5, "end": 8.0, "text": "好的，工号1002为您核实"}],
    "findings": [{"rule": "forbidden", "item": "attitude.polite", "passed": True, "detail": "no forbidden phrase",
                  "evidence": [{"side": "customer", "start": 3.0, "end": 6.0, "text": f"我的卡号是{CARD}"}]}],
    "prefilled": {"attitude.polite": {"auto": True, "passed": True, "points": 5.0, "rules": ["forbidden"],
                                      "evidence": [{"side": "customer", "start": 3.0, "end": 6.0, "text": f"我的卡号是{CARD}"}]}},
    "signals": [{"kind": "negative_words", "side": "customer", "detail": "1 utterance(s) with negative words",
                 "evidence": [{"side": "customer", "start": 3.0, "end": 6.0, "text": f"我的卡号是{CARD}", "phrase": "投诉"}]}],
}  # fmt: skip


async def redaction_site(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    """(settings, engine, call) with one analysed call whose customer said a card number."""
    settings = load_settings(data_dir=tmp_path, privacy={"transcripts_unredacted": ["supervisor"]})
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        await ensure_default_scorecard(session)  # as `callcenter db upgrade` leaves it
        agent = await session.scalar(select(User).where(User.extension == "1001"))
        now = datetime.now(UTC)
        call = Call(linkedid="redact-1", direction=CallDirection.INBOUND, agent_id=agent.id, agent_extension="1001", queue="support",  # type: ignore[union-attr]
                    started_at=now - timedelta(minutes=2), answered_at=now - timedelta(minutes=2), ended_at=now, disposition="answered")  # fmt: skip
        session.add(call)
        await session.flush()
        session.add(QaIntake(call_id=call.id, state="done", auto_score=100.0, result=RESULT))
    return settings, engine, call


async def test_the_api_masks_transcripts_for_every_role_outside_the_setting(migrated_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, engine, call = await redaction_site(migrated_url, tmp_path)
    try:
        async with running(create_app(settings, engine)) as url, aiohttp.ClientSession() as http:
            api = Api(http, url)
            for username in ("qa", "agent1001", "leader"):
                status, auto = await api.call("GET", f"/api/calls/{call.id}/qa", await api.login(username))
                assert status == 200, auto
                said = [u["text"] for u in auto["transcript"]]
                assert said == ["我的卡号是***************0128", "好的，工号1002为您核实"], username
                assert auto["findings"][0]["evidence"][0]["text"] == said[0]
                assert auto["prefilled"]["attitude.polite"]["evidence"][0]["text"] == said[0]
                assert auto["signals"][0]["evidence"][0]["text"] == said[0]
            status, auto = await api.call("GET", f"/api/calls/{call.id}/qa", await api.login("supervisor"))
            assert status == 200 and auto["transcript"][0]["text"] == f"我的卡号是{CARD}"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the page's side; the API runs on both databases above
async def test_the_qa_page_shows_the_inspector_a_masked_card_number_and_the_supervisor_the_whole(migrated_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, engine, call = await redaction_site(migrated_url, tmp_path)
    try:
        async with running(create_app(settings, engine)) as url:
            for username, shown in (("qa", "***************0128"), ("supervisor", CARD)):
                async with chromium() as page:
                    await browser_log_in(page, f"{url}/qa", username, "#inspector")
                    await page.fill("#pick-call", str(call.id))
                    await page.click("#pick-form button[type=submit]")
                    await page.click(f"tr[data-call='{call.id}'] button")
                    await page.wait_for_function("document.querySelectorAll('#transcript li').length === 2", timeout=10_000)
                    said = await page.locator("#transcript li").first.text_content()
                    assert said is not None and said.endswith(f"我的卡号是{shown}"), (username, said)
                    signal = await page.locator("#signals li").first.text_content()
                    assert signal is not None and "投诉" in signal  # the mood signal is listed, its text as redacted as the rest
                    if username == "qa":
                        assert CARD not in await page.content()
    finally:
        await engine.dispose()
