"""Erlang C staffing advice: exact against the textbook formula, and sensible at the edges."""

from __future__ import annotations

import math

import pytest

from crm.staffing import erlang_c, required_agents, staffing


def textbook_erlang_c(traffic: float, agents: int) -> float:
    """The formula as printed: (Aᴺ/N! · N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N! · N/(N−A))."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)


def test_one_erlang_on_two_agents_waits_one_call_in_three() -> None:
    # By hand: Aᴺ/N!·N/(N−A) = 1/2·2/1 = 1; Σ = 1 + 1 = 2; P(wait) = 1/(2 + 1).
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)


@pytest.mark.parametrize(("traffic", "agents"), [(0.5, 1), (10, 11), (10, 13), (42.7, 50), (99.0, 120)])
def test_agrees_with_the_textbook_formula(traffic: float, agents: int) -> None:
    assert erlang_c(traffic, agents) == pytest.approx(textbook_erlang_c(traffic, agents), rel=1e-9)


def test_the_classic_example_of_100_calls_in_half_an_hour() -> None:
    # 100 calls in 30 min, 180 s each: 10 Erlangs. For 80% within 20 s the answer is 14 agents
    # (88.8%); 13 reach only 79.6%. P(wait) with 11 and 12 agents is the tables' 0.6821 and 0.4494.
    arrivals = 100 / 1800
    advice = required_agents(arrivals, 180, threshold_s=20, target=0.8)
    assert advice.agents == 14 and advice.traffic_erlangs == pytest.approx(10)
    expected_wait = textbook_erlang_c(10, 14)
    assert advice.service_level == pytest.approx(1 - expected_wait * math.exp(-4 * 20 / 180))
    assert advice.asa_s == pytest.approx(expected_wait * 180 / 4)
    assert staffing(arrivals, 180, 13, 20).service_level < 0.8 <= advice.service_level
    assert advice.occupancy == pytest.approx(10 / 14)
    assert round(erlang_c(10, 11), 4) == 0.6821 and round(erlang_c(10, 12), 4) == 0.4494


def test_edges() -> None:
    assert erlang_c(0, 3) == 0.0
    assert erlang_c(5, 5) == 1.0 and erlang_c(6, 5) == 1.0  # too few agents: everyone waits
    assert staffing(1.0, 10, 5, 20).asa_s == math.inf
    assert required_agents(0.0, 180, 20, 0.8).agents == 0  # no calls, nobody needed
    big = required_agents(5.0, 300, 20, 0.9)  # 1 500 Erlangs: the recursion stays exact
    assert 1500 < big.agents < 1600 and big.service_level >= 0.9
    with pytest.raises(ValueError, match="target"):
        required_agents(1.0, 180, 20, 1.2)
    with pytest.raises(ValueError, match="handle time"):
        staffing(1.0, 0, 3, 20)
