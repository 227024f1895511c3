"""Real AMI streams captured from the sandbox (tests/fixtures/ami, see capture.py), replayed
through the codec and the trackers without Asterisk: fast, and exactly what Asterisk 22 sends."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from panoramisk.message import Message

from telephony.agents.interfaces import InterfacePattern
from telephony.agents.tracker import AgentTracker
from telephony.calls.tracker import CallTracker
from telephony.events import AgentStateChanged, CallEnded, CallEvent, DomainEvent
from telephony.ami.protocol import AmiProtocol

FIXTURES = Path(__file__).parent / "fixtures" / "ami"
PATTERN = InterfacePattern("Local/{extension}@sim-phones/nm")


def load(name: str) -> list[dict[str, str]]:
    lines = (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


class Replay:
    def __init__(self, name: str) -> None:
        self.calls = CallTracker("default", PATTERN)
        self.agents = AgentTracker({"default": PATTERN}, wrapup_s=lambda queue: 1.0)
        self.events: list[DomainEvent] = []
        for raw in load(name):
            event = Message(raw)
            if raw["Event"] == "Newchannel" and raw["Uniqueid"].startswith("cc-out-") and raw["Uniqueid"] == raw["Linkedid"]:
                # click-to-dial: the dialer announces the call before originating it
                self.calls.expect_outbound(raw["Uniqueid"], agent=raw["Exten"], number="", interface=PATTERN.interface(raw["Exten"]))
            for domain_event in self.calls.handle(event):
                self.events.append(domain_event)
                if isinstance(domain_event, CallEvent):
                    self.events.extend(self.agents.handle_call(domain_event))
            self.events.extend(self.agents.handle_ami(event))
        self.events.extend(self.agents.expire(datetime.now(UTC) + timedelta(days=1)))

    @property
    def ended(self):  # type: ignore[no-untyped-def]
        ended = [e for e in self.events if isinstance(e, CallEnded)]
        assert len(ended) == 1, [e.name for e in self.events]
        return ended[0].call

    def call_event_names(self) -> list[str]:
        return [e.name for e in self.events if isinstance(e, CallEvent)]

    def agent_states(self, extension: str) -> list[tuple[str, str | None]]:
        return [
            (e.agent.state.value, e.agent.reason)
            for e in self.events
            if isinstance(e, AgentStateChanged) and e.agent.extension == extension
        ]


def test_answered_call_with_a_chinese_caller_name() -> None:
    replay = Replay("answered")
    call = replay.ended
    assert replay.call_event_names() == [
        "call.started", "call.routed", "call.queued", "call.offered", "call.answered", "call.ended",
    ]  # fmt: skip
    assert (call.caller_number, call.caller_name, call.did, call.queue) == ("13800138000", "张三", "4001", "support")
    assert (call.route, call.priority, call.customer_id) == ("queue", 10, 1)  # a key account, ahead in the queue
    assert (call.disposition, call.hangup_side, call.direction) == ("answered", "caller", "inbound")
    assert call.started_at <= call.queued_at <= call.offered_at <= call.answered_at <= call.ended_at
    assert 1.5 <= call.talk_s <= 3 and len(call.recordings) == 3
    assert replay.agent_states(call.agent) == [("ringing", None), ("on_call", None), ("wrap_up", None), ("available", None)]


def test_abandoned_call() -> None:
    call = Replay("abandoned").ended
    assert (call.caller_name, call.queue, call.disposition, call.hangup_side) == ("客户服务中心", "nobody", "abandoned", "caller")
    assert call.answered_at is None and 1.0 <= call.wait_s <= 3


def test_ring_no_answer_then_the_next_agent() -> None:
    replay = Replay("ring_no_answer")
    call = replay.ended
    assert [(o["agent"], o["result"]) for o in call.offers] == [("1001", "no_answer"), ("1002", "answered")]
    assert replay.agent_states("1001") == [("ringing", None), ("available", None)]
    assert call.agent == "1002" and call.disposition == "answered"


def test_hold_and_resume() -> None:
    replay = Replay("hold")
    call = replay.ended
    assert call.hold_count == 1 and 1.0 <= call.hold_s <= 2.5
    names = replay.call_event_names()
    assert names.index("call.answered") < names.index("call.held") < names.index("call.resumed") < names.index("call.ended")


def test_agent_hanging_up_on_a_customer_held_from_the_desktop_ends_the_call() -> None:
    """Captured when the hold line's merge (an AttendedTransfer without a transfer target) came
    before the agent leg's Hangup (seen in CI): the customer, left on the hold line, is put down."""
    replay = Replay("hold_then_agent_hangs_up")
    (customer,) = {e["Channel"] for e in load("hold_then_agent_hangs_up") if e["Event"] == "QueueCallerJoin"}
    (hung_up,) = replay.calls.take_hang_ups()
    assert hung_up.rsplit(";", 1)[0] == customer.rsplit(";", 1)[0]  # the customer's Local channel: either half ends both
    assert "call.transferred" not in replay.call_event_names()


def test_customer_hanging_up_while_held_from_the_desktop_puts_the_agents_phone_down() -> None:
    """Asterisk sometimes leaves the agent's phone alone in the transfer's bridge once the customer
    and the hold line have gone (one run in eight in the sandbox): the tracker puts it down."""
    events = load("hold_then_customer_hangs_up")
    replay = Replay("hold_then_customer_hangs_up")
    (agent_phone,) = {e["DestChannel"] for e in events if e["Event"] == "AgentConnect"}
    hold_line = {e["Channel"] for e in events if e["Event"] == "Newchannel" and e.get("Exten") == "*8"}
    assert set(replay.calls.take_hang_ups()) == hold_line | {agent_phone}
    call = replay.ended
    assert (call.disposition, call.hangup_side, call.hold_count) == ("answered", "caller", 1)


def test_blind_transfer_to_the_senior_queue() -> None:
    replay = Replay("blind_transfer")
    call = replay.ended
    first = call.transfers[0]["from_agent"]
    assert [(t["kind"], t["target"]) for t in call.transfers] == [("blind", "q-senior")]
    assert (call.queue, call.agent, call.disposition) == ("senior", "1004", "answered")
    assert replay.agent_states(first)[:3] == [("ringing", None), ("on_call", None), ("wrap_up", None)]
    assert replay.call_event_names().count("call.answered") == 2


def test_attended_transfer_to_a_consulted_agent() -> None:
    replay = Replay("attended_transfer")
    call = replay.ended
    first = call.transfers[0]["from_agent"]
    assert [(t["kind"], t["target"]) for t in call.transfers] == [("attended", "1004")]
    assert (call.agent, call.disposition, call.hold_count) == ("1004", "answered", 1)
    assert ("wrap_up", None) in replay.agent_states(first)
    assert ("on_call", None) in replay.agent_states("1004")


def test_outbound_answered_and_busy() -> None:
    answered = Replay("outbound_answered").ended
    assert (answered.direction, answered.agent, answered.disposition) == ("outbound", "1003", "answered")
    assert answered.wait_s is None and answered.talk_s > 1
    busy = Replay("outbound_busy").ended
    assert (busy.direction, busy.disposition, busy.answered_at) == ("outbound", "busy", None)


def test_pause_with_a_reason() -> None:
    assert Replay("pause").agent_states("1002") == [("paused", "lunch"), ("available", None)]


# The codec, on the same real bytes ---------------------------------------------------------------


def wire(events: list[dict[str, str]]) -> bytes:
    text = "".join("".join(f"{k}: {v}\r\n" for k, v in e.items() if k != "Server") + "\r\n" for e in events)
    return b"Asterisk Call Manager/11.0.0\r\n" + text.encode("utf-8")


class _Recorder:
    forgetable_actions = ("ping", "login")
    awaiting_actions: list = []

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []

    def dispatch(self, event) -> None:  # type: ignore[no-untyped-def]
        self.events.append(dict(event))


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("name", ["answered", "abandoned"])
@pytest.mark.parametrize("seed", range(20))
def test_captured_stream_survives_any_chunking(name: str, seed: int) -> None:
    events = load(name)
    data = wire(events)
    rng = random.Random(seed)
    chunks, at = [], 0
    while at < len(data):
        size = rng.choice([1, 2, 3, 5, 8, 13, 64, 1500])
        chunks.append(data[at : at + size])
        at += size
    protocol = AmiProtocol()
    protocol.connection_made(_Transport())
    protocol.factory = recorder = _Recorder()
    for chunk in chunks:
        protocol.data_received(chunk)
    expected = [{k: v for k, v in e.items() if k != "Server"} for e in events]
    assert recorder.events == expected
    assert any(e.get("CallerIDName") in ("张三", "客户服务中心") for e in recorder.events)


# Resynchronisation after a reconnection ----------------------------------------------------------


def test_resync_ends_calls_gone_while_disconnected_but_not_calls_newer_than_the_snapshot() -> None:
    events = [Message(e) for e in load("answered")]
    connect = next(i for i, e in enumerate(events) if e["Event"] == "AgentConnect")
    tracker = CallTracker("default", PATTERN)
    for event in events[: connect + 1]:
        tracker.handle(event)
    linkedid = events[0]["Linkedid"]
    before = tracker.mark_snapshot()  # the snapshot is requested now...
    late = [Message(e) for e in load("abandoned")]
    for event in late[:3]:  # ...a new call starts while it is taken...
        tracker.handle(event)
    ended = tracker.resync([], before)  # ...and it shows no channel at all
    assert [e.call.linkedid for e in ended] == [linkedid]
    call = ended[0].call
    assert (call.disposition, call.hangup_side) == ("answered", "system") and call.agent in ("1001", "1002", "1003")
    assert call.talk_s is not None and call.ended_at is not None
    assert tracker.get(late[0]["Linkedid"]) is not None  # the newer call is still followed


def test_resync_adopts_a_queued_call_it_never_saw() -> None:
    tracker = CallTracker("default", PATTERN)
    channel = {
        "Event": "CoreShowChannel", "Channel": "PJSIP/trunk-00000007", "Uniqueid": "1795.7", "Linkedid": "1795.7",
        "Context": "cc-route", "Application": "Queue", "ApplicationData": "support,t,,,600", "Duration": "00:00:42",
        "CallerIDNum": "13800138000", "CallerIDName": "张三", "BridgeId": "",
    }  # fmt: skip
    events = tracker.resync([Message(channel)], {})
    assert [e.name for e in events] == ["call.started", "call.queued"]
    call = tracker.get("1795.7")
    assert (call.queue, call.caller_name, call.phase, call.adopted) == ("support", "张三", "queued", True)


def test_hang_up_side_survives_interleaved_hang_up_events(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """When the customer hangs up, the agent's leg is put out at once; their hang-up events can
    arrive in either order (seen in CI). The bridge-leave order decides."""
    events = load("outbound_answered")
    customer_hangup = next(i for i, e in enumerate(events) if e["Event"] == "Hangup")
    agent_request = next(
        i for i, e in enumerate(events) if e["Event"] == "SoftHangupRequest" and e["Uniqueid"].startswith("cc-out-")
    )
    events.insert(customer_hangup, events.pop(agent_request))  # the agent's request first
    (tmp_path / "reordered.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    monkeypatch.setattr(__import__(__name__), "FIXTURES", tmp_path)
    call = Replay("reordered").ended
    assert (call.disposition, call.hangup_side) == ("answered", "caller")


def test_a_survey_ends_the_answered_call_and_only_a_key_of_1_to_5_is_taken() -> None:
    events = [Message(e) for e in load("answered")]
    connect = next(i for i, e in enumerate(events) if e["Event"] == "AgentConnect")
    tracker = CallTracker("default", PATTERN)
    for event in events[: connect + 1]:
        tracker.handle(event)
    linkedid, channel = events[0]["Linkedid"], events[0]["Channel"]

    def survey(**fields: str) -> Message:
        return Message({"Event": "UserEvent", "UserEvent": "CCSurvey", "Linkedid": linkedid, "Channel": channel, **fields})

    (ended,) = tracker.handle(survey(State="offered"))
    assert isinstance(ended, CallEnded) and ended.call.surveyed_at is not None and tracker.get(linkedid) is None
    assert ended.call.disposition == "answered" and ended.call.talk_s is not None
    for bad in ("0", "6", "12", "x", "", "4\r\nEvent: Hangup"):
        assert tracker.handle(survey(State="answered", Score=bad)) == []
    (answered,) = tracker.handle(survey(State="answered", Score="4"))
    assert (answered.linkedid, answered.score) == (linkedid, 4)
    # A call never answered is not surveyed (the dialplan only asks after an agent hung up).
    fresh = CallTracker("default", PATTERN)
    for event in [Message(e) for e in load("abandoned")][:3]:
        fresh.handle(event)
    assert fresh.handle(Message({"Event": "UserEvent", "UserEvent": "CCSurvey", "State": "offered", "Linkedid": load("abandoned")[0]["Linkedid"]})) == []


def test_a_call_in_its_survey_is_not_adopted_after_a_reconnection() -> None:
    channel = {
        "Event": "CoreShowChannel", "Channel": "PJSIP/trunk-00000009", "Uniqueid": "1795.9", "Linkedid": "1795.9",
        "Context": "cc-survey", "Application": "Read", "ApplicationData": "CC_SURVEY_KEY", "Duration": "00:00:03",
    }  # fmt: skip
    tracker = CallTracker("default", PATTERN)
    assert tracker.resync([Message(channel)], {}) == [] and tracker.get("1795.9") is None
