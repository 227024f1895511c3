"""The agent desktop in headless Chromium against the real sandbox: log in, the pop on ring with the
customer's name, the record form saved to the call row, a new caller's card, pause with a reason
reflected by Asterisk, the Chinese interface, a complaint that becomes a ticket the next pop shows, a
masked number dialled whole and revealed on purpose, and follow-up tasks counted down, dialled and closed."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agent_ui.app import create_app
from config.settings import DISPOSITION_PAUSE
from crm.models import AuditEntry, Call, CallRecord, Customer, CustomerChange, CustomerContact, CustomerNote, Task, Ticket, TicketCall, User
from telephony.sandbox.calls import place_call
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.test_bridge_calls import new_customer
from tests.live_calls import first_answered, reset_agents, set_phone, stored_call, unknown_number
from tests.test_wallboard import post
from tests.web import running


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        yield url
    await reset_agents(live)  # no agent left paused for a disposition by this desktop


async def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Logged in, and the desktop's socket joined: from here no push of the agent's is missed (a
    call placed before then and over within a second would never reach the page)."""
    await browser_log_in(page, f"{base}/desktop", username, "#desktop-view")
    await page.wait_for_function("desk.socket?.connected === true", timeout=15_000)


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
        assert await page.text_content("#record-title") == "Inbound call record"
        assert (await page.text_content("#record-no")).startswith("IN-")
        await page.wait_for_selector("#record-required:not([hidden])")  # ended, no code yet
        await page.wait_for_function("document.querySelector('#agent-reason').textContent.includes('record')", timeout=5_000)
        await page.select_option("#disposition-code", "complaint")
        await page.fill("#record-form [name=summary]", "货没到")
        await page.select_option("#record-form [name=handling]", "callback")
        await page.check("#record-form [name=reply_needed]")
        await page.fill("#record-form [name=reply_deadline]", "2026-12-01T10:00")
        await page.fill("#record-notes", "<b>货没到</b> 客户要求明天回电")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent !== ''")
        assert await page.text_content("#record-message") == "Saved"
        assert await page.is_hidden("#record-required")
        # The disposition releases the agent, and today's history shows the call with its code.
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'", timeout=5_000)
        await page.wait_for_function("document.querySelector('#history-rows').textContent.includes('Complaint')", timeout=5_000)
        assert int(await page.text_content("#history-handled")) >= 1
    row = await stored_call(live, result.linkedid)
    assert (row.disposition_code, row.notes) == ("complaint", "<b>货没到</b> 客户要求明天回电")
    async with live.sessions() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.call_id == row.id))
    assert (record.summary, record.handling, record.reply_needed) == ("货没到", "callback", True)
    assert record.reply_deadline is not None


async def test_unknown_caller_becomes_a_customer_then_pause_with_reason_in_chinese(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with chromium(locale="zh-CN") as page:
        await log_in(page, desktop, "agent1001")
        assert await page.text_content("#go-available") == "示闲"  # the browser's language by default
        result = await place_call(live.ami, did="4996", caller=number, caller_name="<img src=x onerror=alert(1)>", talk_seconds=0.5)
        await page.wait_for_selector("#pop-new:not([hidden])")
        assert await page.text_content("#pop-new") == "新客户"
        assert await page.text_content("#pop-company") == number
        assert await page.text_content("#pop-caller") == f"{number} <img src=x onerror=alert(1)>"  # shown as text
        assert await page.locator("#pop img").count() == 0

        await page.click("#create-customer")
        assert await page.input_value("#customer-form [name=phones]") == number  # prefilled with the caller's number
        await page.click("#customer-form button[type=submit]")  # no name: the browser refuses it
        await page.fill("#customer-form [name=name]", "孙八")
        await page.fill("#customer-form [name=phones]", "not a phone")
        await page.click("#customer-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#customer-message').textContent.includes('phones')")
        await page.fill("#customer-form [name=phones]", number)
        await page.fill("#customer-form [name=notes]", "<script>alert(1)</script>")
        await page.click("#customer-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#pop-name').textContent === '孙八'")
        assert await page.text_content("#pop-notes") == "<script>alert(1)</script>"
        await page.wait_for_selector("#record-form-area:not([hidden])")
        await page.select_option("#disposition-code", "inquiry")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === '已保存'")

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
    row = await stored_call(live, result.linkedid)
    async with live.sessions() as session:
        customer = await session.get(Customer, row.customer_id)
    assert (customer.name, row.disposition_code) == ("孙八", "inquiry")


async def test_agent_calls_out_holds_and_hangs_up_from_the_page(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with chromium() as page:
        await log_in(page, desktop, "agent1002")
        await page.fill("#dial-number", "not a number")
        await page.click("#dial-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#state-error').textContent.includes('not a phone number')")
        await page.fill("#dial-number", number)
        await page.click("#dial-form button[type=submit]")
        await page.wait_for_selector("#pop-new:not([hidden])", timeout=10_000)  # the pop for the called number
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=15_000)
        await page.click("#hold")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On hold'", timeout=5_000)
        await page.click("#resume")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=5_000)
        await page.wait_for_function(
            "/^[0-9]+:[0-5][0-9]$/.test(document.querySelector('#call-timer').textContent) && document.querySelector('#call-timer').textContent !== '0:00'",
            timeout=5_000,
        )  # the talk timer runs
        # The customer gives a card number: the agent pauses the recording, then resumes it.
        await page.click("#pause-recording")
        await page.wait_for_selector("#recording-paused:not([hidden])", timeout=5_000)
        assert await page.is_hidden("#pause-recording") and await page.text_content("#recording-paused") == "Recording paused"
        await page.click("#resume-recording")
        await page.wait_for_selector("#pause-recording:not([hidden])", timeout=5_000)
        assert await page.is_hidden("#recording-paused")
        await page.click("#hang-up")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'Call ended'", timeout=10_000)
        assert await page.text_content("#record-title") == "Outbound call record"
        assert await page.input_value("#record-form [name=connect_status]") == "connected"
        await page.select_option("#disposition-code", "success")
        await page.fill("#record-form [name=campaign]", "秋季回访")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'")
    calls = [c for c in await recent_calls(live) if c.called_number == number]
    row = await stored_call(live, calls[0].linkedid)
    assert (row.direction, row.agent_extension, row.disposition, row.disposition_code) == ("outbound", "1002", "answered", "success")
    assert row.hold_count == 1 and len(row.recording_paused) == 1 and row.recording_paused[0]["end"] is not None


async def test_attended_transfer_from_the_page(live: LiveStack, desktop: str) -> None:
    await live.service.bridge.control.pause("1001", "break")  # so the support call rings 1002 or 1003
    try:
        async with chromium() as page:
            call = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=20))
            answered = await first_answered(live)
            agent = answered.agent
            await log_in(page, desktop, f"agent{agent}")
            # The page opened mid-call: it learns of the call from the next push, the hold.
            await live.service.bridge.call_control.hold(answered.linkedid)
            await page.wait_for_function("document.querySelector('#call-status').textContent === 'On hold'", timeout=5_000)
            await page.click("#resume")
            await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=5_000)
            await page.select_option("#transfer-kind", "attended")
            await page.select_option("#transfer-to", "agent")
            await page.fill("#transfer-target", "12")
            await page.click("#transfer")
            await page.wait_for_function("document.querySelector('#call-message').textContent.includes('agent extension')")
            await page.fill("#transfer-target", "1004")
            await page.click("#transfer")
            await page.wait_for_selector("#transfer-complete:not([hidden])")
            await asyncio.sleep(2.5)  # the digits' timeout, then 1004's phone rings and answers
            await page.click("#transfer-complete")
            await page.wait_for_function("document.querySelector('#call-status').textContent === 'Transferred'", timeout=10_000)
            assert await page.is_hidden("#record-form-area")  # the record is 1004's to write now
            await call
    finally:
        await live.service.bridge.control.unpause("1001")
    row = await stored_call(live, answered.linkedid)
    assert row.agent_extension == "1004" and row.transfers[0]["kind"] == "attended" and row.hold_count >= 2


async def recent_calls(live: LiveStack) -> list[Call]:
    async with live.sessions() as session:
        return list(await session.scalars(select(Call).order_by(Call.id.desc()).limit(20)))


async def test_a_page_cut_off_from_its_socket_catches_up_when_it_reconnects(live: LiveStack, desktop: str) -> None:
    async with chromium() as page:
        await log_in(page, desktop, "agent1003")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'")
        # A call ends while the page is cut off (a network blip): on reconnect the page closes it.
        await live.service.bridge.control.pause("1004", "break")  # sales is 1003's and 1004's: 1003 gets it
        call = asyncio.create_task(place_call(live.ami, did="4002", caller=unknown_number(), talk_seconds=2))
        await page.wait_for_function("desk.call && desk.call.status === 'answered'", timeout=15_000)
        await page.evaluate("desk.socket.disconnect()")
        await call
        await asyncio.sleep(1)
        assert await page.evaluate("desk.call.status") == "answered"  # the end was pushed to nobody
        await page.evaluate("desk.socket.connect()")
        await page.wait_for_function("desk.call.status === 'ended'", timeout=5_000)
        await page.wait_for_selector("#record-form-area:not([hidden])")
        # The agent's state changes while cut off: on reconnect the page shows it.
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state !== 'on_call'")
        await page.evaluate("desk.socket.disconnect()")
        await live.service.bridge.control.pause("1003", "lunch")
        await asyncio.sleep(0.5)
        assert "Lunch" not in await page.text_content("#agent-reason")
        await page.evaluate("desk.socket.connect()")
        await page.wait_for_function("document.querySelector('#agent-reason').textContent.includes('Lunch')", timeout=5_000)
        assert await page.get_attribute("#agent-state", "data-state") == "paused"


async def test_a_call_that_ended_before_the_page_opened_brings_its_record_form(live: LiveStack, desktop: str) -> None:
    """The agent's page was closed (or still connecting) when a call ended: the agent is held for its
    code, and the page, once open, shows that call's record form instead of leaving them stuck."""
    await reset_agents(live)
    result = await place_call(live.ami, did="4996", caller=unknown_number(), talk_seconds=0.5)  # 1001 takes it
    deadline = time.monotonic() + 10
    while (agent := live.service.bridge.agents.get("1001")) is None or agent.pause_reason != DISPOSITION_PAUSE:
        assert time.monotonic() < deadline, "agent 1001 not held for a disposition"
        await asyncio.sleep(0.1)
    async with chromium() as page:
        await log_in(page, desktop, "agent1001")
        await page.wait_for_selector("#record-form-area:not([hidden])", timeout=10_000)
        assert (await page.text_content("#record-no")).startswith("IN-")
        await page.select_option("#disposition-code", "inquiry")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'", timeout=5_000)
    assert (await stored_call(live, result.linkedid)).disposition_code == "inquiry"


async def test_a_complaint_saved_on_the_record_form_is_a_ticket_the_next_pop_shows(live: LiveStack, desktop: str) -> None:
    customer_id, number = await new_customer(live, "王投诉")
    async with chromium() as page:
        await log_in(page, desktop, "agent1001")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'")
        first = await place_call(live.ami, did="4996", caller=number, talk_seconds=1)
        await page.wait_for_selector("#record-form-area:not([hidden])", timeout=10_000)
        assert await page.text_content("#pop-tickets") == "No open ticket"
        assert await page.is_hidden("#record-ticket")
        await page.select_option("#disposition-code", "complaint")  # 投诉: the form offers the ticket's options
        await page.wait_for_selector("#record-ticket:not([hidden])")
        assert "Complaint" in await page.text_content("#record-ticket-legend")
        await page.select_option("#record-ticket-category", "delivery")
        await page.select_option("#record-ticket-severity", "severe")
        await page.fill("#record-form [name=summary]", "快递三天没到")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-tickets').textContent.includes('TS-')")
        assert await page.is_hidden("#record-ticket")  # opened once: saving again opens no second one
        number_shown = await page.text_content("#record-tickets button")

        # The agent finds it in the ticket list by its number, opens it and records the investigation.
        await page.fill("#ticket-number", number_shown.lower())  # typed in any case
        await page.click("#ticket-filter button[type=submit]")
        await page.wait_for_function(f"document.querySelector('#ticket-rows').textContent.includes('{number_shown}')")
        await page.click(f"#ticket-rows button:text('{number_shown}')")
        await page.wait_for_selector("#ticket-detail:not([hidden])")
        assert await page.text_content("#ticket-heading") == f"{number_shown} 快递三天没到"
        assert "Delivery" in await page.text_content("#ticket-badges") and "Severe" in await page.text_content("#ticket-badges")
        assert await page.input_value("#ticket-next-step") == "investigating"
        await page.click("#ticket-step-form button[type=submit]")  # the root cause is required: the browser refuses
        await page.fill("#ticket-step-fields [data-field=root_cause]", "承运商延误")
        await page.select_option("#ticket-step-fields [data-field=validity]", "valid")
        await page.click("#ticket-step-form button[type=submit]")
        await page.wait_for_function("document.querySelector('.ticket-step').textContent === 'Investigating'")
        events = await page.locator("#ticket-events li").all_text_contents()
        assert len(events) == 2 and "Root cause: 承运商延误" in events[1] and "Finding: Valid" in events[1]
        steps = await page.locator("#ticket-next-step option").evaluate_all("o => o.map(x => x.value)")
        assert steps == ["handling"]  # on to handling; going back to "received" is not rework

        # The customer calls again: the pop shows the open complaint with its deadline.
        await reset_agents(live)
        second = asyncio.create_task(place_call(live.ami, did="4996", caller=number, talk_seconds=1))
        await page.wait_for_function(f"document.querySelector('#pop-tickets').textContent.includes('{number_shown}')", timeout=15_000)
        card_ticket = await page.text_content("#pop-tickets")
        assert "Investigating" in card_ticket and "On time" in card_ticket
        await second
        await page.wait_for_selector("#record-form-area:not([hidden])", timeout=10_000)
        await page.select_option("#disposition-code", "inquiry")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'")
    row = await stored_call(live, first.linkedid)
    async with live.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number_shown))
        linked = await session.scalar(select(TicketCall.call_id).where(TicketCall.ticket_id == ticket.id))
    assert (ticket.customer_id, ticket.type, ticket.category, ticket.severity, ticket.status) == (customer_id, "complaint", "delivery", "severe", "investigating")
    assert linked == row.id and ticket.contact_phone == number


async def test_a_masked_number_is_dialled_whole_and_revealed_only_on_purpose(live: LiveStack, desktop: str) -> None:
    name = f"保密客户{uuid.uuid4().hex[:6]}"
    customer_id, number = await new_customer(live, name)
    masked = f"{number[:3]}****{number[-4:]}"
    async with chromium() as page:
        await log_in(page, desktop, "agent1002")
        await page.fill("#search-text", name)
        await page.click("#search-form button[type=submit]")
        await page.wait_for_selector("#search-results .dial-phone")
        assert await page.text_content("#search-results .phone-number") == masked
        await page.click("#search-results .dial-phone")  # dialled by the phone's id: the server knows the number
        await page.wait_for_function(f"document.querySelector('#pop-name').textContent === '{name}'", timeout=10_000)
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=15_000)
        assert await page.text_content("#pop-caller") == number  # the call's own number, whole to its agent
        assert await page.text_content("#pop-phones .phone-number") == masked
        await page.click("#hang-up")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'Call ended'", timeout=10_000)
        await page.select_option("#disposition-code", "success")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'")

        await page.click("#search-results .reveal-phone")
        await page.wait_for_function(f"document.querySelector('#search-results .phone-number').textContent === '{number}'")
        assert await page.locator("#search-results .reveal-phone").count() == 0
    dialled = [c for c in await recent_calls(live) if c.called_number == number]
    assert [(c.direction, c.agent_extension) for c in dialled] == [("outbound", "1002")]
    async with live.sessions() as session:
        reveals = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "phone.revealed", AuditEntry.resource_id == customer_id)))
    assert [(r.username, r.detail["phone_id"] > 0) for r in reveals] == [("agent1002", True)]


async def test_the_follow_ups_count_down_dial_with_one_click_and_close_with_an_outcome(live: LiveStack, desktop: str) -> None:
    name = f"回访客户{uuid.uuid4().hex[:6]}"
    customer_id, number = await new_customer(live, name)
    async with live.sessions() as session:
        phone_id = (await session.get(Customer, customer_id, options=[selectinload(Customer.phones)])).phones[0].id
    status, callback = await post(desktop, "/api/tasks", "agent1002", {"kind": "callback", "title": "确认安装时间", "customer_id": customer_id,
                                                                       "phone_id": phone_id, "due_at": _in_minutes(2)})  # fmt: skip
    assert status == 201, callback
    status, pooled = await post(desktop, "/api/tasks", "supervisor", {"kind": "message", "title": "留言待登记", "queue": "support"})
    assert status == 201, pooled
    async with chromium() as page:
        await log_in(page, desktop, "agent1002")
        mine = f"#task-list li[data-task='{callback['id']}']"
        await page.wait_for_selector(f"{mine} .task-dial")
        assert await page.locator(f"{mine} .task-words").text_content() == f"确认安装时间 · {name} · {number[:3]}****{number[-4:]}"
        await page.wait_for_function(f"/^due in 1:5\\d$/.test(document.querySelector(\"{mine} .task-countdown\").textContent)")

        untaken = f"#task-list li[data-task='{pooled['id']}']"
        await page.click(f"{untaken} .task-take")
        await page.wait_for_function(f"document.querySelector(\"{untaken}\") && !document.querySelector(\"{untaken} .task-take\")")

        await page.click(f"{mine} .task-dial")  # the server dials the whole number it keeps
        await page.wait_for_function(f"document.querySelector('#pop-name').textContent === '{name}'", timeout=10_000)
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=15_000)
        await page.click("#hang-up")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'Call ended'", timeout=10_000)
        await page.select_option("#disposition-code", "success")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'")

        await page.click(f"{mine} .task-done")
        await page.click("#task-done-form button[type=submit]")  # no outcome chosen: the browser asks for one
        assert await page.is_visible("#task-done-form")
        await page.select_option("#task-done-form select[name=outcome]", "resolved")
        await page.fill("#task-done-form textarea[name=note]", "已约周五上午")
        await page.click("#task-done-form button[type=submit]")
        await page.wait_for_function(f"!document.querySelector(\"{mine}\")")
    dialled = [c for c in await recent_calls(live) if c.called_number == number]
    assert [(c.direction, c.agent_extension) for c in dialled] == [("outbound", "1002")]
    async with live.sessions() as session:
        done = await session.get(Task, callback["id"])
        taken = await session.get(Task, pooled["id"])
        agent = await session.scalar(select(User.id).where(User.username == "agent1002"))
    assert (done.outcome, done.outcome_note, done.done_by) == ("resolved", "已约周五上午", agent)
    assert (taken.assignee_id, taken.done_at) == (agent, None)


def _in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes, seconds=5)).isoformat()


async def test_the_card_shows_contacts_shared_notes_and_history_and_marks_a_risk_with_its_detail(live: LiveStack, desktop: str) -> None:
    customer_id, number = await new_customer(live, "陈卡片", industry="电子制造", customer_type="target", tags=["华南"],
                                             contacts=[CustomerContact(name="刘经理", title="采购部经理", phone="13600004444")])  # fmt: skip
    async with live.sessions() as session, session.begin():
        other = await session.scalar(select(User.id).where(User.username == "agent1002"))
        session.add_all([CustomerNote(customer_id=customer_id, author_id=other, text="只告诉我自己的事", private=True),
                         CustomerNote(customer_id=customer_id, author_id=other, text="上午方便接电话")])  # fmt: skip
    async with chromium(locale="zh-CN") as page:
        await log_in(page, desktop, "agent1001")
        await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'available'")
        call = asyncio.create_task(place_call(live.ami, did="4996", caller=number, talk_seconds=1))
        await page.wait_for_function("document.querySelector('#pop-name').textContent === '陈卡片'", timeout=10_000)
        assert await page.text_content("#pop-profile") == "目标客户 · 电子制造 华南"
        assert await page.locator("#pop-contacts li").all_text_contents() == ["刘经理 · 采购部经理 · 136****4444"]  # masked for agents
        notes = await page.locator("#pop-note-entries li").all_text_contents()
        assert len(notes) == 1 and notes[0].startswith("上午方便接电话")  # agent1002's private note is theirs alone
        await page.fill("#note-form [name=text]", "答应周五回电")
        await page.check("#note-form [name=private]")
        await page.click("#note-form button[type=submit]")
        await page.wait_for_function("document.querySelectorAll('#pop-note-entries li').length === 2")
        assert await page.get_attribute("#pop-note-entries li:first-child", "data-private") == "true"
        await call
        await page.click("#show-timeline")
        await page.wait_for_selector("#pop-timeline li[data-kind=call]", timeout=10_000)
        assert await page.locator("#pop-timeline li[data-kind=note]").count() == 2

        # The agent marks the customer 危险客户: the form asks what kind of risk; a leader will approve.
        await page.click("#edit-customer")
        assert await page.is_hidden("#risk-fields")
        await page.check("#customer-form [name=at_risk]")
        await page.select_option("#customer-form [name=risk_type]", "long_arrears")
        await page.select_option("#customer-form [name=risk_level]", "high")
        await page.select_option("#customer-form [name=risk_action]", "collect")
        await page.fill("#customer-form [name=amount_owed]", "86000")
        await page.click("#customer-form button[type=submit]")  # no reason given: the server says so, in the page's language
        await page.wait_for_function("document.querySelector('#customer-message').textContent.startsWith('reason：')", timeout=10_000)
        assert re.search("[\u4e00-\u9fff]", await page.text_content("#customer-message"))
        await page.fill("#customer-form [name=reason]", "货款拖欠三个月")
        await page.click("#customer-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#call-message').textContent.includes('审批')", timeout=10_000)
        await page.wait_for_selector("#record-form-area:not([hidden])", timeout=10_000)
        await page.select_option("#disposition-code", "inquiry")
        await page.click("#record-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#record-message').textContent === '已保存'")
    async with live.sessions() as session:
        change = await session.scalar(select(CustomerChange).where(CustomerChange.customer_id == customer_id))
        mine = await session.scalar(select(CustomerNote).where(CustomerNote.customer_id == customer_id, CustomerNote.text == "答应周五回电"))
    assert (change.field, change.after, change.status, change.reason) == ("at_risk", "true", "pending", "货款拖欠三个月")
    assert change.detail == {"type": "long_arrears", "level": "high", "action": "collect", "amount_owed": 86000}
    assert mine.private is True
