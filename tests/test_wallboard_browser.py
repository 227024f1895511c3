"""The wallboard in headless Chromium against the real sandbox: a caller entering a queue shows on
the page without a reload, then their abandon; a leader pauses an agent from the grid (Asterisk
agrees); the report draws its table and chart; the page speaks Chinese; a leader's listening shows on
every board; the floor view's tiles and TV mode."""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest

from agent_ui.app import create_app
from crm.demo_data import DEMO_PASSWORD
from telephony.sandbox.calls import place_call
from tests.browser import chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack
from tests.live_calls import first_answered, reset_agents, unknown_number
from tests.test_leader_actions import member
from tests.web import running


@pytest.fixture
async def wallboard(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        yield url
    await reset_agents(live)


async def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await browser_log_in(page, f"{base}/wallboard", username, "#board-view")


def queue_cell(queue: str, column: int) -> str:
    return f"document.querySelector('tr[data-queue={queue}] td:nth-child({column})')?.textContent"


async def test_a_caller_entering_the_queue_shows_without_reload(live: LiveStack, wallboard: str) -> None:
    async with chromium() as page:
        await log_in(page, wallboard, "supervisor")
        await page.wait_for_selector("tr[data-queue=nobody]")
        abandoned_before = int((await page.evaluate(queue_cell("nobody", 12))).split(" ")[0])
        await page.evaluate("window.loadedOnce = true")  # gone if the page reloads
        call = asyncio.create_task(place_call(live.ami, did="4999", caller=unknown_number(), hangup_after_wait=3))
        await page.wait_for_function(f"{queue_cell('nobody', 2)} === '1'", timeout=10_000)  # waiting
        await page.wait_for_function(f"{queue_cell('nobody', 3)} !== '0:00'", timeout=5_000)  # the wait clock runs
        assert (await call).outcome == "abandoned"
        await page.wait_for_function(f"{queue_cell('nobody', 2)} === '0'", timeout=10_000)
        await page.wait_for_function(f"parseInt({queue_cell('nobody', 12)}) === {abandoned_before + 1}", timeout=5_000)
        assert await page.evaluate("window.loadedOnce") is True


async def test_leader_pauses_an_agent_from_the_grid_and_reads_a_report(live: LiveStack, wallboard: str) -> None:
    async with chromium(locale="zh-CN") as page:
        await log_in(page, wallboard, "leader")
        assert await page.text_content("h1") == "监控大屏"
        await page.wait_for_selector("tr[data-agent='1002']")
        assert await page.locator("#agent-rows tr").count() == 2  # team A only: 1001 and 1002
        await page.select_option("#pause-reason", "coaching")
        await page.click("tr[data-agent='1002'] button[data-action=pause]")
        await page.wait_for_function(
            "document.querySelector(\"tr[data-agent='1002'] td[data-state]\").dataset.state === 'paused'", timeout=10_000
        )
        assert "辅导" in await page.text_content("tr[data-agent='1002'] td[data-state]")
        status = await member(live, "1002")
        assert status is not None and (status["Paused"], status["PausedReason"]) == ("1", "coaching")
        await page.select_option("#report-kind", "agents")
        await page.select_option("#report-interval", "1d")
        await page.click("#report-form button[type=submit]")
        await page.wait_for_function(
            "document.querySelector('#report-head th:nth-child(2)')?.textContent === '座席'"
            " && document.querySelectorAll('#report-rows tr').length > 0",
            timeout=10_000,
        )  # the agents' report, not the queues' one the page opened with
        agents = await page.eval_on_selector_all("#report-rows tr td:nth-child(2)", "cells => cells.map(c => c.textContent)")
        assert "1002" in agents and set(agents) <= {"1001", "1002"}  # logged in today; team A only
        assert await page.evaluate("Chart.getChart('report-chart') !== undefined")
        href = await page.get_attribute("#report-csv", "href")
        assert href is not None and "format=csv" in href

        # Tickets by category: a complaint about 1001's attitude shows under its type and category, in Chinese.
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{wallboard}/api/login", json={"username": "agent1001", "password": DEMO_PASSWORD}) as r:
                token = (await r.json())["token"]
            ticket = {"type": "complaint", "category": "attitude", "title": "说话不耐烦"}
            async with http.post(f"{wallboard}/api/tickets", json=ticket, headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 201
        await page.select_option("#report-kind", "tickets")
        assert await page.is_hidden("#report-interval")  # tickets go by category, not by interval
        await page.click("#report-form button[type=submit]")
        await page.wait_for_function(
            "document.querySelector('#report-head th:first-child')?.textContent === '类型'"
            " && [...document.querySelectorAll('#report-rows tr')].some(r => r.textContent.includes('服务态度'))",
            timeout=10_000,
        )
        row = await page.eval_on_selector_all(
            "#report-rows tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent)).find(c => c[1] === '服务态度')"
        )
        assert row[0] == "客户投诉" and int(row[2]) >= 1 and int(row[3]) >= 1  # opened, still open
        assert await page.evaluate("Chart.getChart('report-chart').data.labels.includes('服务态度')")


async def test_a_supervisor_checks_then_imports_a_customer_file_and_a_leader_is_not_offered_it(live: LiveStack, wallboard: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    numbers = [f"147{random.randrange(10**8):08d}" for _ in range(2)]
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(f"客户名称,电话,客户等级\n浏览器导入甲,{numbers[0]},A\n浏览器导入乙,{numbers[1]},Z\n", encoding="utf-8")
    good.write_text(f"客户名称,电话,客户等级\n浏览器导入甲,{numbers[0]},A\n浏览器导入乙,{numbers[1]},B\n", encoding="gb18030")
    async with chromium(locale="zh-CN") as page:
        await log_in(page, wallboard, "supervisor")
        await page.wait_for_selector("#customer-files:not([hidden])")
        await page.set_input_files("#import-file", str(bad))
        await page.click("#import-check")
        await page.wait_for_selector("#import-rejected:not([hidden])")
        assert await page.eval_on_selector_all("#import-rows td", "cells => cells.map(c => c.textContent)") == ["3", "grade", "应为 'A', 'B', 'C' 或 'D'"]  # the reason in the page's language
        assert "1 行有误" in await page.text_content("#import-result") and await page.is_disabled("#import-run")
        await page.set_input_files("#import-file", str(good))
        await page.click("#import-check")
        await page.wait_for_function("!document.querySelector('#import-run').disabled", timeout=5_000)
        await page.click("#import-run")
        await page.wait_for_function("document.querySelector('#import-result').textContent.includes('已导入 2 位客户')", timeout=10_000)
        href = await page.get_attribute("#export-link", "href")
        await page.select_option("#export-grade", "A")
        assert await page.get_attribute("#export-link", "href") == f"{href}?grade=A"
        async with page.expect_download() as download:
            await page.click("#export-link")
        exported = (await (await download.value).path()).read_text(encoding="utf-8-sig")
        assert f"浏览器导入甲,{numbers[0]},,A" in exported and "浏览器导入乙" not in exported  # grade A only, numbers whole
    async with chromium() as page:
        await log_in(page, wallboard, "leader")
        await page.wait_for_selector("#queue-rows tr")
        assert await page.is_hidden("#customer-files")


async def test_an_agent_is_told_the_wallboard_is_not_theirs_and_where_to_go(live: LiveStack, wallboard: str) -> None:
    async with chromium(locale="zh-CN") as page:
        await page.goto(f"{wallboard}/wallboard")
        await page.fill("input[name=username]", "agent1001")
        await page.fill("input[name=password]", "not-the-password")
        await page.click("#login-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#login-error').textContent === '用户名或密码错误'", timeout=5_000)  # in the page's language
        await browser_log_in(page, f"{wallboard}/wallboard", "agent1001", "#not-allowed")
        assert await page.is_hidden("#board-view")
        assert await page.text_content("#not-allowed h2") == "监控大屏仅供组长和主管使用"
        assert await page.get_attribute("#not-allowed a[href='/desktop']", "href") == "/desktop"
        # Signing out of the web app: back to the login form, and the token no longer opens anything.
        token = await page.evaluate("sessionStorage.getItem('cc_token')")
        await page.click("#sign-out")
        await page.wait_for_selector("#login-form", state="visible", timeout=5_000)
        assert await page.evaluate("sessionStorage.getItem('cc_token')") is None and await page.is_hidden("#sign-out")
        status = await page.evaluate("(token) => fetch('/api/me', {headers: {Authorization: `Bearer ${token}`}}).then((r) => r.status)", token)
        assert status == 401


async def test_a_leader_listens_in_sees_it_on_the_row_and_stops_it(live: LiveStack, wallboard: str) -> None:
    for extension in ("1003", "1004"):  # the support call goes to team A, the leader's: 1001 or 1002
        await live.service.bridge.control.pause(extension, "break")
    async with chromium() as page, chromium() as other:
        await log_in(page, wallboard, "leader")
        await log_in(other, wallboard, "supervisor")  # another leader's board: who monitors whom shows there too
        await page.wait_for_selector("tr[data-agent='1001']")
        listen = "tr[data-agent='1001'] button[data-action=listen]"
        assert await page.is_disabled(listen) and await page.get_attribute(listen, "title") == "Only while the agent is on a call"
        call = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=12))
        agent = (await first_answered(live)).agent
        row = f"tr[data-agent='{agent}']"
        await page.wait_for_selector(f"{row} button[data-action=listen]:not([disabled])", timeout=10_000)
        await page.click(f"{row} button[data-action=listen]")
        await page.wait_for_selector(f"{row}.monitored button[data-action=stop]:not([hidden])", timeout=10_000)
        assert "🎧 listening" in await page.text_content(f"{row} td:first-child")
        assert "your phone rings" in await page.text_content("#action-result")
        await other.wait_for_selector(f"{row}.monitored", timeout=10_000)
        seen = await other.text_content(f"{row} td:first-child")
        assert "🎧" in seen and ": listening" in seen, seen  # the leader's name and what they do
        assert await other.is_hidden(f"{row} button[data-action=stop]")  # not the supervisor's to stop
        await page.click(f"{row} button[data-action=stop]")
        await page.wait_for_selector(f"{row}:not(.monitored)", timeout=10_000)
        await other.wait_for_selector(f"{row}:not(.monitored)", timeout=10_000)
        assert await page.text_content("#action-result") == f"Stopped: {agent}" and await page.is_hidden(f"{row} button[data-action=stop]")
        await call


async def test_the_floor_view_tiles_colour_a_waiting_caller_and_tv_mode_shows_it_alone(live: LiveStack, wallboard: str) -> None:
    async with chromium(locale="zh-CN") as page:
        await log_in(page, wallboard, "supervisor")
        tile = "section.tile[data-queue=nobody]"
        await page.wait_for_selector(tile)
        call = asyncio.create_task(place_call(live.ami, did="4999", caller=unknown_number(), hangup_after_wait=4))
        await page.wait_for_function(
            f"document.querySelector('{tile} [data-figure=waiting] .value')?.textContent === '1'", timeout=10_000
        )
        # a caller waits, under the queue's alert threshold: a warning colour, not yet the alarm
        assert await page.get_attribute(f"{tile} [data-figure=waiting]", "class") == "figure warn"
        assert await page.text_content(f"{tile} [data-figure=waiting] .name") == "排队"

        await page.click("#tv-mode")
        await page.wait_for_function("document.body.classList.contains('tv')")
        assert await page.is_hidden("#queues") and await page.is_hidden("#report") and await page.is_hidden("header")
        assert await page.is_visible(tile) and await page.is_visible("#agent-grid")
        assert await page.text_content("#tv-mode") == "退出大屏模式"
        assert (await call).outcome == "abandoned"
        await page.wait_for_function(
            f"document.querySelector('{tile} [data-figure=waiting] .value')?.textContent === '0'", timeout=10_000
        )

        # Erlang C's advice against the agents staffed now (not those paused): "need N more agents now".
        await page.evaluate(
            """() => {
              const q = board.queues.get('nobody');
              board.queues.set('nobody', { ...q, required_agents: 3,
                agents: { available: 1, ringing: 0, on_call: 0, wrap_up: 0, paused: 4, logged_out: 0 } });
              renderQueues();
            }"""
        )
        assert await page.text_content(f"{tile} .staffing") == "现在还需 2 名座席"
        # the queue's Chinese name, on a Chinese page
        await page.evaluate("board.queues.set('nobody', { ...board.queues.get('nobody'), display_name: 'Nobody', display_name_zh: '无人队列' }); renderQueues()")
        assert await page.text_content(f"{tile} h3") == "无人队列"
        assert await page.text_content("tr[data-queue=nobody] td:first-child") == "无人队列"
        await page.click("#tv-mode")
        await page.wait_for_function("!document.body.classList.contains('tv')")
        assert await page.is_visible("#queues")
