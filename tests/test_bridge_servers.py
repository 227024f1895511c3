"""Two Asterisk servers behind one bridge: every call and agent state says which server it is on, and an
agent's actions go to the server they are on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from config import load_settings
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call
from sqlalchemy import select
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.bridge import Bridge
from telephony.calllog.writer import CallLogWriter
from telephony.commands import TelephonyCommands
from telephony.events import AgentStateChanged, CallEnded, CallStarted, EventBus
from telephony.sandbox import Sandbox, SandboxStatus
from telephony.sandbox.calls import place_call
from tests.conftest import sandbox_settings, unavailable
from tests.live_calls import unknown_number


async def act_on_the_second_server(bridge: Bridge, bus: EventBus) -> tuple[AgentSnapshot, str, str]:
    """Agent 3001 is on west: its pause and its click-to-dial go there, not to the first server (issue 17)."""
    commands = TelephonyCommands(bus, bridge.asterisks, bridge.control, bridge.call_control, bridge.dialer, {})
    async with asyncio.timeout(10):
        while (agent := commands.agent("3001")) is None or agent.state != AgentState.AVAILABLE:  # its wrap-up ends
            await asyncio.sleep(0.1)
    paused = await commands.set_agent_state("3001", "paused", queues=["support"], reason="break")
    assert paused is not None
    await commands.set_agent_state("3001", "available", queues=["support"])
    with bus.subscribe([CallStarted, CallEnded]) as events:
        linkedid = await commands.click_to_dial("3001", unknown_number())
        started = await events.wait_for(lambda e: e.call.linkedid == linkedid, timeout=10)  # type: ignore[attr-defined]
        await asyncio.sleep(1.0)
        if commands.find_call(linkedid) is not None:
            await commands.calls.hang_up(linkedid)
        ended = await events.wait_for(lambda e: isinstance(e, CallEnded) and e.call.linkedid == linkedid, timeout=15)
    return paused, started.server, ended.server


async def test_calls_and_agents_carry_their_server(sandbox: SandboxStatus, sandbox_settings_, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    west_settings = sandbox_settings(
        tmp_path / "west", sandbox={"agents": [{"extension": "3001", "name": "West 3001", "queues": ["support"]}]}
    )
    west = Sandbox(west_settings, log=lambda line: None)
    try:
        west_status = await west.up()
    except Exception as error:  # noqa: BLE001
        unavailable(f"second sandbox: {error}")
    try:
        east = sandbox_settings_.asterisk[0]
        settings = load_settings(
            data_dir=tmp_path,
            queues=sandbox_settings_.queues,
            routing={"schedules": {"never": {}}},
            asterisk=[
                {"name": "east", "ami_port": east.ami_port, "ami_secret": sandbox.ami_secret},
                {"name": "west", "ami_port": west_status.ami_port, "ami_secret": west_status.ami_secret},
            ],
        )
        url = f"sqlite+aiosqlite:///{tmp_path / 'servers.db'}"
        await asyncio.to_thread(schema.upgrade, url)
        engine = create_engine(url)
        bus = EventBus()
        bridge = Bridge(settings, bus)
        writer = CallLogWriter(session_factory(engine), tmp_path / "spool", batch_ms=50)
        writer.start(bus)
        with bus.subscribe() as events:
            await bridge.start()
            try:
                west_call, east_call = await asyncio.gather(
                    place_call(bridge.client("west"), did="4001", caller=unknown_number(), talk_seconds=1),
                    place_call(bridge.client("east"), did="4002", caller=unknown_number(), talk_seconds=1),
                )
                await asyncio.sleep(0.5)
                await writer.drained(10)
                west_actions = await act_on_the_second_server(bridge, bus)
            finally:
                await bridge.close()
        seen = []
        while events.pending():
            seen.append(events.get_nowait())
        ended = {e.call.linkedid: e.server for e in seen if isinstance(e, CallEnded)}
        assert ended[west_call.linkedid] == "west" and ended[east_call.linkedid] == "east"
        west_agent = [e.agent for e in seen if isinstance(e, AgentStateChanged) and e.agent.extension == "3001"]
        assert west_agent and {a.server for a in west_agent} == {"west"}
        assert AgentState.ON_CALL in {a.state for a in west_agent}
        async with session_factory(engine)() as session:
            rows = {c.linkedid: c.server for c in await session.scalars(select(Call))}
        assert rows[west_call.linkedid] == "west" and rows[east_call.linkedid] == "east"
        paused, dialled_on, ended_on = west_actions
        assert (paused.server, paused.state, paused.reason) == ("west", AgentState.PAUSED, "break")
        assert dialled_on == ended_on == "west"  # click-to-dial rang 3001's phone on its own server
        await writer.close()
        await engine.dispose()
    finally:
        west.down()
        west.purge()
