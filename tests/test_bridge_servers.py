"""Two Asterisk servers behind one bridge: every call and agent state says which server it is on, and an
agent's actions go to the server they are on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from config import load_settings
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call
from sqlalchemy import select
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.ami import AmiClient
from telephony.bridge import Bridge
from telephony.calllog.writer import CallLogWriter
from telephony.commands import TelephonyCommands
from telephony.events import AgentStateChanged, CallEnded, CallStarted, EventBus
from telephony.sandbox import Sandbox, SandboxStatus
from telephony.sandbox.calls import place_call
from tests.conftest import sandbox_settings, unavailable
from tests.live_calls import unknown_number


@dataclass
class WestActions:
    logged_in: AgentSnapshot
    paused: AgentSnapshot
    dialled_on: str
    ended_on: str
    spied_on: set[str]  # the servers a ChanSpy channel ran on


async def spies(client: AmiClient) -> set[str]:
    return {m.get("Channel", "") for m in await client.collect("CoreShowChannels") if m.get("Application") == "ChanSpy"}


async def act_on_the_second_server(bridge: Bridge, bus: EventBus) -> WestActions:
    """Agent 3002 works on west but is in no queue there yet: their login, pause and click-to-dial go
    to west, not to the first server, and a leader spies on their call there (issue 17)."""
    commands = TelephonyCommands(bus, bridge.asterisks, bridge.control, bridge.call_control, bridge.dialer, {})
    assert commands.agent("3002") is None or not commands.agent("3002").queues  # type: ignore[union-attr]
    logged_in = await commands.set_agent_state("3002", "available", queues=["support"], home="west")
    assert logged_in is not None
    paused = await commands.set_agent_state("3002", "paused", queues=["support"], reason="break")
    assert paused is not None
    await commands.set_agent_state("3002", "available", queues=["support"])
    spied_on: set[str] = set()
    with bus.subscribe([CallStarted, CallEnded, AgentStateChanged]) as events:
        linkedid = await commands.click_to_dial("3002", unknown_number(), home="east")  # Asterisk's word wins over home
        started = await events.wait_for(lambda e: isinstance(e, CallStarted) and e.call.linkedid == linkedid, timeout=10)  # type: ignore[attr-defined]
        await events.wait_for(
            lambda e: isinstance(e, AgentStateChanged) and e.agent.extension == "3002" and e.agent.state == AgentState.ON_CALL, timeout=10  # type: ignore[attr-defined]
        )
        await commands.spy("2001", "3002", "listen")
        async with asyncio.timeout(10):
            while not spied_on:
                spied_on = {name for name, client in bridge.clients.items() if await spies(client)}
                await asyncio.sleep(0.1)
        if commands.find_call(linkedid) is not None:
            await commands.calls.hang_up(linkedid)
        ended = await events.wait_for(lambda e: isinstance(e, CallEnded) and e.call.linkedid == linkedid, timeout=15)  # type: ignore[attr-defined]
    await commands.set_agent_state("3002", "logged_out", queues=[])
    return WestActions(logged_in, paused, started.server, ended.server, spied_on)  # type: ignore[attr-defined]


async def test_calls_and_agents_carry_their_server(sandbox: SandboxStatus, sandbox_settings_, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    west_settings = sandbox_settings(
        tmp_path / "west", sandbox={"agents": [{"extension": "3001", "name": "West 3001", "queues": ["support"]},
                            {"extension": "3002", "name": "West 3002", "queues": []}]}
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
        assert (west_actions.logged_in.server, west_actions.logged_in.queues) == ("west", ["support"])
        paused = west_actions.paused
        assert (paused.server, paused.state, paused.reason) == ("west", AgentState.PAUSED, "break")
        assert west_actions.dialled_on == west_actions.ended_on == "west"  # click-to-dial rang 3002's phone on its own server
        assert west_actions.spied_on == {"west"}
        await writer.close()
        await engine.dispose()
    finally:
        west.down()
        west.purge()


def test_a_login_goes_where_asterisk_knows_the_phone_then_to_the_agents_home() -> None:
    """No queue membership yet: a phone registered on a server decides; without one, the CRM's home
    (when it names a configured server); else the first server."""
    settings = load_settings(asterisk=[{"name": "east", "ami_port": 5038}, {"name": "west", "ami_port": 5039}])
    bridge = Bridge(settings, EventBus())
    where = bridge.asterisks.server_of_agent
    assert where("3005") == "east" and where("3005", home="west") == "west" and where("3005", home="nowhere") == "east"
    contact = {"Event": "ContactStatus", "AOR": "3005", "URI": "sip:3005@10.0.0.9:5060", "ContactStatus": "Created"}
    bridge.phones.handle("west", contact)
    assert where("3005") == "west" and where("3005", home="east") == "west"
    bridge.phones.handle("west", {**contact, "ContactStatus": "Removed"})
    assert where("3005") == "east"
    bridge.phones.handle("east", {**contact, "AOR": "trunk-sip"})  # a trunk's AOR is no agent's phone
    assert where("3005", home="west") == "west"
