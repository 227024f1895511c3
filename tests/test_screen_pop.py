"""The screen pop: when an agent's phone starts ringing, their browser gets the caller's customer
card over socket.io — before the call is answered — then the answer and the end."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from agent_ui.app import create_app
from crm.demo_data import DEMO_PASSWORD
from telephony.sandbox.calls import place_call
from crm.db import create_engine
from sqlalchemy.engine import make_url
from telephony.agents.state import AgentState
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, stored_call, unknown_number
from tests.tcp_proxy import TcpProxy
from tests.web import agent_socket, running


async def next_named(received: asyncio.Queue, name: str, timeout: float = 15) -> tuple[float, dict]:
    async with asyncio.timeout(timeout):
        while True:
            got, at, data = await received.get()
            if got == name:
                return at, data


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    engine = live.service.engine
    async with running(create_app(live.service.settings, engine, live.service)) as url:
        yield url
    await reset_agents(live)  # no agent left paused for a disposition by this desktop


async def test_known_customer_pops_on_ring_before_the_answer(live: LiveStack, desktop: str) -> None:
    client, received = await agent_socket(desktop, "agent1001")
    try:
        # DID 4996 rings agent 1001 first (linear strategy); 张三 is a key account.
        call = asyncio.create_task(place_call(live.ami, did="4996", caller="13800138000", caller_name="张三", talk_seconds=1))
        popped_at, offered = await next_named(received, "call.offered")
        answered_at, answered = await next_named(received, "call.answered")
        result = await call
        await next_named(received, "call.ended")
    finally:
        await client.disconnect()
    card = offered["customer"]
    assert (card["new"], card["name"], card["grade"], card["key_account"], card["at_risk"]) == (False, "张三", "A", True, False)
    assert card["company"] == "北京华远贸易有限公司" and isinstance(card["recent_calls"], list)
    assert (offered["call_id"], offered["caller_number"], offered["queue"]) == (result.linkedid, "13800138000", "rna")
    # The agent hears the caller's number ring; the CRM's numbers of the customer are masked to agents (crm.privacy).
    assert [(p["number"], p["masked"]) for p in card["phones"]] == [("138****8000", True)] and card["phones"][0]["id"]
    assert offered["wait_s"] >= 0 and answered["call_id"] == result.linkedid
    row = await stored_call(live, result.linkedid)
    assert popped_at < row.answered_at.timestamp() <= answered_at + 0.5  # the pop came while it rang


async def test_unknown_caller_gets_a_new_customer_card_and_only_the_ringing_agent_is_told(live: LiveStack, desktop: str) -> None:
    ringing, ringing_events = await agent_socket(desktop, "agent1001")
    other, other_events = await agent_socket(desktop, "agent1004")
    number = unknown_number()
    try:
        await place_call(live.ami, did="4996", caller=number, talk_seconds=0.5)
        _, offered = await next_named(ringing_events, "call.offered")
    finally:
        await ringing.disconnect()
    await asyncio.sleep(0.3)
    seen_by_other = []
    while not other_events.empty():
        seen_by_other.append(other_events.get_nowait()[0])
    await other.disconnect()
    assert offered["customer"] == {"new": True, "phones": [{"id": None, "number": number, "masked": False}]}
    assert "call.offered" not in seen_by_other


async def test_agent_pauses_and_resumes_through_the_api_and_sees_it_pushed(live: LiveStack, desktop: str) -> None:
    client, received = await agent_socket(desktop, "agent1002")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{desktop}/api/login", json={"username": "agent1002", "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}

        async def put(state: dict) -> tuple[int, dict]:
            async with http.put(f"{desktop}/api/me/state", json=state, headers=headers) as r:
                return r.status, await r.json()

        try:
            status, body = await put({"state": "paused"})
            assert status == 400 and "reason" in body["error"]
            status, body = await put({"state": "paused", "reason": "training"})
            assert status == 200 and (body["state"], body["reason"]) == ("paused", "training")
            _, pushed = await next_named(received, "agent.state", timeout=1)  # within a second, unasked
            assert (pushed["state"], pushed["reason"]) == ("paused", "training")
            members = await live.ami.collect("QueueStatus", Queue="support")
            member = next(m for m in members if m.get("Event") == "QueueMember" and "1002" in m["Location"])
            assert (member["Paused"], member["PausedReason"]) == ("1", "training")  # Asterisk agrees
            async with http.get(f"{desktop}/api/me/state", headers=headers) as r:
                assert (await r.json())["state"] == "paused"
            status, body = await put({"state": "available"})
            assert status == 200 and body["state"] == "available"
        finally:
            await client.disconnect()


async def test_click_to_dial_hold_transfer_and_hang_up_through_the_api(live: LiveStack, desktop: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{desktop}/api/login", json={"username": "agent1003", "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}

        async def post(path: str, payload: dict | None = None) -> tuple[int, dict]:
            async with http.post(f"{desktop}{path}", json=payload or {}, headers=headers) as r:
                return r.status, await r.json()

        status, body = await post("/api/me/dial", {"number": "not-a-number"})
        assert status == 400 and "not a phone number" in body["error"]
        number = unknown_number()
        status, body = await post("/api/me/dial", {"number": number})
        assert status == 202
        outbound = body["call_id"]
        for _ in range(100):
            call = live.service.bridge.find_call(outbound)
            if call is not None and call.answered_at is not None:
                break
            await asyncio.sleep(0.1)
        assert (await post(f"/api/calls/{outbound}/transfer", {"queue": "nope"}))[0] == 400
        status, body = await post(f"/api/calls/{outbound}/resume")
        assert status == 409 and "not on hold" in body["error"]
        assert (await post(f"/api/calls/{outbound}/hold"))[0] == 200
        await asyncio.sleep(1)
        assert live.service.bridge.find_call(outbound).phase == "held"
        assert (await post(f"/api/calls/{outbound}/resume"))[0] == 200
        await asyncio.sleep(0.3)
        status, body = await post(f"/api/calls/{outbound}/hangup")
        assert status == 200
        row = await stored_call(live, outbound)
        assert (row.direction, row.called_number, row.disposition, row.agent_extension) == ("outbound", number, "answered", "1003")
        assert row.hold_count == 1 and 0.5 <= row.hold_s <= 2.5
        assert (await post(f"/api/calls/{outbound}/hangup"))[0] == 404  # over

        await reset_agents(live)
        await live.service.bridge.control.pause("1004", "break")  # so the sales call rings 1003
        try:
            inbound = asyncio.create_task(place_call(live.ami, did="4002", caller=unknown_number(), talk_seconds=6))
            for _ in range(100):
                ours = [c for c in live.service.bridge.live_calls() if c.agent == "1003" and c.answered_at is not None]
                if ours:
                    break
                await asyncio.sleep(0.1)
        finally:
            await live.service.bridge.control.unpause("1004")
        status, body = await post(f"/api/calls/{ours[0].linkedid}/transfer", {"kind": "blind", "queue": "senior"})
        assert status == 200
        result = await inbound
    row = await stored_call(live, result.linkedid)
    assert row.agent_extension == "1004" and row.transfers[0]["target"] == "q-senior"


async def test_no_new_call_until_the_last_one_has_a_disposition(live: LiveStack, desktop: str) -> None:
    client, received = await agent_socket(desktop, "agent1001")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{desktop}/api/login", json={"username": "agent1001", "password": DEMO_PASSWORD}) as r:
            headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        try:
            result = await place_call(live.ami, did="4996", caller=unknown_number(), talk_seconds=0.5)  # rings 1001 first
            await stored_call(live, result.linkedid)
            _, held = await next_named_where(received, "agent.state", lambda s: s["state"] == "paused", timeout=5)
            assert held["reason"] == "disposition"  # after the 1 s wrap-up, held for the disposition
            members = await live.ami.collect("QueueStatus", Queue="rna")
            member = next(m for m in members if m.get("Event") == "QueueMember" and "1001" in m["Location"])
            assert (member["Paused"], member["PausedReason"]) == ("1", "disposition")  # app_queue offers nothing
            async with http.put(f"{desktop}/api/me/state", json={"state": "available"}, headers=headers) as r:
                assert r.status == 409 and result.linkedid in (await r.json())["error"]
            form = {"disposition_code": "inquiry", "summary": "问营业时间", "handling": "on_the_spot"}
            async with http.put(f"{desktop}/api/calls/{result.linkedid}/record", json=form, headers=headers) as r:
                assert r.status == 200
            _, released = await next_named_where(received, "agent.state", lambda s: s["state"] == "available", timeout=2)
            assert released["pause_reason"] is None
        finally:
            await client.disconnect()


async def next_named_where(received: asyncio.Queue, name: str, predicate, timeout: float = 15) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            at, data = await next_named(received, name, timeout)
            if predicate(data):
                return at, data


@pytest.mark.parametrize("live", ["postgresql"], indirect=True)  # a database that hangs is a network one
async def test_a_hung_crm_costs_the_pop_its_card_but_never_the_pop_nor_other_agents_pushes(live: LiveStack) -> None:
    """The web app's database hangs (a frozen network): agent 1001 still gets the screen pop,
    within about a second and without the card, and meanwhile agent 1004's pushes are not held
    behind it. Before, every push of every agent waited for the pop's lookup: for ever."""
    await reset_agents(live)
    url = make_url(live.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    engine = create_engine(url.set(host="127.0.0.1", port=await proxy.start()).render_as_string(hide_password=False))
    app = create_app(live.service.settings, engine, live.service)
    try:
        async with running(app) as base:
            ringing, ringing_events = await agent_socket(base, "agent1001")
            other, other_events = await agent_socket(base, "agent1004", events=("agent.state",))
            bridge = live.service.bridge
            proxy.freeze()
            try:
                call = asyncio.create_task(place_call(live.ami, did="4996", caller="13800138000", talk_seconds=2))
                async with asyncio.timeout(10):
                    while (agent := bridge.agents.get("1001")) is None or agent.state != AgentState.RINGING:
                        await asyncio.sleep(0.02)
                rang_at = asyncio.get_running_loop().time()
                await bridge.control.pause("1004", "break")
                paused_at, _ = await next_named(other_events, "agent.state", timeout=5)
                popped_at, offered = await next_named(ringing_events, "call.offered", timeout=5)
                popped_after = asyncio.get_running_loop().time() - rang_at
            finally:
                proxy.thaw()
            await call
            await next_named(ringing_events, "call.ended")
            await ringing.disconnect()
            await other.disconnect()
    finally:
        await engine.dispose()
        await proxy.close()
        await reset_agents(live)
    assert offered["customer"] == {"new": False, "unavailable": True, "phones": [{"id": None, "number": "13800138000", "masked": False}]}
    assert offered["caller_number"] == "13800138000" and popped_after < 2.5, popped_after
    assert paused_at < popped_at  # agent 1004 heard of their pause while 1001's card was still being looked for
