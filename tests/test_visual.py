"""The three pages as people see them (issue 19): each page, logged in, and the desktop during a
call, in Chinese and English, on a 1366×768 seat screen and a 1920×1080 one, screenshotted in
headless Chromium against the real sandbox and compared with its committed baseline (tests/visual/)
so a layout that breaks is seen.

The CRM side is a database of its own with the demo data (so other tests' customers, tickets and
campaigns never show); the telephony is the shared sandbox's, and what it makes vary from run to run
— clocks, live counts, agents' states — is masked (painted over in the shot and the baseline alike);
the layout around it is compared. A pixel counts as changed past a difference a font's
anti-aliasing does not reach, and the page fails past a small share of them. Every run leaves its
shots in artifacts/screenshots/ (what CI keeps), with a difference image beside any that failed.
``CALLCENTER_UPDATE_VISUAL=1`` writes new baselines."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_ui.app import create_app
from crm.db import create_engine, session_factory
from crm.models import Call, CallDirection, User
from telephony.events import CallOffered
from telephony.sandbox.calls import place_call
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.live_calls import reset_agents
from tests.test_campaigns_restart import own_database  # noqa: F401 - a fixture: the demo data in a database of the test's own
from tests.web import running

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ROOT / "tests" / "visual"
SHOTS = ROOT / "artifacts" / "screenshots"
UPDATE = os.environ.get("CALLCENTER_UPDATE_VISUAL") == "1"
PIXEL_THRESHOLD = 48  # of 255 in a channel: more than anti-aliasing moves a pixel
CHANGED_SHARE = 0.02  # of the unmasked pixels: a moved block or a wrapped bar is far more
SIZES = {"1366x768": (1366, 768), "1920x1080": (1920, 1080)}
LOCALES = {"en": "en-US", "zh-CN": "zh-CN"}


@dataclass(frozen=True)
class Page:
    path: str
    user: str
    ready: str  # a JS condition: the page has drawn what it shows
    masks: tuple[str, ...]  # what varies between runs


PAGES = {
    "desktop": Page(
        "/desktop", "agent1001", "document.querySelector('#agent-state').dataset.state === 'available'",
        ("#state-time", "#ticket-rows td:nth-child(n+5)"),
    ),
    "wallboard": Page(
        "/wallboard", "supervisor", "document.querySelectorAll('section.tile').length > 0 && document.querySelectorAll('#agent-rows tr').length > 0",
        ("#tiles .figure .value", "#tiles .staffing", "#agent-grid .agent-cell", "#alerts", "#no-alerts", "#queue-rows td:nth-child(n+2)",
         "#agent-rows td:nth-child(n+2):nth-child(-n+6)", "#report-from", "#report-to", "#report-chart-box", "#report-rows"),
    ),
    "qa": Page("/qa", "qa", "!document.querySelector('#inspector').hidden", ("#qa-report-form input[type=date]",)),
}  # fmt: skip


def changed_share(shot: Path, baseline: Path, difference: Path) -> float:
    """The share of pixels that changed past anti-aliasing (1.0 when the sizes differ); the
    difference image is written when any did."""
    from PIL import Image, ImageChops

    with Image.open(shot) as a, Image.open(baseline) as b:
        if a.size != b.size:
            return 1.0
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        strongest = diff.split()
        mask = ImageChops.lighter(ImageChops.lighter(strongest[0], strongest[1]), strongest[2]).point(lambda v: 255 if v > PIXEL_THRESHOLD else 0)
        changed = mask.histogram()[255]
        if changed:
            mask.save(difference)
        return changed / (a.size[0] * a.size[1])


async def screenshot(page, stem: str, kind: str, masks: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Shoot the page as drawn (fonts loaded, the first push redrawn), ``masks`` painted over, into
    artifacts/screenshots/, then compare it with its baseline (or write the baseline when asked)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot, baseline = SHOTS / f"{stem}-{kind}.png", BASELINES / f"{stem}.png"  # one baseline: the database does not show
    difference = SHOTS / f"{stem}-{kind}-difference.png"
    difference.unlink(missing_ok=True)
    await page.evaluate("document.fonts.ready")
    await page.wait_for_timeout(300)  # the first push's redraw
    await page.screenshot(path=str(shot), animations="disabled", caret="hide", mask=[page.locator(m) for m in masks], mask_color="#ff00ff")
    if UPDATE or not baseline.exists():
        assert UPDATE, f"no baseline {baseline.relative_to(ROOT)}: run with CALLCENTER_UPDATE_VISUAL=1 and commit it"
        BASELINES.mkdir(exist_ok=True)
        baseline.write_bytes(shot.read_bytes())
        return
    share = changed_share(shot, baseline, difference)
    assert share <= CHANGED_SHARE, (
        f"{stem}: {share:.1%} of the page changed (see {difference.relative_to(ROOT)} and {shot.relative_to(ROOT)});"
        " if the change is meant, CALLCENTER_UPDATE_VISUAL=1 writes the new baseline"
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("name", PAGES)
async def test_page_matches_its_baseline(live: LiveStack, own_database: str, name: str, lang: str, size: str) -> None:
    page_spec = PAGES[name]
    await reset_agents(live)
    engine = create_engine(own_database)
    async with running(create_app(live.service.settings, engine, live.service)) as base:
        async with chromium(locale=LOCALES[lang], viewport=SIZES[size]) as page:
            await page.add_init_script(f"localStorage.setItem('cc_lang', '{lang}')")
            await browser_log_in(page, f"{base}{page_spec.path}", page_spec.user, "#desktop-view, #board-view, #qa-view")
            await page.wait_for_function(page_spec.ready, timeout=15_000)
            await screenshot(page, f"{name}-{lang}-{size}", live.kind, page_spec.masks)
    await engine.dispose()


# During a call: the call bar with the talk timer and the big actions, the customer's card (a demo
# customer) at the centre and the record form beside it — the screen an agent works in all day.
IN_CALL_MASKS = ("#state-time", "#call-timer", "#pop-wait", "#record-no", "#pop-history", "#pop-timeline", "#history", "#tasks",
                 "#ticket-rows td:nth-child(n+5)")  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LOCALES)
async def test_the_desktop_during_a_call_matches_its_baseline(live: LiveStack, own_database: str, lang: str, size: str) -> None:
    await reset_agents(live)
    engine = create_engine(own_database)
    try:
        async with running(create_app(live.service.settings, engine, live.service)) as base:
            async with chromium(locale=LOCALES[lang], viewport=SIZES[size]) as page:
                await page.add_init_script(f"localStorage.setItem('cc_lang', '{lang}')")
                await browser_log_in(page, f"{base}/desktop", "agent1001", "#desktop-view")
                await page.wait_for_function(PAGES["desktop"].ready, timeout=15_000)
                with live.service.bridge.bus.subscribe() as events:
                    call = asyncio.create_task(place_call(live.ami, did="4996", caller="13800138000", talk_seconds=12))  # queue rna: 1001 first
                    offered = await next_offer(events)
                # The call log writes to the suite's database; the page's is its own: the call's row there too.
                async with session_factory(engine)() as session, session.begin():
                    agent = await session.scalar(select(User.id).where(User.extension == "1001"))
                    session.add(Call(linkedid=offered.call.linkedid, direction=CallDirection.INBOUND, agent_id=agent, agent_extension="1001",
                                     caller_number="13800138000", queue="rna", started_at=offered.call.started_at))  # fmt: skip
                await page.wait_for_selector("#record-form-area:not([hidden])", timeout=15_000)
                await page.wait_for_function("document.querySelector('#pop-name').textContent === '张三'", timeout=10_000)
                await page.wait_for_function("document.querySelector('#agent-state').dataset.state === 'on_call'", timeout=10_000)
                await screenshot(page, f"desktop-call-{lang}-{size}", live.kind, IN_CALL_MASKS)
                await asyncio.wait_for(call, 20)
    finally:
        await engine.dispose()
        await reset_agents(live)


async def next_offer(events) -> CallOffered:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(15):
        while not isinstance(event := await events.get(timeout=15), CallOffered):
            pass
    return event
