"""The cluster's transport on a real Redis, without Asterisk: what a follower makes of a bad stream
entry, what the owner makes of a bad command, and what a follower's command does when no owner
answers. The telephony across workers is tests/test_cluster.py's."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis.asyncio as redis

from telephony.agents.control import AgentControlError
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.cluster.codec import BadEntry, decode_event, encode_event
from telephony.cluster.remote import CommandServer, OwnerUnreachable, RemoteCommands
from telephony.cluster.stream import Follower, Keys
from telephony.commands import DialError
from telephony.events import AgentMonitored, AgentStateChanged, EventBus


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[tuple[redis.Redis, str]]:
    client = redis.from_url(redis_url)
    prefix = f"transport-{uuid.uuid4().hex[:8]}"
    yield client, prefix
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def paused(extension: str) -> AgentStateChanged:
    now = datetime.now(UTC)
    agent = AgentSnapshot(extension=extension, server="default", state=AgentState.PAUSED, since=now, reason="break", queues=["support"])
    return AgentStateChanged(server="default", at=now, agent=agent, previous="available")


def test_an_event_travels_as_json_and_a_malformed_one_is_refused_whole() -> None:
    event = paused("1001")
    assert decode_event(encode_event(event)) == event
    listening = AgentMonitored(server="default", at=datetime.now(UTC), agent="1001", spy_id="cc-spy-1", leader="2001", leader_name="王组长", mode="listen")
    assert decode_event(encode_event(listening)) == listening  # who monitors whom reaches every worker's boards
    assert decode_event(encode_event(replace(listening, mode=None))).mode is None
    for raw in ("not json", '{"event": "call.offered", "data": {}}', '{"event": "rm -rf", "data": {}}', json.dumps({"event": "agent.state_changed"})):
        with pytest.raises(BadEntry):
            decode_event(raw)


async def test_a_follower_skips_a_bad_stream_entry_and_applies_the_next(shared: tuple[redis.Redis, str]) -> None:
    client, prefix = shared
    bus = EventBus()
    follower = Follower(client, prefix, bus)
    await follower.start()
    try:
        with bus.subscribe() as events:
            await client.xadd(Keys.of(prefix).events, {"e": b"\xff garbage"})
            await client.xadd(Keys.of(prefix).events, {"e": encode_event(paused("1002"))})
            got = await events.get(timeout=5)
        assert isinstance(got, AgentStateChanged) and got.agent.extension == "1002"
        assert follower.agent("1002").state == AgentState.PAUSED  # type: ignore[union-attr]
    finally:
        await follower.stop()


class RefusingCommands:
    """The owner's side of one command: Asterisk refused it."""

    async def set_agent_state(self, extension: str, wanted: str, **_: object) -> None:
        raise AgentControlError(f"{extension} is not in any queue")


async def test_the_owner_answers_a_refusal_as_the_same_error_and_drops_bad_requests(shared: tuple[redis.Redis, str]) -> None:
    client, prefix = shared
    server = CommandServer(client, prefix, RefusingCommands())  # type: ignore[arg-type]
    server.start()
    remote = RemoteCommands(client, prefix, Follower(client, prefix, EventBus()), answer_timeout_s=5)
    try:
        await client.rpush(f"{prefix}:commands", b"{not json", json.dumps({"command": "set_agent_state", "reply_to": "../../etc"}))
        with pytest.raises(AgentControlError, match="1001 is not in any queue"):
            await remote.set_agent_state("1001", "paused", queues=[], reason="break")
        with pytest.raises(AgentControlError):  # asked of the owner, not there: refused, not crashed
            await remote.phone_fault("1001")
    finally:
        await server.stop()


class DiallingCommands:
    """An owner's side that dials: what it was asked to dial."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    async def click_to_dial(self, agent: str, number: str, **_: object) -> str:
        self.dialled.append(number)
        return f"cc-c2d-{number}"


async def test_without_an_owner_a_command_is_refused_in_time_and_never_run_late(shared: tuple[redis.Redis, str]) -> None:
    client, prefix = shared
    remote = RemoteCommands(client, prefix, Follower(client, prefix, EventBus()), answer_timeout_s=0.5)
    with pytest.raises(OwnerUnreachable) as refused:
        await asyncio.wait_for(remote.click_to_dial("1001", "13800138000"), 5)
    assert not isinstance(refused.value, DialError | AgentControlError)  # not a refusal: the web app answers it 503
    # An owner comes (back): the agent was told the dial failed, so it is not placed now.
    owner = DiallingCommands()
    server = CommandServer(client, prefix, owner)  # type: ignore[arg-type]
    server.start()
    try:
        assert await remote.click_to_dial("1001", "13900139000") == "cc-c2d-13900139000"
        assert owner.dialled == ["13900139000"]
    finally:
        await server.stop()
