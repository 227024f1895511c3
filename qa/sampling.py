"""Which calls an inspector must review, and why: a share of each agent's calls each week, every
call with a complaint code, calls longer or shorter than the limits, calls the auto-QA flagged, and
any call an inspector picked. Worked out when asked, so a code saved after the call still counts."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from config.settings import QaSettings


def _fraction(key: str) -> float:
    """A fixed pseudo-random number in [0, 1) for ``key``."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32


def week_of(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week (``2026-W48``, Monday to Sunday) of ``moment`` in the call center's time zone."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def weekly_sample(calls: Iterable[tuple[int, int, datetime]], percent: float, timezone: str) -> set[int]:
    """The intake ids sampled for review out of ``calls``: (intake id, agent id, start) of every
    recorded call of the agents and weeks in question.

    In each agent's week (Monday to Sunday in ``timezone``), taken in intake order, a call is
    sampled where ``percent`` of the calls so far passes a whole number: after n calls, exactly
    n × percent / 100 rounded down or up have been sampled, and a sampled call stays sampled as
    the week goes on. Where in the week the samples fall is shifted by a fraction fixed for the
    agent and the week, so it is not always the same call of the week."""
    share = percent / 100
    if share <= 0:
        return set()
    zone = ZoneInfo(timezone)
    weeks: dict[tuple[int, str], list[int]] = defaultdict(list)
    for intake_id, agent_id, started_at in calls:
        weeks[(agent_id, week_of(started_at, zone))].append(intake_id)
    chosen: set[int] = set()
    for (agent_id, week), ids in weeks.items():
        shift = _fraction(f"{agent_id}:{week}")
        for n, intake_id in enumerate(sorted(ids), start=1):
            if math.floor(n * share + shift) > math.floor((n - 1) * share + shift):
                chosen.add(intake_id)
    return chosen


# How much each reason calls for an inspector: the queue lists the weightiest first (then the newest).
REASON_WEIGHT = {"auto_qa": 5, "low_satisfaction": 5, "code": 4, "picked": 4, "short": 3, "long": 2, "sample": 1}


def weight(reasons: list[str]) -> tuple[int, int]:
    """(the weightiest reason's weight, all reasons' together): the review queue's order."""
    weights = [REASON_WEIGHT.get(reason.split(":")[0], 1) for reason in reasons]
    return (max(weights, default=0), sum(weights))


def review_reasons(call: Any, flagged: bool, picked: list[str], in_sample: bool, settings: QaSettings) -> list[str]:
    reasons = list(picked)
    if call.disposition_code and call.disposition_code in settings.review_codes:
        reasons.append(f"code:{call.disposition_code}")
    if flagged:
        reasons.append("auto_qa")
    talk = call.talk_s or 0.0
    if settings.review_longer_s is not None and talk > settings.review_longer_s:
        reasons.append("long")
    # Short only when the agent ended it: a caller's quick question is normal, an agent hanging up
    # within seconds may be the handbook's fatal error (故意挂断客户电话).
    if settings.review_shorter_s is not None and call.answered_at is not None and talk < settings.review_shorter_s and call.hangup_side == "agent":
        reasons.append("short")
    satisfaction = getattr(call, "satisfaction", None)
    if settings.review_satisfaction_max is not None and satisfaction is not None and satisfaction <= settings.review_satisfaction_max:
        reasons.append("low_satisfaction")
    if in_sample:
        reasons.append("sample")
    return reasons
