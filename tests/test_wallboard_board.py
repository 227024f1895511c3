"""The wallboard's live picture fed with events by hand: a day that ends at midnight in the call
center's zone, the alerts each threshold raises and clears, and the Erlang C advice beside it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agent_ui.wallboard.board import Board
from config import load_settings
from config.settings import QueueSettings
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.calls.state import CallPhase, CallSnapshot, Disposition
from telephony.events import AgentMonitored, AgentStateChanged, CallAnswered, CallEnded, CallQueued, SurveyAnswered

SHANGHAI_MIDNIGHT = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # 00:00 on the 28th in Asia/Shanghai
SETTINGS = load_settings(
    queues=[QueueSettings(name="support", dids=["4001"], alert_wait_s=30, alert_pause_min=10, service_level_s=20)],
    crm={"timezone": "Asia/Shanghai"},
    routing={"risk_queue": None},
    sandbox={"agents": []},
)


def queued(linkedid: str, at: datetime) -> CallQueued:
    call = CallSnapshot(linkedid, "default", "inbound", at, phase=CallPhase.QUEUED, queue="support", entry_queue="support", queued_at=at)
    return CallQueued(server="default", at=at, call=call, queue="support", position=1)


def answered(event: CallQueued, after_s: float, agent: str = "1001") -> CallAnswered:
    at = event.at + timedelta(seconds=after_s)
    call = replace(event.call, phase=CallPhase.ANSWERED, answered_at=at, wait_s=after_s, agent=agent)
    return CallAnswered(server="default", at=at, call=call, agent=agent, interface="x")


def ended(event: CallAnswered, talk_s: float) -> CallEnded:
    at = event.at + timedelta(seconds=talk_s)
    call = replace(event.call, phase=CallPhase.ENDED, ended_at=at, talk_s=talk_s, disposition=Disposition.ANSWERED)
    return CallEnded(server="default", at=at, call=call)


def test_a_call_queued_before_midnight_stays_in_yesterday() -> None:
    before = SHANGHAI_MIDNIGHT - timedelta(seconds=30)
    board = Board(SETTINGS, before)
    late = queued("late", before + timedelta(seconds=10))
    board.apply(late)
    assert board.queue_stats("support", before)["offered"] == 1
    assert board.roll(SHANGHAI_MIDNIGHT + timedelta(seconds=1)) and not board.roll(SHANGHAI_MIDNIGHT + timedelta(seconds=2))
    board.apply(ended(answered(late, 25), 60))  # answered and ended after midnight
    early = queued("early", SHANGHAI_MIDNIGHT + timedelta(seconds=5))
    board.apply(early)
    board.apply(ended(answered(early, 5), 30))
    stats = board.queue_stats("support", SHANGHAI_MIDNIGHT + timedelta(minutes=1))
    assert (stats["offered"], stats["answered"], stats["asa_s"], stats["service_level"]) == (1, 1, 5.0, 1.0)
    assert stats["day_start"].startswith("2026-11-28T00:00:00+08:00")


def test_alerts_rise_with_their_thresholds_and_clear() -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    board = Board(SETTINGS, start)
    waiting = queued("w", start)
    board.apply(waiting)
    assert board.alerts(start + timedelta(seconds=29)) == []
    (alert,) = board.alerts(start + timedelta(seconds=31))
    assert (alert.kind, alert.queue, alert.value, alert.threshold) == ("long_wait", "support", 31, 30)
    board.apply(ended(answered(waiting, 40), 10))  # answered after 40 s: outside 20 s, SL 0 %
    kinds = {a.kind for a in board.alerts(start + timedelta(seconds=60))}
    assert kinds == {"service_level"}
    paused = AgentSnapshot("1002", "default", AgentState.PAUSED, start, reason="break", queues=["support"], paused=True)
    board.apply(AgentStateChanged(server="default", at=start, agent=paused, previous="available"))
    assert "long_pause" not in {a.kind for a in board.alerts(start + timedelta(minutes=9))}
    (pause,) = [a for a in board.alerts(start + timedelta(minutes=11)) if a.kind == "long_pause"]
    assert (pause.agent, pause.threshold) == ("1002", 10)
    assert board.queue_stats("support", start)["paused_by_reason"] == {"break": 1}


def test_staffing_advice_follows_the_arrival_rate() -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    board = Board(SETTINGS, start)
    assert board.queue_stats("support", start)["required_agents"] is None  # no handle time known yet
    for n in range(60):  # 60 calls in 15 minutes, each 180 s: 12 Erlangs
        event = queued(f"c{n}", start + timedelta(seconds=15 * n))
        board.apply(event)
        board.apply(ended(answered(event, 0), 180))
    stats = board.queue_stats("support", start + timedelta(seconds=15 * 59 + 1))
    assert stats["arrivals_15m"] == 60 and stats["aht_s"] == 180.0
    assert stats["required_agents"] == 16  # Erlang C for 80 % within 20 s at 12 Erlangs
    assert board.queue_stats("support", start + timedelta(hours=1))["required_agents"] == 0  # nobody called since


def test_a_survey_answer_after_the_call_shows_in_the_queues_csat() -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    board = Board(SETTINGS, start)
    call = ended(answered(queued("x", start), 5, agent="1001"), 60)
    board.apply(call)
    assert board.queue_stats("support", start)["csat"] is None
    queues, agents = board.apply(SurveyAnswered(server="default", at=call.at + timedelta(seconds=8), linkedid="x", score=4))
    assert (queues, agents) == ({"support"}, {"1001"})  # pushed again
    stats = board.queue_stats("support", start + timedelta(minutes=2))
    assert (stats["csat"], stats["csat_avg"], stats["csat_responses"], stats["answered"]) == (1.0, 4.0, 1, 1)
    assert board.apply(SurveyAnswered(server="default", at=start, linkedid="unknown", score=1)) == (set(), set())


def test_who_monitors_an_agent_shows_on_the_row_until_the_call_ends() -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    board = Board(SETTINGS, start)
    talking = AgentSnapshot("1001", "default", AgentState.ON_CALL, start, queues=["support"], call="c1")
    board.apply(AgentStateChanged(server="default", at=start, agent=talking, previous="ringing"))
    for spy_id, leader, name, mode in (("cc-spy-1", "1101", "王组长", "listen"), ("cc-spy-2", "1201", "Supervisor", "barge")):
        heard = board.apply(AgentMonitored(server="default", at=start, agent="1001", spy_id=spy_id, leader=leader, leader_name=name, mode=mode))
        assert heard == (set(), {"1001"})  # the agent's row is pushed again
    row = board.agent_state("1001", start)
    assert [(m["leader"], m["mode"]) for m in row["monitored_by"]] == [("王组长", "listen"), ("Supervisor", "barge")]
    board.apply(AgentMonitored(server="default", at=start, agent="1001", spy_id="cc-spy-2", leader="1201", leader_name="Supervisor", mode=None))
    assert [m["leader"] for m in board.agent_state("1001", start)["monitored_by"]] == ["王组长"]  # the barge's leg hung up
    wrapping = replace(talking, state=AgentState.WRAP_UP, call=None)
    board.apply(AgentStateChanged(server="default", at=start + timedelta(seconds=30), agent=wrapping, previous="on_call"))
    assert board.agent_state("1001", start + timedelta(seconds=31))["monitored_by"] == []  # ChanSpy ended with the call
