"""The weekly review sample: a share of each agent's calls, exact to a call in every week."""

from __future__ import annotations

import math
from types import SimpleNamespace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import QaSettings
from qa.sampling import review_reasons, week_of, weekly_sample, weight

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def week_of_calls(agent: int, count: int, first_id: int = 1) -> list[tuple[int, int, datetime]]:
    return [(first_id + n, agent, MONDAY + timedelta(minutes=10 * n)) for n in range(count)]


@pytest.mark.parametrize("percent", [5, 10, 12.5, 100 / 3, 50, 100])
def test_every_agent_week_gets_its_share_rounded_and_earlier_picks_stay(percent: float) -> None:
    for agent in range(40):
        calls = week_of_calls(agent, 60)
        before: set[int] = set()
        for n in range(1, len(calls) + 1):
            picked = weekly_sample(calls[:n], percent, "Asia/Shanghai")
            exact = n * percent / 100
            assert math.floor(exact + 1e-9) <= len(picked) <= math.ceil(exact - 1e-9), (agent, n)
            assert before <= picked  # what was sampled stays sampled as the week goes on
            before = picked


def test_where_the_samples_fall_differs_between_agents() -> None:
    first_picks = {min(weekly_sample(week_of_calls(agent, 10), 10, "Asia/Shanghai")) for agent in range(40)}
    assert len(first_picks) >= 5  # not always the same call of the week


def test_nothing_is_sampled_at_zero_and_weeks_are_the_call_centers() -> None:
    assert weekly_sample(week_of_calls(1, 50), 0, "Asia/Shanghai") == set()
    zone = ZoneInfo("Asia/Shanghai")
    sunday_night = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # Sunday 23:30 in Shanghai
    monday_early = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # Monday 00:30 in Shanghai, still Sunday in UTC
    assert (week_of(sunday_night, zone), week_of(monday_early, zone)) == ("2026-W48", "2026-W49")


def test_a_short_call_is_reviewed_only_when_the_agent_ended_it_and_the_queue_puts_flags_first() -> None:
    settings = QaSettings(review_shorter_s=10, review_longer_s=600)
    answered = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def call(side: str, talk: float) -> SimpleNamespace:
        return SimpleNamespace(disposition_code=None, talk_s=talk, answered_at=answered, hangup_side=side, satisfaction=None)

    assert review_reasons(call("agent", 4), False, [], False, settings) == ["short"]  # 故意挂断? an inspector listens
    assert review_reasons(call("caller", 4), False, [], False, settings) == []  # a caller's quick question is no flag
    queue = [["sample"], ["short"], ["auto_qa"], ["code:complaint", "sample"], ["long"], ["low_satisfaction"]]
    assert sorted(queue, key=weight, reverse=True) == [["auto_qa"], ["low_satisfaction"], ["code:complaint", "sample"], ["short"], ["long"], ["sample"]]
