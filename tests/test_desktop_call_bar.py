"""The desktop's call bar in headless Chromium against the real sandbox (issue 19): a ringing call
raises the incoming banner (who, from which queue) and, with the tab hidden and notifications allowed
from the bar's button, one browser notification; the keyboard shortcuts hold, resume and hang up the
call as the buttons do, and Alt+K lists them; the agent's time in state runs."""

from __future__ import annotations

import asyncio

from agent_ui.app import create_app
from telephony.sandbox.calls import place_call
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, set_phone, unknown_number
from tests.web import running

# The page's Notification and document.hidden, observed: the notifications it made, and a tab the
# test hides (headless Chromium shows every tab).
OBSERVE = """
window.__notes = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options = {}) { super(title, options); window.__notes.push({ title, body: options.body, tag: options.tag }); }
};
Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return window.__hidden === true; } });
"""


async def state_is(page, state: str, timeout: float = 10_000) -> None:  # type: ignore[no-untyped-def]
    await page.wait_for_function(f"document.querySelector('#agent-state').dataset.state === '{state}'", timeout=timeout)


async def status_is(page, text: str, timeout: float = 10_000) -> None:  # type: ignore[no-untyped-def]
    await page.wait_for_function(f"document.querySelector('#call-status').textContent === '{text}'", timeout=timeout)


async def test_incoming_banner_notification_and_shortcuts(live: LiveStack) -> None:
    await reset_agents(live)
    await set_phone(live, "1001", ring=1.5)  # the rna queue rings 1001 first, 2 s
    number = unknown_number()
    try:
        async with running(create_app(live.service.settings, live.service.engine, live.service)) as base, chromium() as page:
            await page.add_init_script(OBSERVE)
            await browser_log_in(page, f"{base}/desktop", "agent1001", "#desktop-view")
            await state_is(page, "available")
            # the time in state is a clock, and it runs (the agent may have been available for a while)
            await page.wait_for_function("/^[0-9]+:[0-5][0-9](:[0-5][0-9])?$/.test(document.querySelector('#state-time').textContent)")
            shown = await page.text_content("#state-time")
            await page.wait_for_function(f"document.querySelector('#state-time').textContent !== '{shown}'", timeout=3_000)

            # Notifications: the browser asks only on a click, so the bar offers the button.
            assert await page.is_visible("#enable-notifications")
            await page.context.grant_permissions(["notifications"])
            await page.click("#enable-notifications")
            await page.wait_for_selector("#enable-notifications", state="hidden")
            await page.wait_for_function("document.querySelector('#toasts').textContent.includes('notified of calls')")

            await page.evaluate("window.__hidden = true")  # the agent is in another tab
            call = asyncio.create_task(place_call(live.ami, did="4996", caller=number, caller_name="Banner Test", talk_seconds=30))
            await page.wait_for_selector("#incoming:not([hidden])", timeout=15_000)
            assert number in await page.text_content("#incoming-who")
            assert "rna" in await page.text_content("#incoming-where")
            notes = await page.evaluate("window.__notes")
            assert [(n["title"], number in n["body"]) for n in notes] == [("Incoming call", True)]

            await status_is(page, "On the call")
            assert await page.is_hidden("#incoming")  # answered: the banner goes
            await page.evaluate("window.__hidden = false")
            assert await page.text_content("#bar-party") == f"On the call · {number}"

            await page.keyboard.press("Alt+O")
            await status_is(page, "On hold")
            assert await page.is_visible("#resume") and await page.is_hidden("#hold")
            await page.keyboard.press("Alt+O")
            await status_is(page, "On the call")

            await page.keyboard.press("Alt+K")
            await page.wait_for_selector("#shortcuts[open]")
            assert "Alt+H" in await page.text_content("#shortcut-list")
            await page.keyboard.press("Escape")
            await page.wait_for_selector("#shortcuts:not([open])", state="attached")

            await page.keyboard.press("Alt+H")
            await status_is(page, "Call ended")
            assert await page.is_hidden("#hang-up") and await page.is_hidden("#bar-call")
            assert len(await page.evaluate("window.__notes")) == 1  # one call, one notification
            await asyncio.wait_for(call, 15)
    finally:
        await set_phone(live, "1001", ring=None)
        await reset_agents(live)


async def test_a_call_fits_a_seat_screen_without_scrolling(live: LiveStack) -> None:
    """At 1366×768 the common path is in view at once: the call bar with hang-up, the customer's name
    and grade on the card, and the record form down to its Save button."""
    await reset_agents(live)
    await set_phone(live, "1001", ring=0.5)
    try:
        async with (
            running(create_app(live.service.settings, live.service.engine, live.service)) as base,
            chromium(locale="zh-CN", viewport=(1366, 768)) as page,
        ):
            await browser_log_in(page, f"{base}/desktop", "agent1001", "#desktop-view")
            await state_is(page, "available")
            call = asyncio.create_task(place_call(live.ami, did="4996", caller="13800138000", talk_seconds=6))
            await page.wait_for_selector("#record-form-area:not([hidden])", timeout=15_000)
            await page.wait_for_function("document.querySelector('#pop-name').textContent !== ''")
            out_of_view = await page.evaluate(
                """() => ['#agent-state', '#hang-up', '#pop-name', '#pop-grade', '#disposition-code', '#record-form button[type=submit]']
                    .filter((s) => { const r = document.querySelector(s).getBoundingClientRect();
                                     return !(r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight); })"""
            )
            assert await page.evaluate("window.scrollY") == 0 and out_of_view == []
            await asyncio.wait_for(call, 15)
    finally:
        await set_phone(live, "1001", ring=None)
        await reset_agents(live)
