"""Tickets on SQLite and PostgreSQL: a complaint and an after-sales request opened from a call's
record form and taken through every step; the promised response, overdue and due soon; who may
see, handle and close; the complainant hidden; every bad request a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from crm.db import create_engine, session_factory
from crm.models import Ticket
from tests.test_api import Api, api  # noqa: F401 - the fixture

ZHANG_PHONE = "13800138000"


async def _zhang(api: Api, token: str) -> int:
    _, found = await api.call("GET", f"/api/customers?phone={ZHANG_PHONE}", token)
    return found["customers"][0]["id"]


async def _step(api: Api, token: str, ticket: dict, step: str, **values: object) -> tuple[int, dict]:
    note = str(values.pop("note", ""))
    return await api.call("POST", f"/api/tickets/{ticket['id']}/steps", token, json={"step": step, "values": values, "note": note})


async def test_a_complaint_from_the_record_form_through_every_step(api: Api) -> None:
    agent, leader, other, qa = [await api.login(u) for u in ("agent1001", "leader", "agent1002", "qa")]
    zhang = await _zhang(api, agent)
    form = {"disposition_code": "complaint", "customer_id": zhang, "contact": "张三", "summary": "送货延迟三天\n要求赔偿运费",
            "handling": "work_order", "ticket": {"category": "delivery", "severity": "severe", "confidential": True}}
    status, record = await api.call("PUT", "/api/calls/api-0/record", agent, json=form)
    assert status == 200, record
    # 投诉 opens a complaint, the work order an after-sales request: one of each, prefilled from the call.
    by_type = {t["type"]: t for t in record["tickets"]}
    assert set(by_type) == {"complaint", "after_sales"}
    complaint = by_type["complaint"]
    assert complaint["number"].startswith("TS-") and by_type["after_sales"]["number"].startswith("AS-")
    assert (complaint["status"], complaint["category"], complaint["severity"], complaint["title"]) == ("received", "delivery", "severe", "送货延迟三天")
    opened, due = datetime.fromisoformat(complaint["opened_at"]), datetime.fromisoformat(complaint["due_at"])
    assert due - opened == timedelta(hours=24) and complaint["deadline"] == "on_time"  # the handbook's reply within 24 h
    assert complaint["next_steps"] == ["investigating"] and complaint["customer_id"] == zhang
    status, again = await api.call("PUT", "/api/calls/api-0/record", agent, json=form)
    assert [t["number"] for t in again["tickets"]] == [t["number"] for t in record["tickets"]]  # saved twice, opened once

    _, card = await api.call("GET", f"/api/customers/{zhang}", agent)
    assert {t["number"] for t in card["open_tickets"]} == {t["number"] for t in record["tickets"]}
    assert next(t for t in card["open_tickets"] if t["type"] == "complaint")["title"] is None  # confidential: no title on the card

    status, body = await _step(api, agent, complaint, "handling", actions="x")
    assert status == 400 and "goes to investigating" in body["error"]
    status, body = await _step(api, agent, complaint, "investigating", department="物流部")
    assert status == 400 and "root_cause: required" in body["error"]
    status, body = await _step(api, agent, complaint, "investigating", root_cause="承运商延误", validity="maybe")
    assert status == 400 and "validity: one of" in body["error"]
    status, moved = await _step(api, agent, complaint, "investigating", root_cause="承运商延误", department="物流部", validity="valid")
    assert status == 200 and moved["status"] == "investigating" and moved["may_close"] is False
    assert (await _step(api, agent, complaint, "handling", actions="补发并退运费"))[0] == 200
    status, replied = await _step(api, agent, complaint, "replied", reply="已致电客户说明并退运费")
    assert status == 200 and replied["responded_at"] and replied["deadline"] == "responded"
    status, followed = await _step(api, agent, complaint, "follow_up", outcome="dissatisfied")
    assert status == 200
    status, body = await _step(api, agent, complaint, "handling", note="")
    assert status == 400 and "say why" in body["error"]
    status, back = await _step(api, agent, complaint, "handling", note="客户仍不满意,重新处理")  # 不满意 → handled again
    assert status == 200 and back["status"] == "handling" and back["responded_at"] == replied["responded_at"]
    for step, values in (("replied", {"reply": "补偿优惠券"}), ("follow_up", {"outcome": "satisfied"})):
        assert (await _step(api, agent, complaint, step, **values))[0] == 200
    status, body = await _step(api, agent, complaint, "closed")
    assert status == 403 and "team leader" in body["error"]  # agents do not close complaints
    status, closed = await _step(api, leader, complaint, "closed", prevention="更换承运商")
    assert status == 200 and closed["closed_at"] and closed["deadline"] == "closed" and closed["next_steps"] == []
    assert [(e["kind"], e["step"]) for e in closed["events"]] == [
        ("opened", "received"), ("step", "investigating"), ("step", "handling"), ("step", "replied"), ("step", "follow_up"),
        ("back", "handling"), ("step", "replied"), ("step", "follow_up"), ("step", "closed"),
    ]  # fmt: skip
    assert closed["events"][1]["values"]["root_cause"] == "承运商延误" and closed["events"][-1]["actor"]
    assert [c["linkedid"] for c in closed["calls"]] == ["api-0"]
    status, body = await _step(api, leader, complaint, "follow_up", outcome="satisfied")
    assert status == 400 and "reopen it first" in body["error"]
    status, reopened = await api.call("POST", f"/api/tickets/{complaint['id']}/reopen", leader, json={"note": "客户再次来电投诉"})
    assert status == 200 and reopened["status"] == "investigating" and reopened["closed_at"] is None

    # Who sees it: the owner and their leader; not another agent of the team; QA without the complainant.
    assert (await api.call("GET", f"/api/tickets/{complaint['id']}", other))[0] == 404
    status, seen_by_qa = await api.call("GET", f"/api/tickets/{complaint['id']}", qa)
    assert status == 200 and seen_by_qa["complainant_hidden"] and seen_by_qa["customer_id"] is None and seen_by_qa["contact"] is None
    assert (await api.call("GET", f"/api/tickets/{complaint['id']}", leader))[1]["contact"] == "张三"
    _, by_customer = await api.call("GET", f"/api/tickets?customer_id={zhang}&state=all", qa)
    assert complaint["id"] not in [t["id"] for t in by_customer["tickets"]]  # nor found by the complainant


async def test_after_sales_passes_the_optional_dispatch_and_is_closed_by_its_handler(api: Api) -> None:
    agent = await api.login("agent1001")
    status, record = await api.call("PUT", "/api/calls/api-1/record", agent, json={"disposition_code": "repair", "summary": "空调不制冷"})
    assert status == 200
    [ticket] = record["tickets"]
    assert (ticket["type"], ticket["category"], ticket["next_steps"]) == ("after_sales", "repair", ["dispatched", "repaired"])
    status, body = await _step(api, agent, ticket, "repaired", findings="更换压缩机", cost="a lot")
    assert status == 400 and "cost: a number" in body["error"]
    for step, values in (("repaired", {"findings": "更换压缩机", "cost": 320.5}), ("replied", {"reply": "已修好"}),
                         ("feedback", {"outcome": "satisfied", "comments": "师傅很专业"}), ("closed", {})):  # fmt: skip
        status, moved = await _step(api, agent, ticket, step, **values)
        assert status == 200, moved
    assert moved["closed_at"] and moved["may_close"] is True
    status, body = await api.call("POST", "/api/tickets", agent, json={"type": "after_sales", "category": "repair", "title": "x",
                                                                        "fields": {"purchased_on": "yesterday"}})  # fmt: skip
    assert status == 400 and "purchased_on: a date" in body["error"]


async def test_a_major_complaint_is_handled_by_the_supervisors_alone(api: Api) -> None:
    agent, leader, supervisor = [await api.login(u) for u in ("agent1001", "leader", "supervisor")]
    status, ticket = await api.call("POST", "/api/tickets", agent, json={"type": "complaint", "category": "quality", "title": "批量质量问题",
                                                                         "major": True, "fields": {"channel": "phone", "demand": "退货"}})  # fmt: skip
    assert status == 201 and ticket["major"] and ticket["fields"] == {"channel": "phone", "demand": "退货"}
    assert ticket["may_handle"] is False
    for token in (agent, leader):
        status, body = await _step(api, token, ticket, "investigating", root_cause="x")
        assert status == 403 and "major complaint" in body["error"]
    assert (await _step(api, supervisor, ticket, "investigating", root_cause="原料批次"))[0] == 200


async def test_overdue_and_due_soon_tickets_are_listed_and_flagged(api: Api, migrated_url: str) -> None:
    agent = await api.login("agent1001")
    made = []
    for title in ("逾期", "将到期", "正常"):
        status, ticket = await api.call("POST", "/api/tickets", agent, json={"type": "complaint", "category": "price", "title": title})
        assert status == 201
        made.append(ticket)
    engine = create_engine(migrated_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(Ticket).where(Ticket.id == made[0]["id"]).values(due_at=now - timedelta(hours=1)))
        await session.execute(update(Ticket).where(Ticket.id == made[1]["id"]).values(due_at=now + timedelta(minutes=30)))
    await engine.dispose()
    _, overdue = await api.call("GET", "/api/tickets?state=overdue", agent)
    _, soon = await api.call("GET", "/api/tickets?state=due_soon", agent)
    _, mine = await api.call("GET", "/api/tickets?mine=true&limit=2", agent)
    assert [t["title"] for t in overdue["tickets"]] == ["逾期"] and overdue["tickets"][0]["deadline"] == "overdue"
    assert [t["title"] for t in soon["tickets"]] == ["将到期"] and soon["tickets"][0]["deadline"] == "due_soon"
    assert [t["title"] for t in mine["tickets"]] == ["逾期", "将到期"] and mine["total"] == 3  # nearest promise first, paged
    _, found = await api.call("GET", f"/api/tickets?number={made[2]['number'][:-3]}&state=all", agent)
    assert made[2]["id"] in [t["id"] for t in found["tickets"]]


async def test_a_leader_reassigns_within_the_team(api: Api) -> None:
    agent, leader = await api.login("agent1001"), await api.login("leader")
    _, ticket = await api.call("POST", "/api/tickets", agent, json={"type": "complaint", "category": "attitude", "title": "态度差"})
    ids = {}
    async with api.http.get(f"{api.base}/api/me", headers={"Authorization": f"Bearer {await api.login('agent1002')}"}) as r:
        ids["1002"] = (await r.json())["id"]
    async with api.http.get(f"{api.base}/api/me", headers={"Authorization": f"Bearer {await api.login('agent1003')}"}) as r:
        ids["1003"] = (await r.json())["id"]
    status, body = await api.call("PUT", f"/api/tickets/{ticket['id']}/owner", leader, json={"owner_id": ids["1003"]})
    assert status == 403 and "own team" in body["error"]
    status, moved = await api.call("PUT", f"/api/tickets/{ticket['id']}/owner", leader, json={"owner_id": ids["1002"], "note": "1001 休假"})
    assert status == 200 and moved["owner_id"] == ids["1002"] and moved["events"][-1]["kind"] == "assigned"
    assert (await api.call("GET", f"/api/tickets/{ticket['id']}", await api.login("agent1002")))[0] == 200
    assert (await api.call("PUT", f"/api/tickets/{ticket['id']}/owner", agent, json={"owner_id": ids["1002"]}))[0] == 403


async def test_the_tickets_report_counts_by_category_as_json_and_csv(api: Api, migrated_url: str) -> None:
    agent, other_team_agent, leader, supervisor = [await api.login(u) for u in ("agent1001", "agent1003", "leader", "supervisor")]
    made = {}
    for key, token, kind, category in [("late", agent, "complaint", "delivery"), ("closed", agent, "complaint", "delivery"),
                                       ("fresh", agent, "complaint", "quality"), ("repair", agent, "after_sales", "repair"),
                                       ("team_b", other_team_agent, "complaint", "delivery")]:  # fmt: skip
        status, made[key] = await api.call("POST", "/api/tickets", token, json={"type": kind, "category": category, "title": key})
        assert status == 201, made[key]
    closed = made["closed"]
    for step, values in [("investigating", {"root_cause": "缺货"}), ("handling", {"actions": "补发"}), ("replied", {"reply": "已补发"}),
                         ("follow_up", {"outcome": "satisfied"})]:  # fmt: skip
        assert (await _step(api, agent, closed, step, **values))[0] == 200
    assert (await _step(api, leader, closed, "closed"))[0] == 200
    engine = create_engine(migrated_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(Ticket).where(Ticket.id == made["late"]["id"]).values(due_at=now - timedelta(hours=2)))
        # Opened 30 h ago, replied an hour past its 24 h promise, closed 26 h after it opened.
        await session.execute(update(Ticket).where(Ticket.id == closed["id"]).values(
            opened_at=now - timedelta(hours=30), due_at=now - timedelta(hours=6), responded_at=now - timedelta(hours=5), closed_at=now - timedelta(hours=4)))
    await engine.dispose()

    status, report = await api.call("GET", "/api/reports/tickets", leader)
    assert status == 200, report
    rows = {(r["type"], r["category"]): r for r in report["rows"]}
    assert list(rows) == [("complaint", "quality"), ("complaint", "delivery"), ("after_sales", "repair")]  # the settings' order
    delivery = rows[("complaint", "delivery")]
    assert (delivery["opened"], delivery["open"], delivery["closed"], delivery["overdue"]) == (2, 1, 1, 1)  # team B's is not the leader's
    assert (delivery["replied_on_time"], delivery["replied_late"], delivery["avg_hours_to_close"]) == (0, 1, 26.0)
    assert delivery["open_by_step"] == {"received": 1}
    _, everyone = await api.call("GET", "/api/reports/tickets", supervisor)
    assert next(r for r in everyone["rows"] if r["category"] == "delivery")["opened"] == 3

    async with api.http.get(f"{api.base}/api/reports/tickets?format=csv", headers={"Authorization": f"Bearer {supervisor}"}) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        text = await r.text()
    header, *lines = text.lstrip("\ufeff").splitlines()
    assert header.split(",")[:3] == ["type", "category", "opened"] and "open_at_received" in header and len(lines) == 3
    assert (await api.call("GET", "/api/reports/tickets", agent))[0] == 403
    status, body = await api.call("GET", "/api/reports/tickets?from=2026-12-05&to=2026-12-01", supervisor)
    assert status == 400 and "before" in body["error"]
    status, body = await api.call("GET", "/api/reports/tickets?from=yesterday", supervisor)
    assert status == 400 and "from" in body["error"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"type": "refund", "category": "x", "title": "x"}, "type: one of complaint, after_sales"),
        ({"type": "complaint", "category": "weather", "title": "x"}, "category: one of quality"),
        ({"type": "after_sales", "category": "repair", "title": "x", "major": True}, "major: a after_sales ticket is never escalated"),
        ({"type": "complaint", "category": "price", "title": "x", "fields": {"mood": "bad"}}, "mood: not a field"),
        ({"type": "complaint", "category": "price", "title": "x", "fields": {"demand": 5}}, "demand: text expected"),
        ({"type": "complaint", "category": "price", "title": "x", "fields": {"demand": "长" * 5001}}, "demand: at most 5000"),
        ({"type": "complaint", "category": "price", "title": ""}, "title"),
        ({"type": "complaint", "category": "price", "title": "x", "severity": "apocalyptic"}, "severity"),
        ({"type": "complaint", "category": "price", "title": "x", "owner_id": 2**31 - 1}, "owner_id: no active"),
        ({"type": "complaint", "category": "price", "title": "x", "customer_id": 2**31 - 1}, "customer_id: no customer"),
        ({"type": "complaint", "category": "price", "title": "x", "call_id": "api-2"}, "call_id: no call 'api-2' of yours"),
        ({"type": "complaint", "category": "price", "title": "x", "colour": "red"}, "colour"),
    ],
)
async def test_bad_tickets_are_refused_with_the_field_named(api: Api, payload: dict, message: str) -> None:
    status, body = await api.call("POST", "/api/tickets", await api.login("agent1001"), json=payload)
    assert status == 400 and message in body["error"], body


async def test_bad_queries_and_missing_tickets(api: Api) -> None:
    agent = await api.login("agent1001")
    assert (await api.call("GET", "/api/tickets?state=lost", agent))[0] == 400
    assert (await api.call("GET", "/api/tickets?limit=1000", agent))[0] == 400
    assert (await api.call("GET", "/api/tickets/999999", agent))[0] == 404
    status, body = await api.call("PUT", "/api/calls/api-0/record", agent, json={"disposition_code": "complaint", "ticket": {"category": "weather"}})
    assert status == 400 and body["error"].startswith("ticket.category: one of")
    _, record = await api.call("GET", "/api/calls/api-0/record", agent)
    assert record["tickets"] == [] and record["saved"] is False  # nothing half-saved
