"""The wallboard against the real sandbox: a scripted mix of calls in the `board` queue (answered,
transferred, abandoned, short-abandoned, with its agent paused) → the pushed figures and the report
equal what the test works out from the calls one by one; a restarted server shows the same day; a
team leader hears nothing about another team; an overdue ticket is an alert until it is answered; a
dropped caller is their queue's follow-up task, an alert once overdue until it is done."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import update

from agent_ui.app import create_app
from agent_ui.wallboard import service as wallboard_service
from crm.demo_data import DEMO_PASSWORD
from crm.models import Task, Ticket
from telephony.agents.state import AgentState
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import agent_becomes, next_event, of_call, reset_agents, stored_call, unknown_number
from tests.web import agent_socket, running

BOARD_EVENTS = ("wallboard.snapshot", "queue.stats", "agent.states", "alert")
SNAPSHOT_PARTS = (("queues", "queue.stats"), ("agents", "agent.state"), ("alerts", "alert"))


def without_disposition_guard(live: LiveStack):  # type: ignore[no-untyped-def]
    """The scripted calls get no disposition codes: their agent must not be held paused for them."""
    settings = live.service.settings
    return settings.model_copy(update={"agents": settings.agents.model_copy(update={"disposition_required": False})})


@pytest.fixture
async def web_app(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with running(create_app(without_disposition_guard(live), live.service.engine, live.service)) as url:
        yield url
    await reset_agents(live)


async def get(url: str, path: str, username: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.get(f"{url}{path}", headers=headers) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.text())


def drain(received: asyncio.Queue) -> list[tuple[str, dict]]:
    """What a leader heard so far, a snapshot counted as the single pushes it stands for."""
    items = []
    while not received.empty():
        name, _, data = received.get_nowait()
        if name == "wallboard.snapshot":
            items.extend((event, part) for key, event in SNAPSHOT_PARTS for part in data[key])
        elif name == "agent.states":
            items.extend(("agent.state", row) for row in data["agents"])
        else:
            items.append((name, data))
    return items


async def board_stats_until(received: asyncio.Queue, predicate, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            name, _, data = await received.get()
            if name == "queue.stats" and data["queue"] == "board" and predicate(data):
                return data


async def scripted_mix(live: LiveStack) -> list[str]:
    """Four calls into `board`, whose only agent is 1003: one answered, one answered and blind
    transferred to `senior`, then with 1003 paused one abandoned after 4 s and one after 1 s."""
    control, bridge = live.service.bridge.call_control, live.service.bridge
    with live.service.bus.subscribe() as events:
        answered = await place_call(live.ami, did="4994", caller=unknown_number(), talk_seconds=1.5)
        assert answered.outcome == "answered"
        await next_event(events, agent_becomes("1003", AgentState.AVAILABLE))
        task = asyncio.create_task(place_call(live.ami, did="4994", caller=unknown_number(), talk_seconds=3))
        first = await next_event(events, lambda e: e.name == "call.answered" and e.call.queue == "board")
        transferred = first.call.linkedid  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        await control.blind_transfer(transferred, queue="senior")
        await next_event(events, of_call(transferred, "call.answered"))
        await task
        await next_event(events, agent_becomes("1003", AgentState.AVAILABLE))
        await bridge.control.pause("1003", "break")
        await next_event(events, agent_becomes("1003", AgentState.PAUSED, "break"))
        late, short = await asyncio.gather(
            place_call(live.ami, did="4994", caller=unknown_number(), hangup_after_wait=4),
            place_call(live.ami, did="4994", caller=unknown_number(), hangup_after_wait=1),
        )
        assert (late.outcome, short.outcome) == ("abandoned", "abandoned")
    return [answered.linkedid, transferred, late.linkedid, short.linkedid]


async def test_pushed_figures_and_the_report_equal_the_calls_worked_out_by_hand(live: LiveStack, web_app: str) -> None:
    supervisor, seen = await agent_socket(web_app, "supervisor", BOARD_EVENTS)
    leader, leader_seen = await agent_socket(web_app, "leader", BOARD_EVENTS)
    try:
        linkedids = await scripted_mix(live)
        rows = [await stored_call(live, linkedid) for linkedid in linkedids]
        answered = [r for r in rows if r.disposition == "answered"]
        for row in answered:  # the wrap-ups end a second after each call
            while row.wrapup_s is None:
                await asyncio.sleep(0.2)
                row = await stored_call(live, row.linkedid)
                answered = [row if a.linkedid == row.linkedid else a for a in answered]
        by_hand = {
            "offered": 4,
            "answered": 2,
            "abandoned": 2,
            "short_abandoned": 1,  # waited 1 s, under the queue's 3 s
            "transferred": 1,
            "service_level": round(sum(r.wait_s <= 20 for r in answered) / (4 - 1), 4),
            "asa_s": round(sum(r.wait_s for r in answered) / 2, 1),
            "aht_s": round(sum(r.talk_s + r.hold_s + r.wrapup_s for r in answered) / 2, 1),
            "longest_talk_s": round(max(r.talk_s for r in answered), 1),
        }
        assert all(r.entry_queue == "board" for r in rows) and answered[1].queue == "senior"

        latest: dict = {}

        def settled(stats: dict) -> bool:
            latest.update(stats)
            return {k: stats[k] for k in by_hand} == by_hand

        try:
            pushed = await board_stats_until(seen, settled)
        except TimeoutError:
            raise AssertionError(f"the last push {latest} never equalled {by_hand}") from None
        assert pushed["agents"]["paused"] == 1 and pushed["paused_by_reason"] == {"break": 1}
        assert pushed["waiting"] == 0

        status, report = await get(web_app, "/api/reports/queues?interval=1d", "supervisor")
        assert status == 200
        (row,) = [r for r in report["rows"] if r["queue"] == "board"]  # type: ignore[index]
        assert {k: row[k] for k in by_hand} == by_hand
        status, text = await get(web_app, "/api/reports/queues?interval=1d&format=csv", "supervisor")
        table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))  # type: ignore[union-attr]
        (line,) = [r for r in table if r["queue"] == "board"]
        assert (line["offered"], line["abandoned"], line["aht_s"]) == ("4", "2", str(by_hand["aht_s"]))

        status, agents = await get(web_app, "/api/reports/agents?interval=1d", "supervisor")
        (mine,) = [r for r in agents["rows"] if r["agent"] == "1003"]  # type: ignore[index]
        assert mine["pause_by_reason"]["break"] > 0 and mine["login_s"] > 0

        # Team A's leader: support only (1001, 1002); nothing of team B's agents or queues.
        heard = drain(leader_seen)
        assert {d["agent"] for n, d in heard if n == "agent.state"} <= {"1001", "1002"}
        assert {d["queue"] for n, d in heard if n == "queue.stats"} <= {"support"}
        assert not [d for n, d in heard if n == "alert" and d["agent"] in ("1003", "1004")]
        status, grid = await get(web_app, "/api/agents", "leader")
        assert status == 200 and [a["agent"] for a in grid["agents"]] == ["1001", "1002"]  # type: ignore[index]
        status, board = await get(web_app, "/api/queues", "leader")
        assert [q["queue"] for q in board["queues"]] == ["support"]  # type: ignore[index]
        assert (await get(web_app, "/api/queues", "agent1001"))[0] == 403
    finally:
        await supervisor.disconnect()
        await leader.disconnect()

    # A restarted server rebuilds today's figures from the call log.
    async with running(create_app(without_disposition_guard(live), live.service.engine, None)) as again:
        status, board = await get(again, "/api/queues", "supervisor")
        (rebuilt,) = [q for q in board["queues"] if q["queue"] == "board"]  # type: ignore[index]
        assert {k: rebuilt[k] for k in by_hand} == by_hand


async def test_a_fresh_leader_gets_the_current_picture_at_once(live: LiveStack, web_app: str) -> None:
    await live.service.bridge.control.pause("1002", "lunch")
    await asyncio.sleep(0.3)
    leader, seen = await agent_socket(web_app, "leader", BOARD_EVENTS)
    try:
        async with asyncio.timeout(3):
            name, _, snapshot = await seen.get()
        assert name == "wallboard.snapshot"  # the whole picture in one message, before any change
        agents = {a["agent"]: a for a in snapshot["agents"]}
        assert sorted(agents) == ["1001", "1002"]  # team A's agents only
        assert (agents["1002"]["state"], agents["1002"]["reason"]) == ("paused", "lunch")
        assert agents["1001"]["state"] == "available" and agents["1001"]["team"] is not None
        (support,) = snapshot["queues"]
        assert support["queue"] == "support" and support["agents"]["paused"] >= 1
    finally:
        await leader.disconnect()


async def post(url: str, path: str, username: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.post(f"{url}{path}", json=body, headers=headers) as r:
            return r.status, await r.json()


async def ticket_alert(received: asyncio.Queue, agent: str, active: bool, timeout: float = 10.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            name, _, data = await received.get()
            alerts = data["alerts"] if name == "wallboard.snapshot" else [data] if name == "alert" else []
            for alert in alerts:
                if alert["kind"] == "ticket_overdue" and alert["agent"] == agent and alert.get("active", True) == active:
                    return alert


async def test_a_ticket_past_its_promised_reply_is_raised_to_the_leaders_until_it_is_answered(
    live: LiveStack, web_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wallboard_service, "DIRECTORY_REFRESH_S", 0.5)  # the CRM is read every 30 s in service
    supervisor, heard = await agent_socket(web_app, "supervisor", BOARD_EVENTS)
    other_team, other_heard = await agent_socket(web_app, "leader", BOARD_EVENTS)  # team A's; 1004 is team B's
    try:
        status, ticket = await post(web_app, "/api/tickets", "agent1004", {"type": "complaint", "category": "quality", "title": "屏幕坏了"})
        assert status == 201, ticket
        async with live.sessions() as session, session.begin():
            opened = await session.get(Ticket, ticket["id"])
            opened.due_at = datetime.now(UTC) - timedelta(minutes=5)  # the 24 h promise, run out
        raised = await ticket_alert(heard, "1004", True)
        assert raised["value"] >= 1
        status, listed = await get(web_app, "/api/queues", "supervisor")
        assert any(a["kind"] == "ticket_overdue" and a["agent"] == "1004" for a in listed["alerts"])

        for step, values in [("investigating", {"root_cause": "来料不良"}), ("handling", {"actions": "换新"}), ("replied", {"reply": "已电话答复"})]:
            status, moved = await post(web_app, f"/api/tickets/{ticket['id']}/steps", "agent1004", {"step": step, "values": values})
            assert status == 200, moved
        assert moved["deadline"] == "responded"
        await ticket_alert(heard, "1004", False)  # answered, late: the alert clears
        assert not any(name == "alert" and data["kind"] == "ticket_overdue" and data["agent"] == "1004"
                       for name, _, data in drain_raw(other_heard))  # fmt: skip
    finally:
        await supervisor.disconnect()
        await other_team.disconnect()


def drain_raw(received: asyncio.Queue) -> list[tuple[str, float, dict]]:
    items = []
    while not received.empty():
        items.append(received.get_nowait())
    return items


async def task_alert(received: asyncio.Queue, queue: str, active: bool, timeout: float = 15.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            name, _, data = await received.get()
            alerts = data["alerts"] if name == "wallboard.snapshot" else [data] if name == "alert" else []
            for alert in alerts:
                if alert["kind"] == "task_overdue" and alert["queue"] == queue and alert.get("active", True) == active:
                    return alert


async def test_a_dropped_caller_is_a_task_of_the_queue_raised_to_the_leaders_until_called_back(
    live: LiveStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wallboard_service, "DIRECTORY_REFRESH_S", 0.5)  # the CRM is read every 30 s in service
    settings = without_disposition_guard(live)
    settings = settings.model_copy(update={"tasks": settings.tasks.model_copy(update={"sweep_s": 0.3})})
    caller = unknown_number()
    async with running(create_app(settings, live.service.engine, live.service)) as url:
        supervisor, heard = await agent_socket(url, "supervisor", BOARD_EVENTS)
        try:
            dropped = []
            for _ in range(2):  # the same caller gives up twice in the queue nobody answers
                result = await place_call(live.ami, did="4999", caller=caller, hangup_after_wait=1.0)
                assert (await stored_call(live, result.linkedid)).disposition == "abandoned"
                dropped.append(result.linkedid)
            async with asyncio.timeout(10):
                while True:
                    _, found = await get(url, "/api/tasks?state=open", "supervisor")
                    mine = [t for t in found["tasks"] if t["phone"] == caller]
                    if mine and mine[0]["drops"] == 2:
                        break
                    await asyncio.sleep(0.2)
            [task] = mine
            assert (task["kind"], task["queue"], task["assignee_id"], task["call_id"]) == ("dropped_call", "nobody", None, dropped[0])
            due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(task["created_at"])
            assert timedelta(minutes=9) < due <= timedelta(minutes=10)  # the handbook: call back within 10 minutes
            async with live.sessions() as session, session.begin():
                await session.execute(update(Task).where(Task.id == task["id"]).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
                # Earlier tests' callers who gave up in this queue are its tasks too, overdue once ten minutes
                # have passed in the run: done here, so the alert is this task's alone and clears with it.
                await session.execute(
                    update(Task).where(Task.queue == "nobody", Task.done_at.is_(None), Task.id != task["id"])
                    .values(done_at=datetime.now(UTC), outcome="resolved")
                )
            raised = await task_alert(heard, "nobody", True)
            assert raised["value"] >= 1
            status, done = await post(url, f"/api/tasks/{task['id']}/done", "supervisor", {"outcome": "resolved", "note": "已回拨"})
            assert status == 200, done
            await task_alert(heard, "nobody", False)  # called back: the alert clears
        finally:
            await supervisor.disconnect()
