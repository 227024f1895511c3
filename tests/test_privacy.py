"""Customer-data confidentiality (issue 14, handbook §6 客户资料保密制度), on SQLite and PostgreSQL:
numbers masked for the roles that do not need them, an audited reveal, the audit log that nobody
can edit, and searches a desktop cannot page the CRM through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from crm.db import create_engine, session_factory
from crm.models import Call, Customer
from crm.privacy import mask_phone
from tests.test_api import Api, api  # noqa: F401 - the fixture

NUMBER = "+86 186 0000 1111"


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("0086 137 0013 7000", "137****7000"),
        ("+1 415 555 2671", "+1 415***2671"),
        ("010-6552 9988", "106***9988"),
        ("10086", "***86"),
    ],
)
def test_a_masked_number_keeps_its_ends(written: str, masked: str) -> None:
    assert mask_phone(written) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_hides_its_middle_four_digits(number: str) -> None:
    masked = mask_phone(number)
    assert masked == f"{number[:3]}****{number[-4:]}" and len(re.sub(r"\D", "", masked)) == 7


async def _customer(api: Api, token: str, name: str = "赵六", phones: list[str] | None = None) -> dict:
    status, created = await api.call("POST", "/api/customers", token, json={"name": name, "phones": phones or [NUMBER]})
    assert status == 201, created
    return created


async def _audit(api: Api, token: str, **filters) -> list[dict]:  # type: ignore[no-untyped-def]
    status, body = await api.call("GET", "/api/audit", token, params={k: str(v) for k, v in filters.items()})
    assert status == 200, body
    return body["entries"]


async def test_numbers_are_masked_for_agents_leaders_and_qa_and_whole_for_supervisors(api: Api) -> None:
    supervisor = await api.login("supervisor")
    created = await _customer(api, supervisor)
    assert created["phones"][0] | {"id": 0} == {"id": 0, "number": NUMBER, "masked": False}
    for username in ("agent1001", "leader", "qa"):
        token = await api.login(username)
        _, card = await api.call("GET", f"/api/customers/{created['id']}", token)
        assert [(p["number"], p["masked"]) for p in card["phones"]] == [("186****1111", True)], username
        _, found = await api.call("GET", "/api/customers?phone=18600001111", token)
        assert [p["number"] for p in found["customers"][0]["phones"]] == ["186****1111"]
    _, card = await api.call("GET", f"/api/customers/{created['id']}", await api.login("admin"))
    assert card["phones"][0]["number"] == NUMBER
    # A call's number is whole to its own agent, who heard it ring, and masked to the others.
    _, mine = await api.call("GET", "/api/calls", await api.login("agent1001"))
    assert {c["caller_number"] for c in mine["calls"] if c["direction"] == "inbound"} == {"13800138000"}
    _, everyone = await api.call("GET", "/api/calls", await api.login("qa"))
    assert {c["caller_number"] for c in everyone["calls"] if c["direction"] == "inbound"} == {"138****8000"}
    assert {c["called_number"] for c in everyone["calls"] if c["direction"] == "outbound"} == {"155****1111"}
    _, record = await api.call("GET", "/api/calls/api-2/record", await api.login("leader"))  # agent 1002's, of the team
    assert record["number"] == "138****8000"
    _, full = await api.call("GET", "/api/calls", supervisor)
    assert {c["caller_number"] for c in full["calls"] if c["direction"] == "inbound"} == {"13800138000"}


async def test_a_reveal_is_deliberate_allowed_by_role_and_audited(api: Api) -> None:
    supervisor, agent, qa = await api.login("supervisor"), await api.login("agent1001"), await api.login("qa")
    created = await _customer(api, supervisor)
    phone = created["phones"][0]["id"]
    status, revealed = await api.call("POST", f"/api/customers/{created['id']}/reveal", agent, json={"phone_id": phone})
    assert status == 200 and revealed == {"id": phone, "number": NUMBER}
    status, body = await api.call("POST", f"/api/customers/{created['id']}/reveal", qa, json={"phone_id": phone})
    assert status == 403 and "qa_inspector may not reveal" in body["error"]
    status, body = await api.call("POST", "/api/customers/1/reveal", agent, json={"phone_id": phone})  # another customer's id
    assert status == 404 and "no such phone" in body["error"]
    status, body = await api.call("POST", f"/api/customers/{created['id']}/reveal", agent, json={"phone_id": "1"})
    assert status == 400 and "phone_id" in body["error"]
    reveals = await _audit(api, supervisor, action="phone.revealed")
    assert [(e["username"], e["role"], e["resource_id"], e["detail"]) for e in reveals] == [
        ("agent1001", "agent", created["id"], {"phone_id": phone})
    ]
    assert reveals[0]["remote"] == "127.0.0.1"


async def test_reads_searches_and_changes_are_in_the_audit_log_which_nobody_can_edit(api: Api, migrated_url: str) -> None:
    supervisor, agent, other = await api.login("supervisor"), await api.login("agent1001"), await api.login("agent1003")
    created = await _customer(api, supervisor)
    engine = create_engine(migrated_url)
    try:
        async with session_factory(engine)() as session, session.begin():  # the customer called agent 1001
            await session.execute(update(Call).where(Call.linkedid == "api-0").values(customer_id=created["id"]))
        await api.call("GET", f"/api/customers/{created['id']}", agent)  # their own caller: the work itself
        await api.call("GET", f"/api/customers/{created['id']}", other)  # not on any call of 1003's
        await api.call("GET", "/api/customers?q=赵六", other)
        status, _ = await api.call("PATCH", f"/api/customers/{created['id']}", other, json={"region": "华南", "notes": "x"})
        assert status == 200
        assert (await api.call("GET", "/api/audit", agent))[0] == 403
        entries = await _audit(api, supervisor, customer_id=created["id"])
        assert [(e["action"], e["username"]) for e in entries] == [
            ("customer.changed", "agent1003"), ("customer.read", "agent1003"), ("customer.created", "supervisor"),
        ]  # newest first, and no read by agent1001
        assert entries[0]["detail"] == {"fields": ["region", "notes"]}
        searches = await _audit(api, supervisor, action="customer.search", user_id=entries[0]["user_id"])
        assert [(s["detail"]["q"], s["detail"]["ids"]) for s in searches] == [("赵六", [created["id"]])]
        older = await _audit(api, supervisor, before_id=entries[1]["id"], limit=1)
        assert [e["id"] for e in older] == [entries[2]["id"]]

        for statement in ("UPDATE audit_log SET username = 'nobody'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
        assert len(await _audit(api, supervisor, customer_id=created["id"])) == 3
    finally:
        await engine.dispose()


async def test_a_desktop_cannot_page_through_the_crm(api: Api, migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        session.add_all(Customer(name=f"批量客户{n:02d}") for n in range(25))
    await engine.dispose()
    agent, supervisor = await api.login("agent1001"), await api.login("supervisor")
    status, body = await api.call("GET", "/api/customers?q=批", agent)
    assert status == 400 and "at least 2 characters" in body["error"]
    _, found = await api.call("GET", "/api/customers?q=批量&limit=100", agent)
    assert len(found["customers"]) == 20  # privacy.search_page
    _, found = await api.call("GET", "/api/customers?q=批量&limit=100", supervisor)
    assert len(found["customers"]) == 25
    # Digits in a masked number are not searched: they would uncover it a digit at a time.
    _, found = await api.call("GET", "/api/customers?q=0013800", agent)
    assert found["customers"] == []
    _, found = await api.call("GET", "/api/customers?q=0013800", supervisor)
    assert {c["name"] for c in found["customers"]} >= {"张三"}
    _, found = await api.call("GET", "/api/customers?phone=138 0013 8000", agent)  # a whole number still finds its customer
    assert [c["name"] for c in found["customers"]] == ["张三"]


async def test_an_edit_sends_masked_numbers_back_and_keeps_the_stored_ones(api: Api) -> None:
    supervisor, agent = await api.login("supervisor"), await api.login("agent1001")
    created = await _customer(api, supervisor, phones=[NUMBER, "13911112222"])
    _, card = await api.call("GET", f"/api/customers/{created['id']}", agent)
    shown = [p["number"] for p in card["phones"]]
    assert shown == ["186****1111", "139****2222"]
    status, changed = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json={"phones": [shown[0], "15012345678"]})
    assert status == 200 and [p["number"] for p in changed["phones"]] == ["186****1111", "150****5678"]
    _, full = await api.call("GET", f"/api/customers/{created['id']}", supervisor)
    assert [p["number"] for p in full["phones"]] == [NUMBER, "15012345678"]
    status, body = await api.call("PATCH", f"/api/customers/{created['id']}", agent, json={"phones": ["999****9999"]})
    assert status == 400 and "not a phone number" in body["error"]  # a mask that is none of this customer's
