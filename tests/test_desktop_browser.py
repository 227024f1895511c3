"""The agent desktop in headless Chromium against the real sandbox: log in, the pop on ring with the
customer's name, the record form saved to the call row, a new caller's card, pause with a reason
reflected by Asterisk, and the Chinese interface."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent_ui.app import create_app
from crm.demo_data import DEMO_PASSWORD
from telephony.sandbox.calls import place_call
from tests.browser import chromium
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, set_phone, stored_call, unknown_number
from tests.web import running


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        yield url


async def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/desktop")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#desktop-view:not([hidden])", timeout=10_000)


async def test_pop_before_answer_then_the_record_form_reaches_the_call_row(live: LiveStack, desktop: str) -> None:
    await set_phone(live, "1001", ring=1.5)  # ringing before the sandbox phone answers (the rna queue rings 2 s)
    async with chromium() as page:
        await log_in(page, desktop, "agent1001")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'")
        call = asyncio.create_task(
            place_call(live.ami, did="4996", caller="13800138000", caller_name="张三", talk_seconds=1)
        )
        await page.wait_for_function("document.querySelector('#pop-name').textContent === '张三'", timeout=15_000)
        ringing = [c for c in live.service.bridge.live_calls() if c.caller_number == "13800138000"]
        assert ringing and ringing[0].answered_at is None  # the pop is up while the phone still rings
        assert await page.is_visible("#pop-key") and not await page.is_visible("#pop-risk")
        assert await page.text_content("#call-status") == "Ringing…"
        result = await call
        await page.wait_for_selector("#record-form-area:not([hidden])", timeout=10_000)
        await page.select_option("#disposition-code", "complaint")
        await page.fill("#record-notes", "<b>货没到</b> 客户要求明天回电")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'")
    row = await stored_call(live, result.linkedid)
    assert (row.disposition_code, row.notes) == ("complaint", "<b>货没到</b> 客户要求明天回电")


async def test_unknown_caller_pause_with_reason_and_chinese(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with chromium(locale="zh-CN") as page:
        await log_in(page, desktop, "agent1001")
        assert await page.text_content("#go-available") == "示闲"  # the browser's language by default
        await place_call(live.ami, did="4996", caller=number, caller_name="<img src=x onerror=alert(1)>", talk_seconds=0.5)
        await page.wait_for_selector("#pop-new:not([hidden])")
        assert await page.text_content("#pop-new") == "新客户"
        assert await page.text_content("#pop-company") == number
        assert await page.text_content("#pop-caller") == f"{number} <img src=x onerror=alert(1)>"  # shown as text
        assert await page.locator("#pop img").count() == 0

        await page.click("[data-lang=en]")
        await page.wait_for_function("document.querySelector('#go-available').textContent === 'Available'")
        await page.wait_for_function("['available', 'wrap_up'].includes(document.querySelector('#agent-state').dataset.state)")
        await page.select_option("#pause-reason", "lunch")
        await page.click("#go-paused")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'paused'")
        assert await page.text_content("#agent-reason") == "Lunch"
        deadline = time.monotonic() + 5
        while True:
            members = await live.ami.collect("QueueStatus", Queue="support")
            member = next(m for m in members if m.get("Event") == "QueueMember" and "1001" in m["Location"])
            if member["Paused"] == "1" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert (member["Paused"], member["PausedReason"]) == ("1", "lunch")
        await page.click("#go-available")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'")


async def test_agent_calls_out_and_hangs_up_from_the_page(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with chromium() as page:
        await log_in(page, desktop, "agent1002")
        await page.fill("#dial-number", "not a number")
        await page.click("#dial-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#state-error').textContent.includes('not a phone number')")
        await page.fill("#dial-number", number)
        await page.click("#dial-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'on_call'", timeout=15_000)
        calls = [c for c in live.service.bridge.live_calls() if c.called_number == number]
        for _ in range(50):
            if calls and (call := live.service.bridge.find_call(calls[0].linkedid)) and call.answered_at:
                break
            await asyncio.sleep(0.1)
        await page.click("#hang-up")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state !== 'on_call'", timeout=10_000)
    row = await stored_call(live, calls[0].linkedid)
    assert (row.direction, row.called_number, row.agent_extension, row.disposition) == ("outbound", number, "1002", "answered")
