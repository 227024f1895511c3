"""A team leader acts on agents through the API, against the real sandbox: force a pause with a
reason (Asterisk agrees), log an agent off and on, listen to a call; never on another team's agent."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from agent_ui.app import create_app
from crm.demo_data import DEMO_PASSWORD
from telephony.events import AgentMonitored
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import first_answered, reset_agents, unknown_number
from tests.web import running


@pytest.fixture
async def api(live: LiveStack):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url, aiohttp.ClientSession() as http:

        async def call(method: str, path: str, username: str, payload: dict | None = None) -> tuple[int, dict]:
            async with http.post(f"{url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as r:
                token = (await r.json())["token"]
            async with http.request(method, f"{url}{path}", json=payload, headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status, await r.json()

        yield call
    await reset_agents(live)


async def member(live: LiveStack, extension: str) -> dict | None:
    members = await live.ami.collect("QueueStatus", Queue="support")
    return next((dict(m) for m in members if m.get("Event") == "QueueMember" and f"/{extension}@" in m["Location"]), None)


async def test_leader_forces_a_pause_and_logs_an_agent_off_in_their_own_team_only(live: LiveStack, api) -> None:  # type: ignore[no-untyped-def]
    status, state = await api("PUT", "/api/agents/1001/state", "leader", {"state": "paused", "reason": "coaching"})
    assert status == 200 and (state["state"], state["reason"]) == ("paused", "coaching")
    assert ((m := await member(live, "1001")) and (m["Paused"], m["PausedReason"])) == ("1", "coaching")
    status, body = await api("PUT", "/api/agents/1003/state", "leader", {"state": "paused", "reason": "coaching"})
    assert status == 404 and "your team" in body["error"]  # 1003 is in team B
    assert (await member(live, "1003"))["Paused"] == "0"
    assert (await api("PUT", "/api/agents/1001/state", "agent1002", {"state": "available"}))[0] == 403

    status, state = await api("PUT", "/api/agents/1002/state", "leader", {"state": "logged_out"})
    assert status == 200 and state["state"] == "logged_out" and await member(live, "1002") is None
    status, state = await api("PUT", "/api/agents/1002/state", "supervisor", {"state": "available"})
    assert status == 200 and state["state"] == "available" and await member(live, "1002") is not None
    status, state = await api("PUT", "/api/agents/1003/state", "supervisor", {"state": "paused", "reason": "meeting"})
    assert status == 200 and state["reason"] == "meeting"  # a supervisor acts on every team


async def test_leader_listens_to_a_live_call(live: LiveStack, api) -> None:  # type: ignore[no-untyped-def]
    status, body = await api("POST", "/api/agents/1001/spy", "leader", {"mode": "listen"})
    assert status == 409 and "not on a call" in body["error"]
    assert (await api("POST", "/api/agents/1001/spy", "leader", {"mode": "shout"}))[0] == 400
    for extension in ("1003", "1004"):  # the support call goes to team A: 1001 or 1002
        await live.service.bridge.control.pause(extension, "break")
    with live.ami.events(["ChanSpyStart"]) as spying, live.service.bridge.bus.subscribe() as events:
        call = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=6))
        agent = (await first_answered(live)).agent
        status, body = await api("POST", f"/api/agents/{agent}/spy", "leader", {"mode": "listen"})
        assert status == 202 and body["mode"] == "listen"
        started = await spying.get(timeout=10)
        assert f"/{agent}@" in started["SpyeeChannel"]  # the leader's phone hears the agent's call
        assert (await api("DELETE", f"/api/agents/{agent}/spy/{body['spy_id']}", "supervisor"))[0] == 409  # not the supervisor's
        with live.ami.events(["ChanSpyStop"]) as stopping:
            status, stopped = await api("DELETE", f"/api/agents/{agent}/spy/{body['spy_id']}", "leader")
            assert status == 200 and stopped["mode"] == "stopped"
            await stopping.get(timeout=10)  # the leader's leg is gone ...
        assert any(c.agent == agent for c in live.service.bridge.live_calls())  # ... the agent's call goes on
        # Every worker's boards hear it from telephony: the listen began, and ended with the leg's Hangup.
        monitored = []
        async with asyncio.timeout(10):
            while len(monitored) < 2:
                if isinstance(event := await events.get(timeout=10), AgentMonitored) and event.spy_id == body["spy_id"]:
                    monitored.append(event)
        assert [(e.agent, e.leader, e.mode) for e in monitored] == [(agent, "2001", "listen"), (agent, "2001", None)]
        assert monitored[0].leader_name not in ("", "2001")  # the leader's name, for the boards
        await call
