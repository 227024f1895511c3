"""An outbound campaign driven from the pages in headless Chromium, on the real sandbox: the agent
joins it on the desktop, the dialler rings their phone with a contact, the pop shows the campaign and
its script, the outbound record form comes prefilled with the campaign, and saving it lets the next
contact come; the leader's wallboard shows the figures and pauses the campaign."""

from __future__ import annotations

import random

from sqlalchemy import select

from crm.models import CallRecord, Campaign, CampaignContact
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.live_calls import stored_call
from tests.test_desktop_browser import desktop  # noqa: F401 - the fixture: the app on the live stack, agents reset
from tests.test_wallboard import post


async def test_an_agent_works_a_campaign_from_the_desktop_and_a_leader_pauses_it(live: LiveStack, desktop: str) -> None:
    pages = desktop
    numbers = [f"139{random.randrange(10**8):08d}" for _ in range(2)]
    for number in numbers:
        await live.admin.action("DBPut", Family=f"simcallee/{number}", Key="mode", Val="answer")
        await live.admin.action("DBPut", Family=f"simcallee/{number}", Key="talk", Val="2")
    name = f"满意度回访 {random.randrange(10**6)}"
    status, created = await post(pages, "/api/campaigns", "supervisor", {
        "name": name, "call_type": "survey", "mode": "progressive", "queue": "sales", "ring_s": 5,
        "purpose": "了解上次服务的满意度", "script": "您好，这里是客服中心回访。\n请问您对上次的服务满意吗？",
        "hours": {"start": "00:00", "end": "23:59"}})  # fmt: skip
    assert status == 201, created
    cid = created["campaigns"][0]["id"]
    async with live.sessions() as session, session.begin():
        session.add_all(CampaignContact(campaign_id=cid, number=n, normalized=f"+86{n}", zones=["Asia/Shanghai"]) for n in numbers)
    assert (await post(pages, f"/api/campaigns/{cid}/status", "leader", {"status": "running"}))[0] == 200

    async with chromium() as desk, chromium() as board:
        await browser_log_in(desk, f"{pages}/desktop", "agent1003", "#desktop-view")
        row = f"#campaign-list li[data-campaign='{cid}']"
        await desk.wait_for_selector(f"{row} .campaign-join", timeout=10_000)
        assert name in await desk.text_content(row) and "Satisfaction survey" in await desk.text_content(row)
        await desk.click(f"{row} .campaign-join")
        await desk.wait_for_selector(f"{row} .campaign-leave")

        # The dialler rings 1003's phone with the first contact: the pop names the campaign, with its script.
        await desk.wait_for_function(f"document.querySelector('#pop-campaign-name').textContent === {name!r}", timeout=20_000)
        assert "请问您对上次的服务满意吗" in await desk.text_content("#pop-script")
        await desk.wait_for_selector("#record-form-area:not([hidden])", timeout=15_000)
        await desk.wait_for_function("document.querySelector('#record-form [name=campaign]').value !== ''", timeout=5_000)
        assert await desk.input_value("#record-form [name=campaign]") == name
        assert await desk.input_value("#record-form [name=call_type]") == "survey"
        await desk.wait_for_selector("#record-required:not([hidden])", timeout=10_000)  # answered: a code is needed
        call_id = await desk.evaluate("desk.call.call_id")
        await desk.select_option("#disposition-code", "success")
        await desk.fill("#record-form [name=feedback]", "很满意")
        await desk.click("#record-form button[type=submit]")
        await desk.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'", timeout=5_000)

        # Released, the agent gets the next contact.
        await desk.wait_for_function(f"desk.call && desk.call.call_id !== {call_id!r} && desk.call.campaign_id === {cid}", timeout=20_000)

        # The leader sees the campaign's figures and pauses it.
        await browser_log_in(board, f"{pages}/wallboard", "leader", "#board-view")
        line = f"#campaign-rows tr[data-campaign='{cid}']"
        await board.wait_for_selector(line, timeout=10_000)
        assert name in await board.text_content(line) and "running" in await board.text_content(line)
        await board.click(f"{line} .campaign-to-paused")
        await board.wait_for_function(f"document.querySelector(\"{line}\").textContent.includes('paused')", timeout=5_000)
        await desk.wait_for_selector("#record-required:not([hidden])", timeout=15_000)
        await desk.select_option("#disposition-code", "success")
        await desk.click("#record-form button[type=submit]")
        await desk.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'", timeout=5_000)
        await desk.click(f"{row} .campaign-leave")
        await desk.wait_for_selector(f"{row} .campaign-join")

    first = await stored_call(live, call_id)
    async with live.sessions() as session:
        record = await session.scalar(select(CallRecord).where(CallRecord.call_id == first.id))
        campaign = await session.get(Campaign, cid)
        outcomes = sorted(c.outcome or c.status for c in await session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == cid)))
    assert (first.campaign_id, first.disposition_code, record.campaign, record.call_type, record.feedback) == (cid, "success", name, "survey", "很满意")
    assert campaign.status == "paused" and outcomes == ["connected", "connected"]


async def test_a_preview_campaign_shows_the_contact_then_dials_it_from_the_desktop(live: LiveStack, desktop: str) -> None:
    pages = desktop
    await live.admin.action("DBPut", Family="simcallee/008613900139000", Key="mode", Val="answer")  # 李四, +86 139 0013 9000
    await live.admin.action("DBPut", Family="simcallee/008613900139000", Key="talk", Val="2")
    name = f"回访预览 {random.randrange(10**6)}"
    status, created = await post(pages, "/api/campaigns", "supervisor", {
        "name": name, "call_type": "follow_up", "mode": "preview", "queue": "sales", "ring_s": 5,
        "script": "李先生您好，关于您上周的订单……", "hours": {"start": "00:00", "end": "23:59"}})  # fmt: skip
    assert status == 201, created
    cid = created["campaigns"][0]["id"]
    assert (await post(pages, f"/api/campaigns/{cid}/segment", "supervisor", {"grade": "B", "region": "上海"}))[1]["added"] == 1
    async with live.sessions() as session, session.begin():
        session.add(CampaignContact(campaign_id=cid, name="赵六", number="13911114444", normalized="+8613911114444", zones=["Asia/Shanghai"]))
    assert (await post(pages, f"/api/campaigns/{cid}/status", "leader", {"status": "running"}))[0] == 200

    async with chromium() as desk:
        await browser_log_in(desk, f"{pages}/desktop", "agent1003", "#desktop-view")
        row = f"#campaign-list li[data-campaign='{cid}']"
        await desk.wait_for_selector(f"{row} .campaign-join", timeout=10_000)
        await desk.click(f"{row} .campaign-join")
        await desk.click(f"{row} .campaign-next")
        await desk.wait_for_selector("#campaign-preview:not([hidden])")
        assert "李四" in await desk.text_content("#preview-name")
        await desk.wait_for_function("document.querySelector('#preview-card').textContent.includes('上海申通物流')", timeout=5_000)
        assert "订单" in await desk.text_content("#preview-script")
        assert await desk.text_content("#preview-number") == "139****9000"  # an agent sees it masked; it is dialled whole
        await desk.click("#preview-dial")
        await desk.wait_for_function(f"document.querySelector('#pop-campaign-name').textContent === {name!r}", timeout=15_000)
        await desk.wait_for_selector("#record-required:not([hidden])", timeout=15_000)
        assert await desk.input_value("#record-form [name=campaign]") == name
        call_id = await desk.evaluate("desk.call.call_id")
        await desk.select_option("#disposition-code", "success")
        await desk.click("#record-form button[type=submit]")
        await desk.wait_for_function("document.querySelector('#record-message').textContent === 'Saved'", timeout=5_000)

        await desk.click(f"{row} .campaign-next")  # the next contact, skipped with a reason
        await desk.wait_for_function("document.querySelector('#preview-name').textContent.includes('赵六')", timeout=5_000)
        await desk.select_option("#preview-skip-reason", "wrong_number")
        await desk.click("#preview-skip")
        await desk.wait_for_selector("#campaign-preview", state="hidden")
        await desk.click(f"{row} .campaign-next")
        await desk.wait_for_function("document.querySelector('#campaign-message').textContent === 'No contact is due now.'", timeout=5_000)

    first = await stored_call(live, call_id)
    async with live.sessions() as session:
        contacts = {c.name: c for c in await session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == cid))}
    assert (first.campaign_id, first.called_number, first.disposition, first.customer_id) == (cid, "008613900139000", "answered", contacts["李四"].customer_id)
    assert (contacts["李四"].outcome, contacts["赵六"].outcome, contacts["赵六"].last_outcome) == ("connected", "skipped", "wrong_number")
