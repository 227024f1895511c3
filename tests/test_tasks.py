"""Follow-up tasks (issue 14, handbook §2 time limits), on SQLite and PostgreSQL: a record form's
callback and reply become the agent's tasks; dropped callers become their queue's tasks, once per
call, one per caller; due → overdue → done only with an outcome; who sees, takes and gives which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from crm.db import create_engine, session_factory
from crm.models import Call, CallDirection, Task
from crm.tasks import dropped
from config import load_settings
from tests.test_api import Api, api  # noqa: F401 - the fixture

SOON = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)


async def _tasks(api: Api, token: str, **query) -> dict:  # type: ignore[no-untyped-def]
    status, body = await api.call("GET", "/api/tasks", token, params={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()})
    assert status == 200, body
    return body


async def test_the_record_forms_promises_become_the_agents_tasks(api: Api) -> None:
    agent = await api.login("agent1001")
    form = {"disposition_code": "inquiry", "summary": "要发票\n抬头待确认", "reply_needed": True, "reply_deadline": SOON.isoformat()}
    status, saved = await api.call("PUT", "/api/calls/api-0/record", agent, json=form)
    assert status == 200, saved
    [reply] = saved["tasks"]
    assert (reply["kind"], reply["title"], reply["assignee_id"] is not None) == ("reply", "要发票", True)
    assert datetime.fromisoformat(reply["due_at"]) == SOON and reply["deadline"] == "on_time"
    assert reply["phone"] == "138****8000" and reply["dialable"] and reply["call_id"] == "api-0"

    later = SOON + timedelta(hours=1)
    status, again = await api.call("PUT", "/api/calls/api-0/record", agent, json=form | {"reply_deadline": later.isoformat()})
    assert [t["id"] for t in again["tasks"]] == [reply["id"]]  # saved twice: one task, its due time moved
    assert datetime.fromisoformat(again["tasks"][0]["due_at"]) == later
    mine = await _tasks(api, agent, mine=True)
    assert [t["id"] for t in mine["tasks"]] == [reply["id"]] and mine["total"] == 1

    assert (await _tasks(api, await api.login("agent1002")))["tasks"] == []  # another agent's
    assert [t["id"] for t in (await _tasks(api, await api.login("leader")))["tasks"]] == [reply["id"]]  # their team's
    assert (await _tasks(api, await api.login("agent1003")))["tasks"] == []  # team B
    status, body = await api.call("GET", "/api/tasks", await api.login("qa"))
    assert status == 403


async def test_a_task_is_done_only_with_an_outcome_and_may_be_tried_again(api: Api, migrated_url: str) -> None:
    agent = await api.login("agent1001")
    status, task = await api.call("POST", "/api/tasks", agent, json={"kind": "urgent", "title": "客户要求经理回电", "phone": "13900139000"})
    assert status == 201, task
    due_in = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(task["created_at"])
    assert due_in == timedelta(minutes=5) and task["deadline"] == "due_soon"  # the handbook: urgent within 5 min
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(Task).where(Task.id == task["id"]).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
    await engine.dispose()
    [overdue] = (await _tasks(api, agent, state="overdue"))["tasks"]
    assert overdue["id"] == task["id"] and overdue["deadline"] == "overdue"

    for body, message in [({}, "outcome"), ({"outcome": "maybe"}, "outcome: one of resolved"),
                          ({"outcome": "no_answer", "again_at": "2020-01-01T00:00:00+00:00"}, "again_at")]:  # fmt: skip
        status, refused = await api.call("POST", f"/api/tasks/{task['id']}/done", agent, json=body)
        assert status == 400 and message in refused["error"], refused
    again_at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    status, done = await api.call("POST", f"/api/tasks/{task['id']}/done", agent, json={"outcome": "no_answer", "note": "关机", "again_at": again_at.isoformat()})
    assert status == 200, done
    assert (done["task"]["deadline"], done["task"]["outcome"], done["task"]["outcome_note"]) == ("done", "no_answer", "关机")
    assert done["again"]["kind"] == "urgent" and datetime.fromisoformat(done["again"]["due_at"]) == again_at
    assert (await api.call("POST", f"/api/tasks/{task['id']}/done", agent, json={"outcome": "resolved"}))[0] == 409
    assert [t["id"] for t in (await _tasks(api, agent))["tasks"]] == [done["again"]["id"]]
    assert [t["id"] for t in (await _tasks(api, agent, state="done"))["tasks"]] == [task["id"]]


async def _abandoned(migrated_url: str, number: str, queue: str, minutes_ago: float, key: str) -> None:
    engine = create_engine(migrated_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        session.add(Call(linkedid=key, direction=CallDirection.INBOUND, caller_number=number, caller_name="来电", queue=queue,
                         entry_queue=queue, started_at=now - timedelta(minutes=minutes_ago + 1),
                         ended_at=now - timedelta(minutes=minutes_ago), wait_s=50.0, disposition="abandoned"))  # fmt: skip
    await engine.dispose()


async def _sweep(migrated_url: str) -> int:
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        taken = await dropped.sweep(session, load_settings().tasks, datetime.now(UTC))
    await engine.dispose()
    return taken


async def test_dropped_callers_become_their_queues_tasks_once_per_call_one_per_caller(api: Api, migrated_url: str) -> None:
    await _abandoned(migrated_url, "13700137000", "support", 12, "drop-1")
    await _abandoned(migrated_url, "13700137000", "support", 2, "drop-2")  # the same caller, again
    await _abandoned(migrated_url, "18900189000", "sales", 1, "drop-3")
    await _sweep(migrated_url)  # (the app's own sweep may have been first: the counts below are the same)
    assert await _sweep(migrated_url) == 0  # each call is in one task, however often it is swept

    agent = await api.login("agent1001")  # serves support
    [support] = (await _tasks(api, agent, mine=True))["tasks"]
    assert (support["kind"], support["queue"], support["assignee_id"], support["drops"]) == ("dropped_call", "support", None, 2)
    assert support["deadline"] == "overdue" and support["phone"] == "137****7000"  # due 10 min after the first drop
    assert [t["queue"] for t in (await _tasks(api, await api.login("agent1004")))["tasks"]] == ["sales"]
    assert {t["queue"] for t in (await _tasks(api, await api.login("agent1003")))["tasks"]} == {"support", "sales"}
    assert [t["queue"] for t in (await _tasks(api, await api.login("leader")))["tasks"]] == ["support"]  # team A serves support

    status, taken = await api.call("PUT", f"/api/tasks/{support['id']}/assignee", agent, json={"user_id": support["assignee_id"] or 0})
    assert status == 400  # no user 0
    me = (await api.call("GET", "/api/me", agent))[1]
    status, taken = await api.call("PUT", f"/api/tasks/{support['id']}/assignee", agent, json={"user_id": me["id"]})
    assert status == 200 and taken["assignee_id"] == me["id"]
    assert (await _tasks(api, await api.login("agent1003")))["total"] == 1  # taken: no longer the queue's
    status, done = await api.call("POST", f"/api/tasks/{support['id']}/done", agent, json={"outcome": "resolved"})
    assert status == 200

    await _abandoned(migrated_url, "13700137000", "support", 0.5, "drop-4")  # the caller drops once more: a new task
    await _sweep(migrated_url)
    [fresh] = (await _tasks(api, agent, mine=True))["tasks"]
    assert fresh["id"] != support["id"] and fresh["drops"] == 1


async def test_who_may_give_a_task_to_whom(api: Api) -> None:
    agent, leader, supervisor = [await api.login(u) for u in ("agent1001", "leader", "supervisor")]
    ids = {}
    for username in ("agent1002", "agent1003"):
        ids[username] = (await api.call("GET", "/api/me", await api.login(username)))[1]["id"]
    status, refused = await api.call("POST", "/api/tasks", agent, json={"kind": "message", "assignee_id": ids["agent1002"]})
    assert status == 403
    status, refused = await api.call("POST", "/api/tasks", agent, json={"kind": "message", "queue": "support"})
    assert status == 403
    status, given = await api.call("POST", "/api/tasks", leader, json={"kind": "message", "title": "留言", "assignee_id": ids["agent1002"]})
    assert status == 201 and given["assignee_id"] == ids["agent1002"]
    status, refused = await api.call("PUT", f"/api/tasks/{given['id']}/assignee", leader, json={"user_id": ids["agent1003"]})
    assert status == 403  # another team's agent
    status, moved = await api.call("PUT", f"/api/tasks/{given['id']}/assignee", supervisor, json={"user_id": ids["agent1003"]})
    assert status == 200 and moved["assignee_id"] == ids["agent1003"]
    assert (await api.call("GET", f"/api/tasks/{given['id']}", leader))[0] == 404  # out of the team now
    status, pooled = await api.call("POST", "/api/tasks", supervisor, json={"kind": "message", "queue": "sales"})
    assert status == 201 and pooled["assignee_id"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "nope"}, "kind: one of callback"),
        ({"kind": "message", "phone": "call me"}, "phone: not a phone number"),
        ({"kind": "message", "phone_id": 99999}, "phone_id: no phone"),
        ({"kind": "message", "customer_id": 99999}, "customer_id: no customer"),
        ({"kind": "message", "queue": "nowhere"}, "queue: no queue"),
        ({"kind": "message", "queue": "support", "assignee_id": 1}, "someone's or its queue's"),
        ({"kind": "message", "title": "x" * 201}, "title"),
        ({"kind": "message", "due_at": "tomorrow"}, "due_at"),
        ({"kind": "message", "surprise": 1}, "surprise"),
    ],
)
async def test_bad_tasks_are_refused_with_the_field_named(api: Api, payload: dict, message: str) -> None:
    status, body = await api.call("POST", "/api/tasks", await api.login("supervisor"), json=payload)
    assert status == 400 and message in body["error"], body


async def test_a_masked_tasks_number_is_stored_whole_and_dialled_by_one_key(api: Api, migrated_url: str) -> None:
    agent = await api.login("agent1001")
    _, task = await api.call("POST", "/api/tasks", agent, json={"kind": "callback", "phone": "13900139000"})
    assert task["phone"] == "139****9000"
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        assert await session.scalar(select(Task.phone).where(Task.id == task["id"])) == "13900139000"
    await engine.dispose()
    status, body = await api.call("POST", "/api/me/dial", agent, json={"task_id": task["id"], "number": "13900139000"})
    assert status == 400 and "one of number, phone_id, task_id" in body["error"]
