"""Helpers for tests that run calls through the sandbox and the live telephony stack."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from sqlalchemy import select

from crm.models import AgentStateLog, Call
from telephony.agents.state import AgentState
from telephony.events import CallEvent, DomainEvent, Subscription
from tests.conftest import TEST_AGENTS, LiveStack

SIM_AGENTS = tuple(agent.extension for agent in TEST_AGENTS)


def unknown_number() -> str:
    return "155" + "".join(random.choices("0123456789", k=8))


async def stored_call(live: LiveStack, linkedid: str, timeout: float = 15.0) -> Call:
    """The call's row once the call has ended and the logger has written it."""
    deadline = time.monotonic() + timeout
    while True:
        async with live.sessions() as session:
            row = await session.scalar(select(Call).where(Call.linkedid == linkedid))
        if row is not None and row.ended_at is not None:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"call {linkedid} not logged as ended within {timeout}s (row: {row and row.__dict__})")
        await asyncio.sleep(0.1)


async def first_answered(live: LiveStack, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """The first live call an agent has answered (a CallSnapshot)."""
    deadline = time.monotonic() + timeout
    while True:
        answered = [c for c in live.service.bridge.live_calls() if c.answered_at is not None and c.agent]
        if answered:
            return answered[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no call answered within {timeout}s")
        await asyncio.sleep(0.1)


async def agent_log(live: LiveStack, extension: str, since) -> list[AgentStateLog]:  # type: ignore[no-untyped-def]
    async with live.sessions() as session:
        rows = await session.scalars(
            select(AgentStateLog)
            .where(AgentStateLog.agent_extension == extension, AgentStateLog.at >= since)
            .order_by(AgentStateLog.at, AgentStateLog.id)
        )
        return list(rows)


async def set_phone(live: LiveStack, extension: str, **keys: object) -> None:
    """Sandbox phone behaviour in AstDB: mode=answer|noanswer|busy, ring=s, hold=s, hold_after=s."""
    for key, value in keys.items():
        if value is None:
            try:
                await live.admin.action("DBDel", Family=f"simphone/{extension}", Key=key)
            except Exception:  # noqa: BLE001 - not set is fine
                pass
        else:
            await live.admin.action("DBPut", Family=f"simphone/{extension}", Key=key, Val=str(value))


async def reset_agents(live: LiveStack, timeout: float = 15.0) -> None:
    """Every simulated phone answers, every agent is logged in, unpaused and available."""
    bridge = live.service.bridge
    try:
        await live.admin.action("DBDelTree", Family="simphone")
    except Exception:  # noqa: BLE001 - nothing stored is fine
        pass
    for agent in TEST_AGENTS:  # back in every sandbox queue (a test may have logged one off)
        current = bridge.agents.get(agent.extension)
        missing = sorted(set(agent.queues) - set(current.queues if current else []))
        if missing:
            await bridge.control.login(agent.extension, missing, name=agent.name)
    deadline = time.monotonic() + timeout
    while not all(bridge.agents.is_available(e) for e in SIM_AGENTS):
        for extension in SIM_AGENTS:  # again each time: a desktop may pause one for a disposition late
            agent = bridge.agents.get(extension)
            if agent is not None and agent.paused:
                await bridge.control.unpause(extension)
        if time.monotonic() > deadline:
            states = {e: (a.state if (a := bridge.agents.get(e)) else None) for e in SIM_AGENTS}
            await _hang_up_calls_of(live, [e for e, state in states.items() if state == AgentState.ON_CALL])
            raise AssertionError(f"agents not available: {states} (their calls are hung up for the next test)")
        await asyncio.sleep(0.1)


async def _hang_up_calls_of(live: LiveStack, extensions: list[str]) -> None:
    """A test that failed may leave a call up; the tests after it start clean, so one failure is
    reported once, not by every test behind it."""
    channels = await live.admin.collect("CoreShowChannels")
    stuck = {c.get("Linkedid") for c in channels for e in extensions if c.get("Channel", "").startswith(f"Local/{e}@")}
    stuck |= {call.linkedid for call in live.service.bridge.live_calls() if call.agent in extensions}
    for channel in channels:
        if channel.get("Linkedid") in stuck:
            with contextlib.suppress(Exception):
                await live.admin.action("Hangup", Channel=channel.get("Channel", ""))


async def next_event(
    subscription: Subscription, predicate: Callable[[DomainEvent], bool], timeout: float = 15.0
) -> DomainEvent:
    async with asyncio.timeout(timeout):
        while True:
            event = await subscription.get()
            if predicate(event):
                return event


def of_call(linkedid: str, name: str) -> Callable[[DomainEvent], bool]:
    return lambda e: isinstance(e, CallEvent) and e.call.linkedid == linkedid and e.name == name


def agent_becomes(extension: str, state: AgentState, reason: str | None = None) -> Callable[[DomainEvent], bool]:
    return lambda e: (
        e.name == "agent.state_changed"
        and e.agent.extension == extension  # type: ignore[attr-defined]
        and e.agent.state == state  # type: ignore[attr-defined]
        and (reason is None or e.agent.reason == reason)  # type: ignore[attr-defined]
    )
