"""The KPI arithmetic (docs/kpis.md) on calls whose figures are worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from crm.kpis import CallFacts, Tally, Thresholds

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def call(linkedid: str, **values: object) -> CallFacts:
    base = {"direction": "inbound", "queue": "support", "agent": None, "counted_at": T0, "answered": False, "ended": True, "disposition": None}
    return CallFacts(linkedid=linkedid, **{**base, **values})  # type: ignore[arg-type]


def answered(linkedid: str, wait: float, talk: float, hold: float = 0.0, wrapup: float = 0.0, agent: str = "1001") -> CallFacts:
    return call(linkedid, agent=agent, answered=True, disposition="answered", wait_s=wait, talk_s=talk, hold_s=hold, wrapup_s=wrapup)


def test_service_level_leaves_short_abandons_out_and_counts_late_abandons_against() -> None:
    tally = Tally(limits_for=lambda queue: Thresholds(service_level_s=20, short_abandon_s=5))
    for facts in (
        answered("a", wait=10, talk=100, wrapup=10),
        answered("b", wait=30, talk=200, hold=20, wrapup=10),
        answered("c", wait=20, talk=60),  # exactly on the threshold: within
        call("d", disposition="abandoned", wait_s=3),  # short: out of the SL
        call("e", disposition="abandoned", wait_s=40),  # against the SL
        call("f", disposition="no_agent", wait_s=600),  # against the SL
        call("g", disposition="out_of_hours", closed=True),  # not offered at all
        call("h", direction="outbound", queue=None, agent="1001", answered=True, disposition="answered", talk_s=50),
    ):
        tally.put(facts)
    figures = tally.queue_figures("support")
    assert figures["offered"] == 6
    assert (figures["answered"], figures["abandoned"], figures["short_abandoned"], figures["no_agent"]) == (3, 2, 1, 1)
    assert figures["service_level"] == round(2 / (6 - 1), 4)  # a and c within 20 s, of 5 calls
    assert figures["asa_s"] == 20.0  # (10 + 30 + 20) / 3
    assert figures["aht_s"] == round((110 + 230 + 60) / 3, 1)
    assert figures["longest_talk_s"] == 200
    agent = tally.agent_figures("1001")
    assert agent["handled"] == 4 and agent["talk_s"] == 410
    assert (agent["outbound_attempts"], agent["outbound_connects"]) == (1, 1)


def test_putting_a_call_again_replaces_what_it_added() -> None:
    tally = Tally()
    queued = call("x", ended=False)
    tally.put(queued)
    assert tally.queue_figures("support")["offered"] == 1
    assert tally.queue_figures("support")["service_level"] is None  # nothing resolved yet
    talking = replace(queued, answered=True, agent="1002", wait_s=4.0)
    tally.put(talking)
    tally.put(talking)
    figures = tally.queue_figures("support")
    assert (figures["offered"], figures["answered"], figures["aht_s"]) == (1, 1, None)  # handle time unknown while talking
    done = replace(talking, ended=True, disposition="answered", talk_s=30.0)
    tally.put(done)
    tally.put(replace(done, wrapup_s=6.0))  # the wrap-up ends later
    figures = tally.queue_figures("support")
    assert (figures["offered"], figures["answered"], figures["aht_s"], figures["service_level"]) == (1, 1, 36.0, 1.0)
    assert tally.agent_figures("1002")["handled"] == 1


def test_csat_is_the_share_of_survey_answers_of_4_or_5_per_queue_and_agent() -> None:
    tally = Tally()
    tally.put(answered("a", wait=5, talk=60, agent="1001"))
    tally.put(answered("b", wait=5, talk=60, agent="1001"))
    tally.put(answered("c", wait=5, talk=60, agent="1002"))
    tally.put(answered("d", wait=5, talk=60, agent="1002"))  # not answered in the survey: not counted
    for linkedid, score in (("a", 5), ("b", 2), ("c", 4)):
        tally.put(replace(tally.facts(linkedid), satisfaction=score))  # type: ignore[arg-type]
    queue = tally.queue_figures("support")
    assert (queue["csat_responses"], queue["csat"], queue["csat_avg"]) == (3, round(2 / 3, 4), round(11 / 3, 2))
    first, second = tally.agent_figures("1001"), tally.agent_figures("1002")
    assert (first["csat_responses"], first["csat"], first["csat_avg"]) == (2, 0.5, 3.5)
    assert (second["csat_responses"], second["csat"], second["csat_avg"]) == (1, 1.0, 4.0)
    tally.put(replace(tally.facts("b"), satisfaction=None))  # type: ignore[arg-type]  # taken back as any other fact
    assert tally.queue_figures("support")["csat"] == 1.0 and Tally().queue_figures("support")["csat"] is None
