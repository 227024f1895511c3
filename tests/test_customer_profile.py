"""The customer as the handbook registers it (issue 14, §5.5 客户信息登记表), on SQLite and PostgreSQL:
registration, credit and business fields, contact people with masked numbers, the owner agent,
registrar and reviewer, private notes nobody else sees, and the interaction timeline."""

from __future__ import annotations

from sqlalchemy import select

from crm.db import create_engine, session_factory
from crm.models import AuditEntry
from tests.test_api import Api, api  # noqa: F401 - the fixture

REGISTRATION = {
    "name": "陈总",
    "company": "深圳恒达电子有限公司",
    "phones": ["+86 135 0000 3333"],
    "customer_type": "target",
    "industry": "电子制造",
    "ownership": "股份有限公司",
    "address": "深圳市南山区科技园1号",
    "postcode": "518057",
    "email": "chen@hengda.example",
    "tax_id": "91440300MA5XXXXX1",
    "annual_sales": 12_000_000,
    "registered_capital": 5_000_000,
    "credit_grade": "AA",
    "credit_limit": 300_000,
    "credit_term_days": 60,
    "payment_terms": "月结60天",
    "tags": ["电子", "华南", "电子"],
    "contacts": [{"name": "刘经理", "title": "采购部经理", "phone": "+86 136 0000 4444", "birthday": "1980-05-01",
                  "hobbies": "羽毛球", "decision_role": "决策人"}],
}  # fmt: skip


async def _users(migrated_url: str) -> dict[str, int]:
    from crm.models import User

    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        ids = {u.username: u.id for u in await session.scalars(select(User))}
    await engine.dispose()
    return ids


async def test_a_registration_keeps_every_field_and_its_contacts_masked_like_the_numbers(api: Api, migrated_url: str) -> None:
    users = await _users(migrated_url)
    agent, supervisor = await api.login("agent1001"), await api.login("supervisor")
    status, created = await api.call("POST", "/api/customers", agent, json=REGISTRATION | {"owner_id": users["agent1001"]})
    assert status == 201, created
    assert created["tags"] == ["电子", "华南"]  # the same tag twice is one tag
    assert (created["registered_by"], created["owner_id"], created["reviewed_by"]) == (users["agent1001"], users["agent1001"], None)
    assert created["contacts"][0] | {"id": 0} == {"id": 0, "name": "刘经理", "title": "采购部经理", "phone": "136****4444", "email": "",
                                                 "birthday": "1980-05-01", "hobbies": "羽毛球", "decision_role": "决策人"}  # fmt: skip
    _, card = await api.call("GET", f"/api/customers/{created['id']}", supervisor)
    for field in ("customer_type", "industry", "address", "annual_sales", "credit_limit", "credit_term_days", "payment_terms"):
        assert card[field] == REGISTRATION[field], field
    assert card["contacts"][0]["phone"] == "+86 136 0000 4444"  # whole for the role that sees numbers

    # The agent's edit form sends the masked contact number back: the stored one stays.
    contact = created["contacts"][0]
    edit = {"contacts": [contact | {"title": "采购总监"}, {"name": "王会计", "phone": "0755-8888 6666"}], "industry": "消费电子"}
    status, changed = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json=edit)
    assert status == 200, changed
    assert [(c["name"], c["title"]) for c in changed["contacts"]] == [("刘经理", "采购总监"), ("王会计", "")]
    _, card = await api.call("GET", f"/api/customers/{created['id']}", supervisor)
    assert [c["phone"] for c in card["contacts"]] == ["+86 136 0000 4444", "0755-8888 6666"] and card["industry"] == "消费电子"
    status, dropped = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json={"contacts": [card["contacts"][1]]})
    assert status == 200 and [c["name"] for c in dropped["contacts"]] == ["王会计"]


async def test_bad_registration_values_are_refused_with_the_field_named(api: Api, migrated_url: str) -> None:
    users = await _users(migrated_url)
    agent = await api.login("agent1001")
    _, created = await api.call("POST", "/api/customers", agent, json={"name": "赵七", "phones": ["13700001111"]})
    for body, named in (
        ({"email": "not-an-address"}, "email"),
        ({"customer_type": "vip"}, "customer_type"),
        ({"annual_sales": -1}, "annual_sales"),
        ({"tags": ["x" * 33]}, "tags"),
        ({"name": None}, "name: may not be null"),
        ({"industry": None}, "industry: may not be null"),
        ({"owner_id": users["qa"]}, "owner_id"),
        ({"contacts": [{"id": 2**31 - 1, "name": "x"}]}, "contacts"),
        ({"contacts": [{"name": ""}]}, "contacts"),
        ({"phones": ["   ".join("13700001111")]}, "phones"),  # a real number, spaced past the column's 40 characters
    ):
        status, refused = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json=body)
        assert status == 400 and named in refused["error"], (body, refused)
    status, _ = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json={"annual_sales": None, "credit_term_days": 30})
    assert status == 200  # a number field may be emptied


async def test_a_registration_is_reviewed_by_a_leader_not_an_agent_and_audited(api: Api, migrated_url: str) -> None:
    users = await _users(migrated_url)
    agent, leader = await api.login("agent1001"), await api.login("leader")
    _, created = await api.call("POST", "/api/customers", agent, json={"name": "孙八", "phones": ["13700002222"]})
    assert (await api.call("POST", f"/api/customers/{created['id']}/review", agent))[0] == 403
    assert (await api.call("POST", f"/api/customers/{created['id']}/review", await api.login("qa")))[0] == 403
    status, reviewed = await api.call("POST", f"/api/customers/{created['id']}/review", leader)
    assert status == 200 and reviewed["reviewed_by"] == users["leader"]
    _, card = await api.call("GET", f"/api/customers/{created['id']}", agent)
    assert card["reviewed_by"] == users["leader"] and card["reviewed_at"] == reviewed["reviewed_at"]
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.reviewed"))
    await engine.dispose()
    assert (entry.username, entry.resource_id) == ("leader", created["id"])


async def test_a_private_note_is_seen_by_its_author_alone(api: Api) -> None:
    agent1, agent2, supervisor = await api.login("agent1001"), await api.login("agent1002"), await api.login("supervisor")
    _, zhang = await api.call("GET", "/api/customers", agent1, params={"phone": "13800138000"})
    customer = zhang["customers"][0]["id"]
    status, private = await api.call("POST", f"/api/customers/{customer}/notes", agent1, json={"text": "他答应下周签单,别让别人抢", "private": True})
    assert status == 201 and private["private"] is True
    status, shared = await api.call("POST", f"/api/customers/{customer}/notes", agent2, json={"text": "<b>请上午回电</b>"})
    assert status == 201
    assert (await api.call("POST", f"/api/customers/{customer}/notes", agent2, json={"text": "  "}))[0] == 400
    assert (await api.call("POST", f"/api/customers/{customer}/notes", await api.login("qa"), json={"text": "x"}))[0] == 403

    def texts(entries: list[dict]) -> list[str]:
        return [e["text"] for e in entries]

    _, card = await api.call("GET", f"/api/customers/{customer}", agent1)
    assert texts(card["note_entries"]) == ["<b>请上午回电</b>", "他答应下周签单,别让别人抢"]
    for token in (agent2, supervisor, await api.login("admin")):
        _, card = await api.call("GET", f"/api/customers/{customer}", token)
        assert texts(card["note_entries"]) == ["<b>请上午回电</b>"]
        _, notes = await api.call("GET", f"/api/customers/{customer}/notes", token)
        assert texts(notes["notes"]) == ["<b>请上午回电</b>"]
        _, history = await api.call("GET", f"/api/customers/{customer}/timeline", token)
        assert "他答应下周签单,别让别人抢" not in texts(history["items"])
    _, page = await api.call("GET", f"/api/customers/{customer}/notes", agent1, params={"limit": "1"})
    _, rest = await api.call("GET", f"/api/customers/{customer}/notes", agent1, params={"before_id": str(page["notes"][0]["id"])})
    assert texts(page["notes"]) + texts(rest["notes"]) == ["<b>请上午回电</b>", "他答应下周签单,别让别人抢"]


async def test_the_timeline_shows_calls_tickets_tasks_changes_and_notes_newest_first(api: Api) -> None:
    agent, leader = await api.login("agent1001"), await api.login("leader")
    _, zhang = await api.call("GET", "/api/customers", agent, params={"phone": "13800138000"})
    customer = zhang["customers"][0]["id"]
    status, _ = await api.call("PUT", "/api/calls/api-0/record", agent, json={"disposition_code": "inquiry", "customer_id": customer, "summary": "问发票"})
    assert status == 200
    _, ticket = await api.call("POST", "/api/tickets", agent, json={"type": "complaint", "category": "attitude", "title": "客服态度差",
                                                                    "customer_id": customer, "confidential": True})  # fmt: skip
    _, task = await api.call("POST", "/api/tasks", agent, json={"kind": "callback", "customer_id": customer, "phone_id": zhang["customers"][0]["phones"][0]["id"]})
    status, _ = await api.call("PATCH", f"/api/customers/{customer}", leader, json={"grade": "B", "reason": "年销售额下降"})
    assert status == 200
    await api.call("POST", f"/api/customers/{customer}/notes", agent, json={"text": "已寄发票"})

    _, history = await api.call("GET", f"/api/customers/{customer}/timeline", agent)
    kinds = [item["kind"] for item in history["items"]]
    assert kinds == ["note", "grade_change", "task", "ticket_opened", "call"], kinds
    by_kind = {item["kind"]: item for item in history["items"]}
    assert by_kind["call"]["text"] == "问发票" and by_kind["call"]["number"] == "13800138000"  # the agent's own call: whole
    assert by_kind["ticket_opened"]["text"] == "" and by_kind["ticket_opened"]["number"] == ticket["number"]  # confidential
    assert (by_kind["grade_change"]["before"], by_kind["grade_change"]["after"], by_kind["grade_change"]["text"]) == ("A", "B", "年销售额下降")
    assert by_kind["task"]["id"] == task["id"]
    _, older = await api.call("GET", f"/api/customers/{customer}/timeline", agent, params={"before": history["items"][1]["at"], "limit": "2"})
    assert [item["kind"] for item in older["items"]] == ["task", "ticket_opened"]
    _, qa_view = await api.call("GET", f"/api/customers/{customer}/timeline", await api.login("qa"))
    assert next(i for i in qa_view["items"] if i["kind"] == "call")["number"] == "138****8000"
    assert (await api.call("GET", "/api/customers/999999/timeline", agent))[0] == 404
    assert (await api.call("GET", f"/api/customers/{customer}/timeline", agent, params={"before": "1700000000"}))[0] == 400
