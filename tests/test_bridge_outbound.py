"""Click-to-dial and team-leader spying through the real sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from telephony.agents.state import AgentState
from telephony.calls.control import BadTarget
from telephony.outbound.dialer import DialError, NotAllowed, dialable_number, spy_prefix
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import agent_becomes, next_event, of_call, reset_agents, stored_call, unknown_number

pytestmark = pytest.mark.usefixtures("ready")


@pytest.fixture
async def ready(live: LiveStack) -> None:
    await reset_agents(live)


async def callee_mode(live: LiveStack, number: str, mode: str) -> None:
    await live.admin.action("DBPut", Family=f"simcallee/{number}", Key="mode", Val=mode)


async def test_click_to_dial_answered_is_tracked_and_logged_as_outbound(live: LiveStack) -> None:
    bridge = live.service.bridge
    number = unknown_number()
    with live.service.bus.subscribe() as events, live.ami.events(["DialBegin"]) as dials:
        linkedid = await bridge.dialer.click_to_dial("1003", number, agent_name="Agent 1003")
        dial = await dials.wait_for(lambda e: e.get("Linkedid") == linkedid, timeout=10)
        # the customer sees the call center's outbound number, not the agent's extension
        assert dial["DestConnectedLineNum"] == live.service.settings.sandbox.outbound_caller_id
        answered = await next_event(events, of_call(linkedid, "call.answered"))
        assert answered.agent == "1003"  # type: ignore[attr-defined]
        await next_event(events, agent_becomes("1003", AgentState.ON_CALL))
        await asyncio.sleep(1.5)
        await bridge.call_control.hang_up(linkedid)
        await next_event(events, of_call(linkedid, "call.ended"))
    row = await stored_call(live, linkedid)
    assert (row.direction, row.called_number, row.agent_extension) == ("outbound", number, "1003")
    assert (row.disposition, row.hangup_side) == ("answered", "caller")
    assert 1.0 <= row.talk_s <= 3.5 and row.wait_s is None
    assert [name.rsplit("-", 1)[1] for name in row.recordings] == ["caller.wav", "agent.wav", "mix.wav"]


async def test_click_to_dial_busy_unanswered_and_unreachable_customers(live: LiveStack) -> None:
    bridge = live.service.bridge
    busy, silent, unreachable = unknown_number(), unknown_number(), unknown_number()
    await callee_mode(live, busy, "busy")
    await callee_mode(live, silent, "noanswer")
    await callee_mode(live, unreachable, "congestion")
    with live.service.bus.subscribe() as events:
        busy_call = await bridge.dialer.click_to_dial("1001", busy)
        silent_call = await bridge.dialer.click_to_dial("1002", silent)
        unreachable_call = await bridge.dialer.click_to_dial("1003", unreachable)
        ended: set[str] = set()
        while ended != {busy_call, unreachable_call}:  # in whichever order they end
            done = await next_event(events, lambda e: e.name == "call.ended" and e.call.linkedid in {busy_call, unreachable_call})
            ended.add(done.call.linkedid)  # type: ignore[attr-defined]
        await asyncio.sleep(2)  # the agent listens to it ring, then gives up
        await bridge.call_control.hang_up(silent_call)
        await next_event(events, of_call(silent_call, "call.ended"))
    busy_row = await stored_call(live, busy_call)
    silent_row = await stored_call(live, silent_call)
    unreachable_row = await stored_call(live, unreachable_call)
    assert (busy_row.direction, busy_row.disposition, busy_row.answered_at) == ("outbound", "busy", None)
    assert (silent_row.disposition, silent_row.answered_at, silent_row.agent_extension) == ("no_answer", None, "1002")
    assert (unreachable_row.disposition, unreachable_row.answered_at, unreachable_row.agent_extension) == (
        "failed",
        None,
        "1003",
    )


async def test_click_to_dial_refuses_what_is_not_a_number(live: LiveStack) -> None:
    with pytest.raises(DialError, match="not a phone number"):
        await live.service.bridge.dialer.click_to_dial("1001", "13800138000\r\nAction: Logoff")
    assert dialable_number("+86 138-0013-8000") == "008613800138000"


async def test_outside_numbers_off_the_allow_list_are_never_dialled_nor_transferred_to(live: LiveStack) -> None:
    """Toll fraud: a stolen agent login calls premium or international numbers. Refused before any
    AMI action, for click-to-dial and for both kinds of transfer; the customer's call goes on."""
    bridge = live.service.bridge
    with live.ami.events(["Newchannel"]) as channels:
        with pytest.raises(NotAllowed):
            await bridge.dialer.click_to_dial("1001", "+44 20 7946 0958")
        await asyncio.sleep(0.5)
        assert channels.pending() == 0, "a channel was created for a refused number"
    with live.service.bus.subscribe() as events:
        call = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=3))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        for transfer in (bridge.call_control.blind_transfer, bridge.call_control.attended_transfer):
            with pytest.raises(BadTarget, match="may call"):
                await transfer(linkedid, number="0088212345678")
        result = await call
    assert result.outcome == "answered" and result.talk_s >= 2.5  # the customer talked on to the end


async def test_leader_listens_to_an_agent_on_a_call(live: LiveStack) -> None:
    bridge = live.service.bridge
    with live.service.bus.subscribe() as events, live.ami.events(["ChanSpyStart"]) as spying:
        call = asyncio.create_task(place_call(live.ami, did="4002", caller=unknown_number(), talk_seconds=5))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        agent = answered.agent  # type: ignore[attr-defined]
        with pytest.raises(DialError, match="not on a call"):
            await bridge.dialer.spy("2001", "1001" if agent != "1001" else "1002", "listen")
        await bridge.dialer.spy("2001", agent, "listen")
        start = await spying.wait_for(lambda e: True, timeout=6)
        await call
    assert start["SpyerChannel"].startswith("Local/2001@sim-phones-")
    assert start["SpyeeChannel"].startswith(spy_prefix(bridge.patterns["default"].interface(agent)))
