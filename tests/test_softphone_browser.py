"""The browser phone in real headless Chromium against the sandbox's PJSIP (issue 13): an agent
whose phone is the browser logs in to the desktop, and the page registers over the secure
WebSocket — Asterisk shows the contact — and unregisters when stopped; a queue call rings in the
page, is answered there, and the caller's audio arrives over DTLS-SRTP."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from agent_ui.app import create_app
from crm.demo_data import DEMO_PASSWORD
from crm.models import User
from crm.users import add_user
from telephony.ami import AmiClient
from tests.browser import PHONE_ARGS, chromium
from tests.browser import log_in as browser_log_in
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import first_answered, unknown_number
from tests.web import running

EXTENSION = "1099"


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    """The desktop, and an agent whose phone is the browser. The agent is in no team and is
    disabled again afterwards: the live database is shared, and the wallboard tests count agents."""
    await _active(live, True)
    try:
        async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
            yield url
    finally:
        if (agent := live.service.bridge.agents.get(EXTENSION)) is not None and agent.queues:
            await live.service.bridge.control.logout(EXTENSION)  # "nobody" must stay without agents
        await _active(live, False)


async def _active(live: LiveStack, active: bool) -> None:
    async with live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "webagent"))
        if user is None:
            user = await add_user(session, username="webagent", password=DEMO_PASSWORD, role="agent", extension=EXTENSION,
                                  phone_type="webrtc", queues=["nobody"])  # fmt: skip  # the queue no simulated agent is in
        user.active = active


async def contacts(admin: AmiClient) -> str:
    return await admin.command(f"pjsip show contacts like {EXTENSION}")


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.2)


async def test_the_desktop_registers_the_browser_phone_and_unregisters_it(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await browser_log_in(page, f"{desktop}/desktop", "webagent", "#desktop-view")
        await page.wait_for_function("document.querySelector('#phone-state').dataset.state === 'registered'", timeout=15_000)
        assert "ready" in await page.text_content("#phone-state")
        listed = await contacts(live.admin)
        assert f"{EXTENSION}/sip:" in listed and "transport=ws" in listed and "Avail" in listed, listed  # qualified: it answers OPTIONS
        await page.evaluate("import('/static/softphone.js').then((m) => m.stopPhone())")
        await until(lambda: _gone(live.admin))


async def _gone(admin: AmiClient) -> bool:
    return f"{EXTENSION}/sip:" not in await contacts(admin)


async def test_a_desk_phone_user_gets_no_browser_phone(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await browser_log_in(page, f"{desktop}/desktop", "agent1002", "#desktop-view")
        await page.wait_for_timeout(500)
        assert await page.is_hidden("#phone-state")


async def test_a_queue_call_rings_in_the_page_and_is_answered_there_with_audio(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await browser_log_in(page, f"{desktop}/desktop", "webagent", "#desktop-view")
        await page.wait_for_function("document.querySelector('#phone-state').dataset.state === 'registered'", timeout=15_000)
        await page.click("#go-available")  # into the queue, on PJSIP/1099: the browser is the phone
        await until(lambda: _member(live))
        call = asyncio.create_task(place_call(live.ami, did="4999", caller=unknown_number(), talk_seconds=4))
        await page.wait_for_selector("#phone-answer:not([hidden])", timeout=15_000)
        assert "ringing" in await page.text_content("#phone-state")
        await page.click("#phone-answer")
        await page.wait_for_function("document.querySelector('#phone-state').dataset.state === 'in_call'", timeout=10_000)
        answered = await first_answered(live)
        assert answered.agent == EXTENSION
        await page.wait_for_timeout(1500)
        packets = await page.evaluate("""async () => {
            const stats = await softphone.session.sessionDescriptionHandler.peerConnection.getStats();
            let received = 0;
            stats.forEach((report) => { if (report.type === "inbound-rtp" && report.kind === "audio") received += report.packetsReceived; });
            return received;
        }""")
        assert packets > 20, packets  # the caller's audio reaches the page (no one-way audio)
        result = await call
        await page.wait_for_function("document.querySelector('#phone-state').dataset.state === 'registered'", timeout=10_000)
    assert result.outcome == "answered" and result.agent_interface == f"PJSIP/{EXTENSION}"


async def _member(live: LiveStack) -> bool:
    members = await live.ami.collect("QueueStatus", Queue="nobody")
    return any(m.get("Event") == "QueueMember" and m.get("Location") == f"PJSIP/{EXTENSION}" for m in members)

