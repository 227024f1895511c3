"""Erlang C staffing: how many agents a queue needs to answer a share of its calls within a
threshold, from the arrival rate and the average handle time (docs/kpis.md, "Required agents").

The model: calls arrive at random (Poisson), wait in one queue without giving up, and are served by
N identical agents with exponential handle times. Abandons make it pessimistic, which is the safe
side for staffing advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 10_000


@dataclass(frozen=True)
class Staffing:
    agents: int
    traffic_erlangs: float  # offered load: arrivals a second × handle time
    probability_wait: float  # share of calls that wait at all
    service_level: float  # share answered within the threshold
    asa_s: float  # average speed of answer
    occupancy: float  # share of the agents' time spent handling calls


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call waits, with ``traffic`` Erlangs offered to ``agents`` agents.

    Through the Erlang B recursion (B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁)), then
    C = N·B / (N − A·(1 − B)); no factorials, so it stays exact for thousands of agents."""
    if traffic < 0 or agents < 0:
        raise ValueError("traffic and agents must not be negative")
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0  # the queue grows without end: every call waits
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def staffing(arrivals_per_s: float, handle_s: float, agents: int, threshold_s: float) -> Staffing:
    """The figures of a queue with ``agents`` agents."""
    if handle_s <= 0:
        raise ValueError("the average handle time must be positive")
    traffic = arrivals_per_s * handle_s
    wait = erlang_c(traffic, agents)
    if agents <= traffic:
        return Staffing(agents, traffic, 1.0, 0.0, math.inf, 1.0 if agents else 0.0)
    spare = agents - traffic
    return Staffing(
        agents=agents,
        traffic_erlangs=traffic,
        probability_wait=wait,
        service_level=1 - wait * math.exp(-spare * threshold_s / handle_s),
        asa_s=wait * handle_s / spare,
        occupancy=traffic / agents if agents else 0.0,
    )


def required_agents(arrivals_per_s: float, handle_s: float, threshold_s: float, target: float) -> Staffing:
    """The fewest agents whose service level reaches ``target`` (e.g. 0.8 within 20 s)."""
    if not 0 < target < 1:
        raise ValueError("the service-level target is a share between 0 and 1")
    if arrivals_per_s <= 0:
        return staffing(0.0, max(handle_s, 1e-9), 0, threshold_s)
    agents = max(1, math.floor(arrivals_per_s * handle_s) + 1)
    while agents <= MAX_AGENTS:
        figures = staffing(arrivals_per_s, handle_s, agents, threshold_s)
        if figures.service_level >= target:
            return figures
        agents += 1
    raise ValueError(f"more than {MAX_AGENTS} agents would be needed")
