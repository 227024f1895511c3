"""Queue callbacks on the sandbox (docs/callbacks.md): a caller who presses 1 leaves the queue and is
called back when their turn comes — not before those who waited longer, not after those who came later."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Settings
from crm.db import create_engine, session_factory
from agent_ui.realtime import call_payload
from crm.models import Call, QueueCallback
from telephony.callbacks.service import outcome_after_restart
from telephony.events import CallEvent
from telephony.sandbox.calls import place_call, press_keys
from tests.conftest import TEST_QUEUES, LiveStack
from tests.test_bridge_calls import _drain
from tests.live_calls import next_event, of_call, reset_agents, stored_call, unknown_number
from tests.test_campaigns_restart import own_database, serve_config, start_serve  # noqa: F401 - own_database is a fixture

QUEUE, DID, AGENT = "callback", "4992", "1004"
SETTLED = ("done", "failed")


@contextlib.asynccontextmanager
async def only_agent_paused(live: LiveStack):  # type: ignore[no-untyped-def]
    """1004, paused, is the callback queue's only member until the test unpauses it."""
    await reset_agents(live)
    interface = live.service.bridge.patterns["default"].interface(AGENT)
    await live.admin.action("QueueAdd", Queue=QUEUE, Interface=interface, Paused="true", MemberName=AGENT)
    try:
        yield lambda: live.admin.action("QueuePause", Queue=QUEUE, Interface=interface, Paused="false")
    finally:
        await live.admin.action("QueueRemove", Queue=QUEUE, Interface=interface)


async def request_in(sessions, requested_linkedid: str, statuses: tuple[str, ...], timeout: float = 10.0, *, serve=None) -> QueueCallback:  # type: ignore[no-untyped-def]
    """The callback request once its status is one of ``statuses`` (the service settles an attempt
    after the bus says its call ended); with ``serve`` (process, log), failing at once if it died."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessions() as session:
            row = await session.scalar(select(QueueCallback).where(QueueCallback.requested_linkedid == requested_linkedid))
        if row is not None and row.status in statuses:
            return row
        died = serve is not None and serve[0].returncode is not None
        assert not died and asyncio.get_running_loop().time() < deadline, f"request {row and row.status}, not {statuses}" + (
            "\n" + serve[1].read_text()[-3000:] if serve is not None else ""
        )
        await asyncio.sleep(0.1)


def in_queue(e) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(e, CallEvent) and e.call.queue == QUEUE


async def test_a_callback_is_offered_at_the_callers_place_and_placed_once(live: LiveStack) -> None:
    bridge = live.service.bridge
    numbers = [unknown_number() for _ in range(3)]
    await live.admin.action("DBPut", Family=f"simcallee/{numbers[1]}", Key="talk", Val="2")  # the called-back customer
    originated = live.service.callbacks.originated
    async with only_agent_paused(live) as unpause:
        with bridge.bus.subscribe() as events, live.admin.events(["Newchannel"]) as channels:
            calls = []
            for number in numbers:
                calls.append(asyncio.create_task(place_call(live.ami, did=DID, caller=number, talk_seconds=2)))
                await next_event(events, lambda e: e.name == "call.queued" and e.call.caller_number == number)  # type: ignore[attr-defined]
            first, second, third = [next(c.linkedid for c in bridge.live_calls() if c.caller_number == n) for n in numbers]
            await press_keys(live.ami, bridge.calls["default"].channels(second)[0], "1")
            asked = await next_event(events, of_call(second, "call.callback_requested"))
            # The stand-in joins while the caller still hears the goodbye.
            stand_in = await next_event(events, lambda e: e.name == "call.queued" and e.call.callback_id is not None)  # type: ignore[attr-defined]
            ended = await next_event(events, of_call(second, "call.ended"), timeout=20)
            assert stand_in.position == 2  # type: ignore[attr-defined]  # behind the first caller, ahead of the third
            await unpause()
            answered, pops = [], []
            while len(answered) < 3:
                event = await next_event(events, lambda e: e.name in ("call.answered", "call.offered") and in_queue(e), timeout=30)
                (answered if event.name == "call.answered" else pops).append(event)
            await asyncio.gather(*calls)
            callback_call = await stored_call(live, answered[1].call.linkedid)  # type: ignore[attr-defined]
            stand_ins = [e for e in _drain(channels) if "@cc-callback-queue" in e.get("Channel", "") and e.get("Channel", "").endswith(";1")]
    assert asked.number == numbers[1]  # type: ignore[attr-defined]  # the number they called from
    assert ended.call.disposition == "callback"  # type: ignore[attr-defined]  # not an abandon
    order = [e.call.linkedid if e.call.callback_id is None else "callback" for e in answered]  # type: ignore[attr-defined]
    assert order == [first, "callback", third]
    callback = answered[1].call  # type: ignore[attr-defined]
    assert callback.agent == AGENT and callback.called_number == numbers[1]
    assert callback.waiting_since == ended.call.queued_at  # type: ignore[attr-defined]  # the pop's waited time runs from here
    assert live.service.callbacks.originated - originated == 1 and len(stand_ins) == 1
    (pop,) = [call_payload(e.call, now=e.at) for e in pops if e.call.callback_id is not None]  # type: ignore[attr-defined]
    waited = (next(e.at for e in pops if e.call.callback_id is not None) - ended.call.queued_at).total_seconds()  # type: ignore[attr-defined]
    assert pop["callback"] is True and pop["wait_s"] == round(waited, 1)  # the agent's pop: callback, waited since the caller queued
    request = await request_in(live.sessions, second, SETTLED)
    async with live.sessions() as session:
        rows = list(await session.scalars(select(Call).where(Call.callback_id == request.id)))
    assert (request.status, request.attempts, request.outcome, request.number) == ("done", 1, "answered", numbers[1])
    assert [row.linkedid for row in rows] == [callback_call.linkedid]
    assert (callback_call.disposition, callback_call.called_number, callback_call.queue) == ("answered", numbers[1], QUEUE)
    original = await stored_call(live, second)
    assert original.disposition == "callback"


async def test_a_callback_to_a_keyed_in_number_is_tried_again_after_busy(live: LiveStack) -> None:
    """Key 2 and another number; the line is busy at the first attempt, so the callback waits the
    queue's callback_retry_s (10 s here) and goes to the front of the queue again."""
    bridge = live.service.bridge
    caller, other = unknown_number(), unknown_number()
    await live.admin.action("DBPut", Family=f"simcallee/{other}", Key="mode", Val="busy")
    await live.admin.action("DBPut", Family=f"simcallee/{other}", Key="talk", Val="2")
    async with only_agent_paused(live) as unpause:
        with bridge.bus.subscribe() as events:
            call = asyncio.create_task(place_call(live.ami, did=DID, caller=caller, talk_seconds=2))
            queued = await next_event(events, lambda e: e.name == "call.queued" and e.call.caller_number == caller)  # type: ignore[attr-defined]
            linkedid = queued.call.linkedid  # type: ignore[attr-defined]
            channel = bridge.calls["default"].channels(linkedid)[0]
            await press_keys(live.ami, channel, "2")
            await asyncio.sleep(1.0)  # the prompt for the number starts
            await press_keys(live.ami, channel, f"{other}#")
            asked = await next_event(events, of_call(linkedid, "call.callback_requested"), timeout=10)
            await unpause()
            first = await next_event(events, lambda e: e.name == "call.ended" and e.call.callback_id is not None, timeout=30)  # type: ignore[attr-defined]
            await live.admin.action("DBPut", Family=f"simcallee/{other}", Key="mode", Val="answer")
            second = await next_event(events, lambda e: e.name == "call.ended" and e.call.callback_id is not None, timeout=40)  # type: ignore[attr-defined]
            await call
    assert asked.number == other  # type: ignore[attr-defined]
    assert (first.call.disposition, first.call.agent, first.call.called_number) == ("busy", AGENT, other)  # type: ignore[attr-defined]
    assert second.call.disposition == "answered"  # type: ignore[attr-defined]
    gap = (second.call.started_at - first.call.ended_at).total_seconds()  # type: ignore[attr-defined]
    assert gap >= 9.5  # the retry waited the queue's gap
    request = await request_in(live.sessions, linkedid, SETTLED)
    assert (request.status, request.attempts, request.outcome, request.number) == ("done", 2, "answered", other)


async def test_serve_killed_while_a_callback_waits_calls_it_back_once(
    live: LiveStack, own_database: str, sandbox_settings_: Settings, tmp_path: Path
) -> None:
    """`callcenter serve` is SIGKILLed while a callback's stand-in waits in the queue; started again,
    it follows the stand-in it finds in Asterisk to its end: the customer is called once, the request
    settles as done."""
    numbers = [unknown_number() for _ in range(2)]
    await live.admin.action("DBPut", Family=f"simcallee/{numbers[1]}", Key="talk", Val="2")
    config = serve_config(tmp_path / "serve.toml", sandbox_settings_, own_database)
    with config.open("a", encoding="utf-8") as toml:  # serve's queues as the sandbox has them (callbacks included)
        for queue in TEST_QUEUES:
            if queue.schedule is None:
                keys = ("name", "dids", "strategy", "ring_timeout_s", "wrapup_s", "callback_after_s", "callback_retry_s")
                toml.write("[[queues]]\n" + "".join(f"{key} = {json.dumps(getattr(queue, key))}\n" for key in keys))
    engine = create_engine(own_database)
    sessions = session_factory(engine)
    # serve owns the callbacks in this test: the dialplan asks serve's FastAGI, not the test stack's
    agi_url = (await live.admin.action("Getvar", Variable="CC_AGI_URL")).get("Value", "")
    serve_agi = tomllib.loads(config.read_text(encoding="utf-8"))["agi"]["port"]
    await live.admin.action("Setvar", Variable="CC_AGI_URL", Value=f"agi://127.0.0.1:{serve_agi}")
    await live.service.callbacks.close()
    process = await start_serve(config, tmp_path / "serve.log")
    try:
        await _serving(process, tmp_path / "serve.log", 1)
        async with only_agent_paused(live) as unpause:
            with live.admin.events(["Newchannel", "DialBegin"]) as placed:
                calls = []
                for number in numbers:
                    calls.append(asyncio.create_task(place_call(live.ami, did=DID, caller=number, talk_seconds=2)))
                    await asyncio.sleep(0.5)
                second = await _linkedid_of(live, numbers[1])
                await press_keys(live.ami, live.service.bridge.calls["default"].channels(second)[0], "1")
                row = await request_in(sessions, second, ("calling",), 20, serve=(process, tmp_path / "serve.log"))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                process = await start_serve(config, tmp_path / "serve.log")
                await _serving(process, tmp_path / "serve.log", 2)
                await asyncio.sleep(1)  # and has its snapshot
                await unpause()
                row = await request_in(sessions, second, ("done",), 60, serve=(process, tmp_path / "serve.log"))
                await asyncio.gather(*calls)
                events = _drain(placed)
        deadline = asyncio.get_running_loop().time() + 5  # the call log writes its batch a moment after the callback is settled
        while True:
            async with sessions() as session:
                logged = list(await session.scalars(select(Call).where(Call.linkedid.like("cc-cb-%"))))
            if all(c.disposition for c in logged) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
    finally:
        await live.admin.action("Setvar", Variable="CC_AGI_URL", Value=agi_url)
        live.service.callbacks.start()
        if process.returncode is None:
            process.terminate()
            await process.wait()
        await engine.dispose()
    stand_ins = [e for e in events if e.get("Event") == "Newchannel" and e.get("Channel", "").startswith(f"Local/cb-{row.id}@")]
    rung = [e for e in events if e.get("Event") == "DialBegin" and e.get("DialString", "").startswith(f"{numbers[1]}@")]
    assert (row.attempts, row.outcome) == (1, "answered")
    # the restarted serve knew the stand-in it found for the callback's call it is
    assert [(c.callback_id, c.direction.value, c.disposition) for c in logged] == [(row.id, "outbound", "answered")]
    assert len(stand_ins) == 2 and len(rung) == 1  # one stand-in (its two halves), the customer rung once


async def _linkedid_of(live: LiveStack, number: str, timeout: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [c for c in live.service.bridge.live_calls() if c.caller_number == number and c.position is not None]
        if found:
            return found[0].linkedid
        assert asyncio.get_running_loop().time() < deadline, f"{number} never queued"
        await asyncio.sleep(0.1)


async def _serving(process, log: Path, times: int, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Until serve's log says it is serving for the ``times``-th time (its FastAGI listens)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while log.read_text(encoding="utf-8", errors="replace").count("serving on http") < times:
        assert process.returncode is None and asyncio.get_running_loop().time() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("mark", "logged", "outcome"),
    [
        ("ANSWER", None, "answered"),  # reached while serve was down: done, never called again
        ("BUSY", None, "busy"),
        ("CANCEL", None, "no_answer"),
        ("CONGESTION", None, "failed"),
        ("DIALLING", "answered", "answered"),  # Asterisk stopped mid-call: the call log's word
        (None, None, "failed"),  # nobody knows: retried while attempts are left
    ],
)
def test_an_attempt_that_ended_unheard_is_settled_by_what_asterisk_kept(mark: str | None, logged: str | None, outcome: str) -> None:
    assert outcome_after_restart(mark, logged) == outcome
