"""The do-not-call list (issue 15, part: DNC), on SQLite and PostgreSQL and through the sandbox: a
customer's opt-out from the card lists the number however it is written; click-to-dial refuses it
before any call is placed, unless the agent overrides it with a reason (audited); an expired entry
stops counting; leaders read the list, supervisors take a number off it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select

from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD
from crm.models import AuditEntry, DncEntry
from crm.phones import normalize_phone
from tests.conftest import LiveStack
from tests.live_calls import stored_call, unknown_number
from tests.test_api import Api, api  # noqa: F401 - the fixture
from tests.test_desktop_browser import desktop  # noqa: F401 - the fixture


async def _audit(migrated_url: str, action: str) -> list[AuditEntry]:
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
    await engine.dispose()
    return entries


async def test_an_opt_out_from_the_card_lists_the_number_and_dialling_it_needs_a_reason(api: Api, migrated_url: str) -> None:
    agent, leader, supervisor = await api.login("agent1001"), await api.login("leader"), await api.login("supervisor")
    _, found = await api.call("GET", "/api/customers", agent, params={"phone": "13800138000"})
    zhang = found["customers"][0]
    phone_id = zhang["phones"][0]["id"]
    status, added = await api.call("POST", "/api/dnc", agent, json={"phone_id": phone_id, "reason": "opt_out", "note": "客户要求不再来电"})
    assert status == 201, added
    (entry,) = added["entries"]
    assert (entry["number"], entry["reason"], entry["customer_id"], entry["source"]) == ("138****8000", "opt_out", zhang["id"], "card")
    _, card = await api.call("GET", f"/api/customers/{zhang['id']}", agent)
    assert card["phones"][0]["do_not_call"] is True

    # Dialled by its id, or written another way: refused before anything is placed.
    for target in ({"phone_id": phone_id}, {"number": "+86 138 0013 8000"}):
        status, refused = await api.call("POST", "/api/me/dial", agent, json=target)
        assert status == 409 and refused["dnc"]["reason"] == "opt_out" and "dnc_override" in refused["error"], refused
    status, _ = await api.call("POST", "/api/me/dial", agent, json={"phone_id": phone_id, "dnc_override": "客户来电要求回拨"})
    assert status == 503  # past the list (no telephony in this test: the sandbox test below places the call)
    (overridden,) = await _audit(migrated_url, "dnc.overridden")
    assert (overridden.username, overridden.resource_id, overridden.detail["why"]) == ("agent1001", zhang["id"], "客户来电要求回拨")

    assert (await api.call("GET", "/api/dnc", agent))[0] == 403
    _, listed = await api.call("GET", "/api/dnc", leader, params={"number": "0086 138-0013-8000"})
    assert [e["number"] for e in listed["entries"]] == ["138****8000"]
    _, whole = await api.call("GET", "/api/dnc", supervisor)
    assert whole["entries"][0]["number"] == "13800138000"
    for body, problem in (({"number": "见名片"}, "not a phone number"), ({"number": "13900001111", "expires_at": "2020-01-01T00:00:00+08:00"}, "future"),
                          ({"number": "13900001111", "phone_id": phone_id}, "one of"), ({"number": "13900001111", "reason": "angry"}, "reason")):  # fmt: skip
        status, refused = await api.call("POST", "/api/dnc", agent, json=body)
        assert status == 400 and problem in refused["error"], (body, refused)

    assert (await api.call("DELETE", f"/api/dnc/{entry['id']}", leader))[0] == 403
    assert (await api.call("DELETE", f"/api/dnc/{entry['id']}", supervisor))[0] == 200
    assert (await api.call("DELETE", f"/api/dnc/{entry['id']}", supervisor))[0] == 404
    status, _ = await api.call("POST", "/api/me/dial", agent, json={"phone_id": phone_id})
    assert status == 503  # off the list: dialled as any number
    assert [e.username for e in await _audit(migrated_url, "dnc.removed")] == ["supervisor"]


async def test_an_expired_entry_no_longer_stops_a_call(api: Api, migrated_url: str) -> None:
    agent = await api.login("agent1001")
    status, added = await api.call("POST", "/api/dnc", agent, json={"number": "15500001111", "reason": "complaint",
                                                                    "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()})  # fmt: skip
    assert status == 201
    assert (await api.call("POST", "/api/me/dial", agent, json={"number": "15500001111"}))[0] == 409
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        entry = await session.get(DncEntry, added["entries"][0]["id"])
        entry.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await engine.dispose()
    assert (await api.call("POST", "/api/me/dial", agent, json={"number": "15500001111"}))[0] == 503


async def test_click_to_dial_places_no_call_to_a_listed_number_until_overridden(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with live.sessions() as session, session.begin():
        session.add(DncEntry(normalized=normalize_phone(number), number=number, reason="regulator", source="api"))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{desktop}/api/login", json={"username": "agent1003", "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        with live.ami.events(["OriginateResponse", "Newchannel"]) as seen:
            async with http.post(f"{desktop}/api/me/dial", json={"number": number}, headers=headers) as r:
                assert r.status == 409
            await asyncio.sleep(1)
            heard = [seen.get_nowait() for _ in range(seen.pending())]
            assert not [e for e in heard if "1003" in e.get("Channel", "") or number in e.get("Exten", "")]  # nothing rang
        async with http.post(f"{desktop}/api/me/dial", json={"number": number, "dnc_override": "监管名单已过期,主管同意"}, headers=headers) as r:
            assert r.status == 202
            linkedid = (await r.json())["call_id"]
        for _ in range(100):
            call = live.service.bridge.find_call(linkedid)
            if call is not None and call.answered_at is not None:
                break
            await asyncio.sleep(0.1)
        async with http.post(f"{desktop}/api/calls/{linkedid}/hangup", headers=headers) as r:
            assert r.status == 200
    row = await stored_call(live, linkedid)
    assert (row.direction, row.called_number, row.agent_extension) == ("outbound", number, "1003")
    async with live.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "dnc.overridden", AuditEntry.username == "agent1003"))
    assert entry is not None and entry.detail["why"] == "监管名单已过期,主管同意"


async def test_the_record_form_lists_the_calls_number_when_the_customer_opts_out(api: Api, migrated_url: str) -> None:
    agent, supervisor = await api.login("agent1001"), await api.login("supervisor")
    status, saved = await api.call("PUT", "/api/calls/api-0/record", agent, json={"disposition_code": "inquiry", "do_not_call": True})
    assert status == 200, saved
    _, listed = await api.call("GET", "/api/dnc", supervisor, params={"number": "13800138000"})
    assert [(e["number"], e["reason"], e["source"]) for e in listed["entries"]] == [("13800138000", "opt_out", "record_form")]
    status, refused = await api.call("POST", "/api/me/dial", agent, json={"number": "13800138000"})
    assert status == 409 and refused["dnc"]["reason"] == "opt_out"
    assert [e.username for e in await _audit(migrated_url, "dnc.added")] == ["agent1001"]


async def test_a_list_from_outside_is_imported_whole_or_not_at_all(api: Api, migrated_url: str) -> None:
    supervisor = await api.login("supervisor")
    headers = {"Authorization": f"Bearer {supervisor}", "Content-Type": "text/csv"}

    async def send(text: str, dry_run: bool, encoding: str = "utf-8") -> tuple[int, dict]:
        async with api.http.post(f"{api.base}/api/dnc-import", params={"dry_run": str(dry_run).lower()}, data=text.encode(encoding), headers=headers) as r:
            return r.status, await r.json()

    bad = "电话,原因,到期,备注\n13911110001,,,监管名单\n见名片,,,\n13911110002,angry,,\n13911110003,,2020-01-01,\n"
    status, report = await send(bad, False)
    assert status == 422 and (report["rows"], report["rejected_rows"], report["imported"]) == (4, 3, 0)
    assert [(r["line"], r["column"]) for r in report["rejected"]] == [(3, "number"), (4, "reason"), (5, "expires_at")]
    _, listed = await api.call("GET", "/api/dnc", supervisor, params={"number": "13911110001"})
    assert listed["entries"] == []  # nothing half-listed
    good = "电话,原因,到期,备注\n13911110001,,,监管名单\n+86 139 1111 0002,complaint,2099-01-01,\n"
    status, report = await send(good, True, "gb18030")
    assert status == 200 and (report["valid"], report["imported"]) == (2, 0)
    status, report = await send(good, False, "gb18030")
    assert status == 200 and report["imported"] == 2
    _, listed = await api.call("GET", "/api/dnc", supervisor, params={"number": "13911110002"})
    assert [(e["reason"], e["source"], e["expires_at"][:10]) for e in listed["entries"]] == [("complaint", "import", "2099-01-01")]
    agent = await api.login("agent1001")
    async with api.http.post(f"{api.base}/api/dnc-import", data=good.encode(), headers={**headers, "Authorization": f"Bearer {agent}"}) as r:
        assert r.status == 403
    assert [e.detail["imported"] for e in await _audit(migrated_url, "dnc.imported")] == [2]
