"""Inbound calls through the real sandbox Asterisk, our FastAGI routing and the call log — on
SQLite and on PostgreSQL. Each test checks what a call-center user sees: the call row, who got
the call, the agent's state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.models import Call, CallDirection, Customer, CustomerPhone, User
from crm.phones import normalize_phone
from telephony.agents.state import AgentState
from telephony.calls.control import CallControlError
from telephony.events import DomainEvent, Subscription
from telephony.sandbox.calls import place_call
from tests.audio import wav_stats
from tests.conftest import LiveStack
from tests.live_calls import agent_becomes, agent_log, next_event, of_call, reset_agents, set_phone, stored_call, unknown_number

pytestmark = pytest.mark.usefixtures("ready")


@pytest.fixture
async def ready(live: LiveStack) -> None:
    await reset_agents(live)


async def customer_id(live: LiveStack, name: str) -> int:
    async with live.sessions() as session:
        found = await session.scalar(select(Customer.id).where(Customer.name == name))
    assert found is not None
    return found


async def test_answered_inbound_call_is_logged_complete(live: LiveStack) -> None:
    before = datetime.now(UTC)
    result = await place_call(
        live.ami, did="4001", caller="0014155552671", caller_name="John Smith", talk_seconds=2
    )
    assert result.outcome == "answered"
    row = await stored_call(live, result.linkedid)

    assert row.direction == CallDirection.INBOUND and row.server == "default"
    assert (row.did, row.caller_number, row.caller_name) == ("4001", "0014155552671", "John Smith")
    assert row.customer_id == await customer_id(live, "John Smith")
    assert (row.queue, row.route, row.disposition, row.hangup_side) == ("support", "queue", "answered", "caller")
    assert row.agent_extension in {"1001", "1002", "1003"} and row.agent_id is not None
    assert before <= row.started_at <= row.queued_at <= row.offered_at <= row.answered_at <= row.ended_at
    assert 0 <= row.wait_s < 5
    assert 1.5 <= row.talk_s <= 4
    assert row.offers[-1]["agent"] == row.agent_extension and row.offers[-1]["result"] == "answered"
    recordings = Path(live.sandbox.recordings_dir)
    assert [Path(name).name.rsplit("-", 1)[1] for name in row.recordings] == ["caller.wav", "agent.wav", "mix.wav"]
    for name in row.recordings:
        for _ in range(50):
            if (recordings / name).exists():
                break
            await asyncio.sleep(0.1)
        assert (recordings / name).stat().st_size > 1000, name


async def test_agent_goes_ringing_on_call_wrap_up_available_and_wrap_up_is_logged(live: LiveStack) -> None:
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4002", caller=unknown_number(), talk_seconds=1.5))
        offered = await next_event(events, lambda e: e.name == "call.offered")
        agent = offered.agent  # type: ignore[attr-defined]
        for state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.AVAILABLE):
            await next_event(events, agent_becomes(agent, state))
        result = await task
    row = await stored_call(live, result.linkedid)
    for _ in range(50):
        async with live.sessions() as session:
            wrapup = (await session.get(Call, row.id, populate_existing=True)).wrapup_s
        if wrapup is not None:
            break
        await asyncio.sleep(0.1)
    assert wrapup is not None and 0.8 <= wrapup <= 2.5  # the sales queue's wrapup_s is 1


async def test_caller_who_hangs_up_in_the_queue_is_abandoned(live: LiveStack) -> None:
    result = await place_call(live.ami, did="4999", caller=unknown_number(), hangup_after_wait=1.5)
    row = await stored_call(live, result.linkedid)
    assert (row.queue, row.disposition, row.hangup_side) == ("nobody", "abandoned", "caller")
    assert row.answered_at is None and row.agent_extension is None and row.customer_id is None
    assert 1.0 <= row.wait_s <= 4


async def test_queue_without_agents_gives_up_as_no_agent(live: LiveStack) -> None:
    result = await place_call(live.ami, did="4997", caller=unknown_number(), hangup_after_wait=8)
    row = await stored_call(live, result.linkedid)
    assert (row.queue, row.disposition) == ("empty", "no_agent")
    assert 1.5 <= row.wait_s <= 5  # the queue's max_wait_s is 2


async def test_ring_no_answer_is_kept_and_the_next_agent_answers(live: LiveStack) -> None:
    await reset_agents(live)  # 1002 must be free to take the call 1001 lets ring out
    await set_phone(live, "1001", mode="noanswer")
    with live.service.bus.subscribe() as events:
        result = await place_call(live.ami, did="4996", caller=unknown_number(), talk_seconds=1)
        missed = await next_event(events, lambda e: e.name == "call.ring_no_answer", timeout=1)
    assert missed.agent == "1001"  # type: ignore[attr-defined]
    row = await stored_call(live, result.linkedid)
    assert row.disposition == "answered" and row.agent_extension == "1002"
    assert [(o["agent"], o["result"]) for o in row.offers] == [("1001", "no_answer"), ("1002", "answered")]
    assert row.wait_s >= 2  # rang 1001 for the queue's 2 s first


async def new_customer(live: LiveStack, name: str, **fields: object) -> tuple[int, str]:
    """A customer of this test alone (no past calls, so no preferred agent), and their number."""
    number = unknown_number()
    async with live.sessions() as session, session.begin():
        customer = Customer(name=name, phones=[CustomerPhone(number=number, normalized=normalize_phone(number))], **fields)
        session.add(customer)
    return customer.id, number


async def test_key_account_goes_ahead_of_earlier_callers(live: LiveStack) -> None:
    vip_id, vip_number = await new_customer(live, "张三丰", key_account=True)
    with live.ami.events(["QueueCallerJoin"]) as joins:
        ordinary = asyncio.create_task(place_call(live.ami, did="4999", caller=unknown_number(), hangup_after_wait=4))
        await joins.wait_for(lambda e: e["Queue"] == "nobody", timeout=5)
        vip = asyncio.create_task(place_call(live.ami, did="4999", caller=vip_number, caller_name="张三丰", hangup_after_wait=2.5))
        join = await joins.wait_for(lambda e: e["CallerIDNum"] == vip_number, timeout=5)
    assert join["Position"] == "1"  # ahead of the caller already waiting
    vip_row = await stored_call(live, (await vip).linkedid)
    ordinary_row = await stored_call(live, (await ordinary).linkedid)
    assert (vip_row.priority, vip_row.customer_id, vip_row.caller_name) == (10, vip_id, "张三丰")
    assert ordinary_row.priority == 0


async def test_preferred_agent_gets_the_returning_customer_first(live: LiveStack) -> None:
    customer = await customer_id(live, "李四")
    async with live.sessions() as session, session.begin():
        agent_id = await session.scalar(select(User.id).where(User.extension == "1002"))
        session.add(
            Call(
                linkedid=f"past-{customer}-{datetime.now(UTC).timestamp()}",
                direction=CallDirection.INBOUND,
                customer_id=customer,
                agent_id=agent_id,
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                answered_at=datetime.now(UTC) - timedelta(minutes=5),
                ended_at=datetime.now(UTC) - timedelta(minutes=4),
                disposition="answered",
            )
        )
    result = await place_call(live.ami, did="4001", caller="13900139000", caller_name="李四", talk_seconds=1)
    row = await stored_call(live, result.linkedid)
    assert (row.route, row.agent_extension, row.customer_id) == ("preferred", "1002", customer)
    assert row.offers[0]["agent"] == "1002" and row.disposition == "answered"


async def test_customer_at_risk_is_routed_to_the_senior_queue(live: LiveStack) -> None:
    result = await place_call(live.ami, did="4001", caller="13700137000", caller_name="王五", talk_seconds=1)
    row = await stored_call(live, result.linkedid)
    assert (row.queue, row.agent_extension, row.disposition) == ("senior", "1004", "answered")
    assert row.customer_id == await customer_id(live, "王五")


async def test_unknown_caller_is_answered_without_a_customer(live: LiveStack) -> None:
    number = unknown_number()
    result = await place_call(live.ami, did="4001", caller=number, talk_seconds=1)
    row = await stored_call(live, result.linkedid)
    assert (row.caller_number, row.customer_id, row.route, row.disposition) == (number, None, "queue", "answered")


async def test_a_recording_that_cannot_be_written_never_stops_the_call(live: LiveStack) -> None:
    original = (await live.ami.action("Getvar", Variable="CC_RECORDINGS")).get("Value")
    # Nobody, root included, can make a folder under a regular file: MixMonitor cannot open its files.
    await live.ami.action("Setvar", Variable="CC_RECORDINGS", Value="/etc/passwd/recordings")
    try:
        result = await place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=1.5)
    finally:
        await live.ami.action("Setvar", Variable="CC_RECORDINGS", Value=original)
    assert result.outcome == "answered"
    row = await stored_call(live, result.linkedid)
    assert (row.disposition, row.hangup_side) == ("answered", "caller")
    assert 1 <= row.talk_s <= 4
    assert not any((Path(live.sandbox.recordings_dir) / name).exists() for name in row.recordings)


async def test_call_out_of_hours_hears_the_message_and_is_logged(live: LiveStack) -> None:
    result = await place_call(live.ami, did="4995", caller=unknown_number(), hangup_after_wait=20)
    row = await stored_call(live, result.linkedid)
    assert (row.route, row.disposition, row.queue) == ("closed", "out_of_hours", "closedmsg")
    assert row.queued_at is None and row.answered_at is None and row.recordings == []
    assert row.hangup_side == "system"  # the message ended and we hung up


async def test_call_out_of_hours_leaves_a_voicemail(live: LiveStack) -> None:
    result = await place_call(live.ami, did="4998", caller=unknown_number(), hangup_after_wait=8)
    row = await stored_call(live, result.linkedid)
    assert (row.route, row.disposition, row.hangup_side) == ("closed", "out_of_hours", "caller")
    assert len(row.recordings) == 1 and row.recordings[0].endswith("-voicemail.wav")
    voicemail = Path(live.sandbox.recordings_dir) / row.recordings[0]
    for _ in range(30):
        if voicemail.exists():
            break
        await asyncio.sleep(0.1)
    duration, rms = wav_stats(voicemail)
    assert duration >= 1.5 and rms > 0.01  # the caller's words, after the message and the tone


async def test_hold_and_resume_are_counted(live: LiveStack) -> None:
    for extension in ("1001", "1002", "1003"):
        await set_phone(live, extension, hold=1.5, hold_after=0.5)
    with live.service.bus.subscribe() as events:
        result = await place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=3.5)
        held = [e.name for e in _drain(events) if getattr(e, "call", None) and e.call.linkedid == result.linkedid]
    assert held.count("call.held") == 1 and held.count("call.resumed") == 1
    row = await stored_call(live, result.linkedid)
    assert row.hold_count == 1 and 1.0 <= row.hold_s <= 2.5
    assert row.talk_s is not None and row.talk_s + row.hold_s <= 4.5


async def test_hold_and_resume_from_the_desktop(live: LiveStack) -> None:
    await reset_agents(live)  # no sandbox phone holds by itself
    control = live.service.bridge.call_control
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=4))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        await control.hold(linkedid)
        await next_event(events, of_call(linkedid, "call.held"))
        with pytest.raises(CallControlError, match="already on hold"):
            await control.hold(linkedid)
        await asyncio.sleep(1.5)
        await control.resume(linkedid)
        resumed = await next_event(events, of_call(linkedid, "call.resumed"))
        with pytest.raises(CallControlError, match="not on hold"):
            await control.resume(linkedid)
        await task
    assert 1.2 <= resumed.held_s <= 3  # type: ignore[attr-defined]
    row = await stored_call(live, linkedid)
    assert (row.disposition, row.hold_count, row.hangup_side, row.transfers) == ("answered", 1, "caller", [])
    assert 1.2 <= row.hold_s <= 3


@contextlib.asynccontextmanager
async def held_from_the_desktop(live: LiveStack) -> AsyncIterator[tuple[Subscription, DomainEvent]]:
    """A support call answered and put on hold from the desktop: (the bus's events, call.answered)."""
    await reset_agents(live)
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=30))
        try:
            answered = await next_event(events, lambda e: e.name == "call.answered")
            linkedid = answered.call.linkedid  # type: ignore[attr-defined]
            await live.service.bridge.call_control.hold(linkedid)
            await next_event(events, of_call(linkedid, "call.held"))
            yield events, answered
        finally:
            task.cancel()


async def test_agent_hanging_up_on_a_held_customer_ends_the_call(live: LiveStack) -> None:
    bridge = live.service.bridge
    async with held_from_the_desktop(live) as (events, answered):
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        _, agent_channel = next(t.channels(linkedid) for t in bridge.calls.values() if t.get(linkedid))
        await live.ami.action("Hangup", Channel=agent_channel)  # the agent puts the phone down
        ended = await next_event(events, of_call(linkedid, "call.ended"), timeout=5)
    assert (ended.call.disposition, ended.call.hangup_side, ended.call.transfers) == ("answered", "agent", [])  # type: ignore[attr-defined]
    assert bridge.find_call(linkedid) is None  # nobody is left waiting on the hold line


async def test_customer_hanging_up_while_held_ends_the_agents_leg_too(live: LiveStack) -> None:
    bridge = live.service.bridge
    async with held_from_the_desktop(live) as (events, answered):
        agent, linkedid = answered.agent, answered.call.linkedid  # type: ignore[attr-defined]
        await bridge.call_control.hang_up(linkedid)  # the customer's leg goes
        ended = await next_event(events, of_call(linkedid, "call.ended"), timeout=5)
        await next_event(events, agent_becomes(agent, AgentState.WRAP_UP), timeout=5)
    assert ended.call.disposition == "answered" and ended.call.hold_count == 1  # type: ignore[attr-defined]
    assert bridge.find_call(linkedid) is None  # the agent is not left on the hold line


async def test_customer_hanging_up_as_the_hold_starts_frees_the_agent(live: LiveStack) -> None:
    """Atxfer dials the hold line by DTMF, a second or two: a customer gone before it is up must
    not leave the agent's phone on a line that holds nobody."""
    bridge = live.service.bridge
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=30))
        try:
            answered = await next_event(events, lambda e: e.name == "call.answered")
            agent, linkedid = answered.agent, answered.call.linkedid  # type: ignore[attr-defined]
            holding = asyncio.create_task(bridge.call_control.hold(linkedid))
            await asyncio.sleep(0.3)
            await bridge.call_control.hang_up(linkedid)
            ended = await next_event(events, of_call(linkedid, "call.ended"), timeout=10)
            await next_event(events, agent_becomes(agent, AgentState.WRAP_UP), timeout=5)
            with contextlib.suppress(CallControlError):
                await holding
        finally:
            task.cancel()
    assert (ended.call.disposition, ended.call.hangup_side) == ("answered", "caller")  # type: ignore[attr-defined]
    assert bridge.find_call(linkedid) is None


def _drain(subscription) -> list:  # type: ignore[no-untyped-def]
    events = []
    while subscription.pending():
        events.append(subscription.get_nowait())
    return events


async def test_blind_transfer_to_another_queue(live: LiveStack) -> None:
    bridge = live.service.bridge
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=6))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        first_agent = answered.agent  # type: ignore[attr-defined]
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        await bridge.call_control.blind_transfer(linkedid, queue="senior")
        await next_event(events, of_call(linkedid, "call.transferred"))
        await next_event(events, agent_becomes(first_agent, AgentState.WRAP_UP))
        again = await next_event(events, of_call(linkedid, "call.answered"))
        assert again.agent == "1004"  # type: ignore[attr-defined]  # the only senior agent
        await task
    row = await stored_call(live, linkedid)
    assert row.queue == "senior" and row.agent_extension == "1004" and row.disposition == "answered"
    assert len(row.transfers) == 1
    assert (row.transfers[0]["kind"], row.transfers[0]["from_agent"], row.transfers[0]["target"]) == (
        "blind",
        first_agent,
        "q-senior",
    )


async def test_blind_transfer_to_an_outside_number(live: LiveStack) -> None:
    bridge = live.service.bridge
    number = unknown_number()
    with live.service.bus.subscribe() as events, live.ami.events(["DialBegin"]) as dials:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=5))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        first_agent, linkedid = answered.agent, answered.call.linkedid  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        await bridge.call_control.blind_transfer(linkedid, number=number)
        await next_event(events, of_call(linkedid, "call.transferred"))
        await next_event(events, agent_becomes(first_agent, AgentState.WRAP_UP))
        await dials.wait_for(lambda e: e.get("Linkedid") == linkedid and e.get("DestExten") == number, timeout=10)
        result = await task
    assert result.outcome == "answered"
    row = await stored_call(live, linkedid)
    assert (row.disposition, row.agent_extension, row.hangup_side) == ("answered", first_agent, "caller")
    assert [(t["kind"], t["from_agent"], t["target"]) for t in row.transfers] == [("blind", first_agent, number)]


async def test_attended_transfer_to_another_agent(live: LiveStack) -> None:
    control = live.service.bridge.call_control
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=6))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        first_agent, linkedid = answered.agent, answered.call.linkedid  # type: ignore[attr-defined]
        await asyncio.sleep(0.3)
        await control.attended_transfer(linkedid, agent="1004")
        await next_event(events, of_call(linkedid, "call.held"))  # the customer waits while 1004 is consulted
        await asyncio.sleep(2.5)  # the digits' timeout, then 1004's phone rings and answers
        await control.complete_transfer(linkedid)
        transferred = await next_event(events, of_call(linkedid, "call.transferred"))
        await next_event(events, agent_becomes(first_agent, AgentState.WRAP_UP))
        again = await next_event(events, of_call(linkedid, "call.answered"))
        assert again.agent == "1004"  # type: ignore[attr-defined]
        await task
    assert (transferred.kind, transferred.from_agent, transferred.target) == ("attended", first_agent, "1004")  # type: ignore[attr-defined]
    row = await stored_call(live, linkedid)
    assert (row.agent_extension, row.disposition, row.hold_count) == ("1004", "answered", 1)
    assert [(t["kind"], t["from_agent"], t["target"]) for t in row.transfers] == [("attended", first_agent, "1004")]


async def test_pause_with_reason_then_unpause(live: LiveStack) -> None:
    bridge = live.service.bridge
    since = datetime.now(UTC)
    with live.service.bus.subscribe() as events:
        await bridge.control.pause("1002", "lunch")
        await next_event(events, agent_becomes("1002", AgentState.PAUSED, "lunch"), timeout=5)
        members = await live.ami.collect("QueueStatus", Queue="support")
        member = next(m for m in members if m.get("Event") == "QueueMember" and "1002" in m["Location"])
        assert (member["Paused"], member["PausedReason"]) == ("1", "lunch")
        await bridge.control.unpause("1002")
        await next_event(events, agent_becomes("1002", AgentState.AVAILABLE), timeout=5)
    await live.service.calllog.drained(5)
    log = [(row.state, row.reason) for row in await agent_log(live, "1002", since)]
    assert log[-2:] == [("paused", "lunch"), ("available", None)]


async def test_unknown_pause_reason_is_refused(live: LiveStack) -> None:
    from telephony.agents.control import AgentControlError

    with pytest.raises(AgentControlError, match="unknown pause reason"):
        await live.service.bridge.control.pause("1002", "nap")
    assert live.service.bridge.agents.is_available("1002")


async def test_logout_and_login_change_queue_membership(live: LiveStack) -> None:
    bridge = live.service.bridge
    with live.service.bus.subscribe() as events:
        await bridge.control.logout("1003")
        await next_event(events, agent_becomes("1003", AgentState.LOGGED_OUT), timeout=5)
        members = await live.ami.collect("QueueStatus")
        assert not [m for m in members if m.get("Event") == "QueueMember" and "1003" in m.get("Location", "")]
        await bridge.control.login("1003", ["support", "sales"], name="Agent 1003")
        await next_event(events, agent_becomes("1003", AgentState.AVAILABLE), timeout=5)
    for _ in range(50):  # one QueueMemberAdded per queue; available after the first
        if bridge.agents.get("1003").queues == ["sales", "support"]:
            break
        await asyncio.sleep(0.1)
    assert bridge.agents.get("1003").queues == ["sales", "support"]


async def test_calls_still_route_to_the_did_queue_when_our_fastagi_is_down(live: LiveStack) -> None:
    service = live.service
    await service.agi.close()
    try:
        result = await place_call(live.ami, did="4002", caller="13700137000", caller_name="王五", talk_seconds=1)
    finally:
        await service.agi.start(service.settings.agi.host, service.settings.agi.port)
    row = await stored_call(live, result.linkedid)
    # No CRM lookup: the DID's default queue, not the risk queue; still answered and logged.
    assert (row.route, row.queue, row.customer_id, row.disposition) == ("fallback", "sales", None, "answered")
