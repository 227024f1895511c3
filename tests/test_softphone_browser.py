"""The browser phone in real headless Chromium against the sandbox's PJSIP (issue 13): an agent
whose phone is the browser logs in to the desktop, and the page registers over the secure
WebSocket — Asterisk shows the contact — and unregisters when stopped."""

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
from tests.conftest import LiveStack
from tests.web import running

EXTENSION = "1099"


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    async with live.sessions() as session, session.begin():
        if await session.scalar(select(User.id).where(User.username == "webagent")) is None:
            await add_user(session, username="webagent", password=DEMO_PASSWORD, role="agent", extension=EXTENSION, team="A", phone_type="webrtc")
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        yield url


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
