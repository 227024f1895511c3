"""Which calls an inspector must review, and why: a share of each agent's calls, every call with a
complaint code, calls longer or shorter than the limits, calls the auto-QA flagged, and any call an
inspector picked. Worked out when asked, so a code saved after the call still counts."""

from __future__ import annotations

import hashlib
from typing import Any

from config.settings import QaSettings


def sampled(linkedid: str, percent: float) -> bool:
    """A fixed pseudo-random share of calls, the same answer every time for a call: over an agent's
    week it is ``percent`` of their calls, within sampling noise."""
    digest = hashlib.sha256(linkedid.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000 < percent * 100


def review_reasons(call: Any, flagged: bool, picked: list[str], settings: QaSettings) -> list[str]:
    reasons = list(picked)
    if call.disposition_code and call.disposition_code in settings.review_codes:
        reasons.append(f"code:{call.disposition_code}")
    if flagged:
        reasons.append("auto_qa")
    talk = call.talk_s or 0.0
    if settings.review_longer_s is not None and talk > settings.review_longer_s:
        reasons.append("long")
    if settings.review_shorter_s is not None and call.answered_at is not None and talk < settings.review_shorter_s:
        reasons.append("short")
    if call.agent_id is not None and sampled(call.linkedid, settings.sample_percent):
        reasons.append("sample")
    return reasons
