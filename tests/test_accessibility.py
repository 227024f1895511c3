"""axe-core (from the npm registry) on the three pages as their users see them, light and dark, in
both languages: no serious or critical accessibility violation (contrast, names, labels, roles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ui.app import create_app
from qa.store import ensure_default_scorecard
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.live_calls import reset_agents
from tests.web import running

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # scripts/setup.sh fetches it
PAGES = [("/desktop", "agent1001", "#agent-state"), ("/wallboard", "leader", "#board-view"), ("/qa", "qa", "#inspector")]


@pytest.fixture
async def site(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with live.sessions() as session, session.begin():
        await ensure_default_scorecard(session)  # as `callcenter db upgrade` leaves it
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        yield url


async def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:4]}"
        for v in found if v["impact"] in ("serious", "critical")
    ]  # fmt: skip


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("scheme", "locale"), [("light", "en-US"), ("dark", "zh-CN")])
async def test_the_pages_have_no_serious_accessibility_violation(site: str, scheme: str, locale: str) -> None:
    assert AXE.is_file(), "tests/vendor/axe.min.js: run scripts/setup.sh"
    problems = []
    for path, username, shown in PAGES:
        async with chromium(locale=locale, color_scheme=scheme) as page:
            await page.goto(f"{site}{path}")
            problems += [f"{path} login: {v}" for v in await violations(page)]
            await browser_log_in(page, f"{site}{path}", username, shown)
            await page.wait_for_timeout(500)  # the first pushes drawn
            problems += [f"{path}: {v}" for v in await violations(page)]
    assert not problems, "\n".join(problems)
