"""Customers as the CRM keeps them (issue 14), on SQLite and PostgreSQL: a number written in any
format finds its customer; a new customer with a number someone already has is a duplicate, named,
unless asked for; merging keeps every call, record form, ticket, task and number; a ticket number
finds its customer; supervisors page through results, agents search precisely."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.db import create_engine, session_factory
from crm.models import AuditEntry, Call, Customer
from tests.test_api import Api, api  # noqa: F401 - the fixture


@pytest.mark.parametrize("written", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "(+86) 138.0013.8000", "86 13800138000"])
async def test_a_number_in_any_format_finds_its_customer(api: Api, written: str) -> None:
    _, found = await api.call("GET", "/api/customers", await api.login("agent1001"), params={"phone": written})
    assert [c["name"] for c in found["customers"]] == ["张三"]


async def test_a_duplicate_number_is_named_and_created_only_when_asked(api: Api) -> None:
    agent = await api.login("agent1001")
    new = {"name": "张三(重复)", "phones": ["+86 138-0013-8000", "+86 150 0000 2222"]}
    status, refused = await api.call("POST", "/api/customers", agent, json=new)
    assert status == 409 and "138****8000 is already customer" in refused["error"]
    assert [(d["name"], d["phone"]) for d in refused["duplicates"]] == [("张三", "138****8000")]
    status, created = await api.call("POST", "/api/customers", agent, json=new | {"allow_duplicate": True})
    assert status == 201
    _, both = await api.call("GET", "/api/customers", agent, params={"phone": "13800138000"})
    assert sorted(c["name"] for c in both["customers"]) == ["张三", "张三(重复)"]


async def test_merging_a_duplicate_keeps_every_call_ticket_task_and_number(api: Api, migrated_url: str) -> None:
    supervisor, agent, leader = [await api.login(u) for u in ("supervisor", "agent1001", "leader")]
    _, keep = await api.call("GET", "/api/customers", supervisor, params={"phone": "13800138000"})
    keep = keep["customers"][0]
    status, dup = await api.call("POST", "/api/customers", agent, json={"name": "张先生", "company": "", "grade": "A", "key_account": False,
                                                                        "notes": "来电自称张总", "phones": ["13800138000", "15000002222"],
                                                                        "contacts": [{"name": "李秘书", "title": "总经理秘书"}],
                                                                        "tags": ["回头客"], "allow_duplicate": True})  # fmt: skip
    assert status == 201
    assert (await api.call("POST", f"/api/customers/{dup['id']}/notes", agent, json={"text": "只在上午方便接电话"}))[0] == 201
    status, saved = await api.call("PUT", "/api/calls/api-0/record", agent, json={"disposition_code": "complaint", "customer_id": dup["id"],
                                                                                  "summary": "屏幕坏了"})  # fmt: skip
    assert status == 200 and saved["tickets"]
    status, task = await api.call("POST", "/api/tasks", agent, json={"kind": "callback", "customer_id": dup["id"], "phone_id": dup["phones"][1]["id"]})
    assert status == 201

    assert (await api.call("POST", f"/api/customers/{keep['id']}/merge", agent, json={"from_id": dup["id"]}))[0] == 403
    assert (await api.call("POST", f"/api/customers/{keep['id']}/merge", leader, json={"from_id": keep["id"]}))[0] == 400
    assert (await api.call("POST", f"/api/customers/{keep['id']}/merge", leader, json={"from_id": 2**31 - 1}))[0] == 404
    status, merged = await api.call("POST", f"/api/customers/{keep['id']}/merge", leader, json={"from_id": dup["id"]})
    assert status == 200, merged
    assert merged["moved"] == {"calls": 1, "records": 1, "tickets": 1, "tasks": 1, "contacts": 1, "notes": 1, "grade_changes": 0, "phones": 1}
    assert [c["name"] for c in merged["contacts"]] == ["李秘书"] and merged["tags"] == ["回头客"]
    assert sorted(p["number"] for p in merged["phones"]) == ["138****8000", "150****2222"]
    assert merged["grade"] == "A" and merged["key_account"] is True  # the better grade; 张三 was a key account

    assert (await api.call("GET", f"/api/customers/{dup['id']}", supervisor))[0] == 404
    _, card = await api.call("GET", f"/api/customers/{keep['id']}", supervisor)
    assert "来电自称张总" in card["notes"] and [t["id"] for t in card["open_tickets"]] == [saved["tickets"][0]["id"]]
    assert [n["text"] for n in card["note_entries"]] == ["只在上午方便接电话"]
    _, tasks = await api.call("GET", "/api/tasks", agent, params={"customer_id": str(keep["id"])})
    assert [t["id"] for t in tasks["tasks"]] == [task["id"]]
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        assert await session.scalar(select(Call.customer_id).where(Call.linkedid == "api-0")) == keep["id"]
        assert await session.scalar(select(func.count()).select_from(Customer).where(Customer.id == dup["id"])) == 0
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.merged"))
    await engine.dispose()
    assert (entry.username, entry.resource_id, entry.detail["from_id"], entry.detail["from_name"]) == ("leader", keep["id"], dup["id"], "张先生")


async def test_a_ticket_number_finds_its_customer_for_whoever_may_see_the_ticket(api: Api) -> None:
    agent = await api.login("agent1001")
    _, zhang = await api.call("GET", "/api/customers", agent, params={"phone": "13800138000"})
    status, ticket = await api.call("POST", "/api/tickets", agent, json={"type": "complaint", "category": "price", "title": "价格",
                                                                         "customer_id": zhang["customers"][0]["id"]})  # fmt: skip
    assert status == 201
    for number in (ticket["number"], ticket["number"].lower()):
        _, found = await api.call("GET", "/api/customers", agent, params={"ticket": number})
        assert [c["name"] for c in found["customers"]] == ["张三"]
    _, other = await api.call("GET", "/api/customers", await api.login("agent1003"), params={"ticket": ticket["number"]})
    assert other["customers"] == []  # another team's agent does not see the ticket


async def test_supervisors_page_through_results_and_agents_search_precisely(api: Api) -> None:
    supervisor, agent = await api.login("supervisor"), await api.login("agent1001")
    for n in range(5):
        assert (await api.call("POST", "/api/customers", supervisor, json={"name": f"分页客户{n}", "phones": [f"1760000{n:04d}"]}))[0] == 201
    pages = []
    for offset in (0, 2, 4):
        _, page = await api.call("GET", "/api/customers", supervisor, params={"q": "分页客户", "limit": "2", "offset": str(offset)})
        pages += [c["name"] for c in page["customers"]]
    assert pages == [f"分页客户{n}" for n in range(5)]
    status, refused = await api.call("GET", "/api/customers", agent, params={"q": "分页客户", "offset": "2"})
    assert status == 400 and "offset" in refused["error"]
    status, refused = await api.call("GET", "/api/customers", agent, params={"q": "分页", "ticket": "TS-1"})
    assert status == 400 and "one of" in refused["error"]


async def test_agents_propose_grade_and_risk_changes_and_a_leader_approves_them(api: Api) -> None:
    agent, leader, other_agent, supervisor = [await api.login(u) for u in ("agent1001", "leader", "agent1003", "supervisor")]
    _, found = await api.call("GET", "/api/customers", agent, params={"phone": "+86 139 0013 9000"})
    customer = found["customers"][0]  # 李四, grade B
    status, refused = await api.call("PATCH", f"/api/customers/{customer['id']}", agent, json={"grade": "A"})
    assert status == 403 and "propose" in refused["error"]
    assert (await api.call("POST", f"/api/customers/{customer['id']}/changes", agent, json={"grade": "A"}))[0] == 400  # no reason
    status, proposed = await api.call("POST", f"/api/customers/{customer['id']}/changes", agent,
                                      json={"grade": "A", "at_risk": False, "reason": "年销售额超过500万"})  # fmt: skip
    assert status == 201, proposed
    [change] = proposed["changes"]  # at_risk is false already: only the grade is proposed
    assert (change["field"], change["before"], change["after"], change["status"]) == ("grade", "B", "A", "pending")

    assert (await api.call("GET", "/api/customer-changes", other_agent))[0] == 403  # agents do not decide
    _, pending = await api.call("GET", "/api/customer-changes", leader)
    assert [c["id"] for c in pending["changes"]] == [change["id"]]
    status, decided = await api.call("POST", f"/api/customer-changes/{change['id']}/decision", leader, json={"approve": True, "note": "同意"})
    assert status == 200 and decided["changes"][0]["status"] == "approved" and decided["changes"][0]["decided_by"]
    _, card = await api.call("GET", f"/api/customers/{customer['id']}", agent)
    assert card["grade"] == "A"
    assert (await api.call("POST", f"/api/customer-changes/{change['id']}/decision", leader, json={"approve": False}))[0] == 409

    status, refused = await api.call("POST", f"/api/customers/{customer['id']}/changes", agent, json={"at_risk": True, "reason": "长期拖欠货款"})
    assert status == 400 and "risk" in refused["error"]  # 危险客户 needs the risk's type, level and action
    risk = {"type": "long_arrears", "level": "high", "action": "collect", "amount_owed": 86_000}
    _, second = await api.call("POST", f"/api/customers/{customer['id']}/changes", agent, json={"at_risk": True, "risk": risk, "reason": "长期拖欠货款"})
    assert second["changes"][0]["risk"] == risk
    status, rejected = await api.call("POST", f"/api/customer-changes/{second['changes'][0]['id']}/decision", supervisor,
                                      json={"approve": False, "note": "已回款"})  # fmt: skip
    assert status == 200 and rejected["changes"][0]["status"] == "rejected"
    status, direct = await api.call("PATCH", f"/api/customers/{customer['id']}", leader, json={"grade": "C", "reason": "合作减少"})
    assert status == 200 and direct["grade"] == "C"
    _, history = await api.call("GET", f"/api/customers/{customer['id']}/changes", await api.login("qa"))
    assert [(c["field"], c["before"], c["after"], c["status"], c["reason"]) for c in history["changes"]] == [
        ("grade", "A", "C", "approved", "合作减少"),
        ("at_risk", "false", "true", "rejected", "长期拖欠货款"),
        ("grade", "B", "A", "approved", "年销售额超过500万"),
    ]  # newest first


async def test_a_proposal_overtaken_by_another_change_is_not_applied(api: Api) -> None:
    agent, supervisor = await api.login("agent1001"), await api.login("supervisor")
    _, found = await api.call("GET", "/api/customers", agent, params={"phone": "+1 415 555 2671"})
    customer = found["customers"][0]
    _, proposed = await api.call("POST", f"/api/customers/{customer['id']}/changes", agent, json={"grade": "B", "reason": "新订单"})
    assert (await api.call("PATCH", f"/api/customers/{customer['id']}", supervisor, json={"grade": "D", "reason": "停止合作"}))[0] == 200
    status, stale = await api.call("POST", f"/api/customer-changes/{proposed['changes'][0]['id']}/decision", supervisor, json={"approve": True})
    assert status == 409 and "stale" in stale["error"]


async def test_a_risk_is_typed_rated_acted_on_dated_and_listed_until_cleared(api: Api) -> None:
    agent, leader = await api.login("agent1001"), await api.login("leader")
    _, found = await api.call("GET", "/api/customers", agent, params={"phone": "+1 415 555 2671"})
    customer = found["customers"][0]  # John Smith, not at risk
    risk = {"type": "litigation", "level": "medium", "action": "stop_credit", "amount_owed": 12_000}
    _, proposed = await api.call("POST", f"/api/customers/{customer['id']}/changes", agent, json={"at_risk": True, "risk": risk, "reason": "被其他债权人起诉"})
    assert (await api.call("POST", f"/api/customer-changes/{proposed['changes'][0]['id']}/decision", leader, json={"approve": True}))[0] == 200
    _, card = await api.call("GET", f"/api/customers/{customer['id']}", agent)
    assert card["at_risk"] and (card["risk"]["type"], card["risk"]["level"], card["risk"]["action"]) == ("litigation", "medium", "stop_credit")
    since = card["risk"]["since"]
    assert since is not None

    status, listed = await api.call("GET", "/api/reports/at-risk-customers", leader)
    assert status == 200
    row = next(r for r in listed["rows"] if r["customer_id"] == customer["id"])
    assert (row["risk_type"], row["risk_level"], row["amount_owed"], row["found_by"], row["reason"]) == ("litigation", "medium", 12_000, "agent1001", "被其他债权人起诉")
    assert row["approved_by"] == "leader"
    assert (await api.call("GET", "/api/reports/at-risk-customers", agent))[0] == 403

    # A leader reassesses it (the date it was found stays), then clears it.
    higher = risk | {"level": "high", "action": "legal"}
    assert (await api.call("PATCH", f"/api/customers/{customer['id']}", leader, json={"risk": higher}))[0] == 400  # without at_risk
    status, reassessed = await api.call("PATCH", f"/api/customers/{customer['id']}", leader, json={"at_risk": True, "risk": higher, "reason": "败诉"})
    assert status == 200 and (reassessed["risk"]["level"], reassessed["risk"]["action"], reassessed["risk"]["since"]) == ("high", "legal", since)
    status, cleared = await api.call("PATCH", f"/api/customers/{customer['id']}", leader, json={"at_risk": False, "reason": "已结清"})
    assert status == 200 and cleared["risk"] is None and not cleared["at_risk"]
    _, listed = await api.call("GET", "/api/reports/at-risk-customers", leader)
    assert customer["id"] not in {r["customer_id"] for r in listed["rows"]}
    _, history = await api.call("GET", f"/api/customers/{customer['id']}/changes", agent)
    assert [(c["before"], c["after"], c["reason"]) for c in history["changes"]] == [("true", "false", "已结清"), ("true", "true", "败诉"),
                                                                                   ("false", "true", "被其他债权人起诉")]  # fmt: skip


async def test_customers_by_region_count_grades_and_sales(api: Api) -> None:
    supervisor = await api.login("supervisor")
    for name, region, grade, sales in (("区域甲", "深圳", "A", 3_000_000), ("区域乙", "深圳", "C", 1_000_000)):
        status, _ = await api.call("POST", "/api/customers", supervisor, json={"name": name, "phones": [f"1391234{len(name)}{sales // 10**6}00"],
                                                                              "region": region, "grade": grade, "annual_sales": sales})  # fmt: skip
        assert status == 201
    status, report = await api.call("GET", "/api/reports/customer-regions", supervisor)
    assert status == 200
    by_region = {row["region"]: row for row in report["rows"]}
    shenzhen = by_region["深圳"]
    assert (shenzhen["customers"], shenzhen["grade_A"], shenzhen["grade_C"], shenzhen["annual_sales"]) == (2, 1, 1, 4_000_000)
    assert shenzhen["sales_share"] == 1.0  # the demo customers have no sales on record
    assert (by_region["广州"]["customers"], by_region["广州"]["grade_D"], by_region["广州"]["at_risk"]) == (1, 1, 1)  # 王五
    async with api.http.get(f"{api.base}/api/reports/customer-regions", params={"format": "csv"}, headers={"Authorization": f"Bearer {supervisor}"}) as r:
        assert r.status == 200 and "深圳,2,1,0,1,0" in (await r.text())


def test_the_grade_rule_weighs_sales_calls_and_litigation() -> None:
    from config.grading import GradingSettings
    from crm.grade_rule import earned

    rules = GradingSettings()
    assert earned(rules, 6_000_000, 0, None)[0] == "A"
    assert earned(rules, 300_000, 12, None)[0] == "B" and earned(rules, 300_000, 11, None)[0] == "C"
    assert earned(rules, None, 0, None)[0] == "D"
    grade, why = earned(rules, 6_000_000, 0, "litigation")
    assert grade == "C" and "涉诉" in why  # sued by other creditors: at most C
    assert earned(GradingSettings(litigation_at_most=None), 6_000_000, 0, "litigation")[0] == "A"


async def test_regrade_proposes_the_rules_grade_for_a_supervisor_to_decide(api: Api, migrated_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from tests.test_cli import run

    supervisor, leader = await api.login("supervisor"), await api.login("leader")
    _, big = await api.call("POST", "/api/customers", supervisor, json={"name": "大单客户", "phones": ["13912300001"], "grade": "C",
                                                                        "annual_sales": 8_000_000})  # fmt: skip
    dry = await asyncio.to_thread(run, tmp_path, migrated_url, "customers", "regrade", "--dry-run")
    assert dry.returncode == 0 and "would propose" in dry.stdout
    done = await asyncio.to_thread(run, tmp_path, migrated_url, "customers", "regrade")
    assert done.returncode == 0, done.stderr
    _, pending = await api.call("GET", "/api/customer-changes", supervisor)
    mine = [c for c in pending["changes"] if c["customer_id"] == big["id"]]
    assert [(c["before"], c["after"], c["proposed_by"]) for c in mine] == [("C", "A", None)] and "grade rule" in mine[0]["reason"]
    assert big["id"] not in {c["customer_id"] for c in (await api.call("GET", "/api/customer-changes", leader))[1]["changes"]}
    again = await asyncio.to_thread(run, tmp_path, migrated_url, "customers", "regrade")
    assert "with a grade proposal pending" in again.stdout and len(
        [c for c in (await api.call("GET", "/api/customer-changes", supervisor))[1]["changes"] if c["customer_id"] == big["id"]]) == 1
    status, decided = await api.call("POST", f"/api/customer-changes/{mine[0]['id']}/decision", supervisor, json={"approve": True})
    assert status == 200 and (await api.call("GET", f"/api/customers/{big['id']}", supervisor))[1]["grade"] == "A"
