"""Auto-QA rules: from the transcript and the signal metrics, pass or fail scorecard items, with the
evidence (who, when, what) an inspector can jump to. A rule that needs the transcript is not
assessed without one: never passed, listed apart, and the auto score says how much of the scorecard
it covers. Phrase lists are per language (scorecard rules, zh and en)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from qa.chinese import near_miss, normalise
from qa.scorecards import Rule, ScorecardDefinition
from qa.signals import Metrics
from qa.transcribe import Utterance

TRANSCRIPT_RULES = ("greeting", "closing", "disclosure", "forbidden", "hold", "outbound_opening")


@dataclass
class Finding:
    rule: str
    item: str
    passed: bool
    detail: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "item": self.item, "passed": self.passed, "detail": self.detail, "evidence": self.evidence}


@lru_cache(maxsize=4096)  # every rule reads every utterance, and the phrases again for each
def _normal(text: str) -> str:
    return re.sub(r"[\s,.!?;:，。！？；：、'\"]+", " ", normalise(text).lower()).strip()


@dataclass(frozen=True)
class Said:
    phrase: str
    heard: str | None = None  # what the transcript has instead, for a near miss

    def __str__(self) -> str:
        return f"'{self.phrase}'" + (f" (heard '{self.heard}')" if self.heard else "")


def _says(utterance: Utterance, phrases: list[str]) -> Said | None:
    """The first phrase said in the utterance (whole words for Latin script, any run for Chinese);
    failing that, a Chinese phrase that sounds the same or nearly (qa/chinese.py near_miss)."""
    text = f" {_normal(utterance.text)} "
    wanted = [(phrase, _normal(phrase)) for phrase in phrases]
    for phrase, normal in wanted:
        if normal and (f" {normal} " in text if normal.isascii() else normal in text):
            return Said(phrase)
    for phrase, normal in wanted:
        if (heard := near_miss(text, normal)) is not None:
            return Said(phrase, heard)
    return None


def _evidence(utterance: Utterance, said: Said | None = None) -> dict[str, Any]:
    found = {"phrase": said.phrase, **({"heard": said.heard} if said.heard else {})} if said else {}
    return {**utterance.as_dict(), **found}


def applies(rule: Rule, holds: int, direction: str) -> bool:
    """Whether the rule judges this call at all: a rule for one direction only on calls of it, the
    hold rule only on calls with a hold."""
    return (rule.direction is None or rule.direction == direction) and (rule.kind != "hold" or holds > 0)


def check(
    rule: Rule, lang: str, metrics: Metrics, transcript: list[Utterance] | None, holds: int = 0, direction: str = "inbound"
) -> Finding | None:
    """The rule's finding on one call, or None where it does not apply (no transcript for a word
    rule, no hold for the hold rule, a call of the other direction). ``holds``: how many times the
    agent put the caller on hold; ``direction``: inbound or outbound (the outbound opening)."""
    if rule.kind in TRANSCRIPT_RULES and transcript is None or not applies(rule, holds, direction):
        return None
    phrases = rule.phrases.for_language(lang)
    agent = [u for u in transcript or [] if u.side == "agent"]
    if rule.kind in ("greeting", "disclosure", "outbound_opening"):  # outbound: "请问您现在方便接电话吗" (handbook §2)
        limit = rule.within_s if rule.within_s is not None else float("inf")
        for utterance in agent:
            if utterance.start <= limit and (said := _says(utterance, phrases)):
                return Finding(rule.kind, rule.item, True, f"said {said} at {utterance.start:.1f} s", [_evidence(utterance, said)])
        return Finding(rule.kind, rule.item, False, f"none of the phrases within {limit:g} s")
    if rule.kind == "closing":
        last = max((u.end for u in agent), default=0.0)
        limit = rule.within_s if rule.within_s is not None else float("inf")
        for utterance in reversed(agent):
            if last - utterance.end <= limit and (said := _says(utterance, phrases)):
                return Finding(rule.kind, rule.item, True, f"said {said} at {utterance.start:.1f} s", [_evidence(utterance, said)])
        return Finding(rule.kind, rule.item, False, "no closing phrase at the end")
    if rule.kind == "forbidden":
        hits = [_evidence(u, said) for u in agent if (said := _says(u, phrases))]
        detail = f"{len(hits)} forbidden phrase(s)" if hits else "no forbidden phrase"
        return Finding(rule.kind, rule.item, not hits, detail, hits)
    if rule.kind == "hold":  # handbook §2: ask before a hold ("请您稍等"), apologise on return ("让您久等了")
        asked = next(((u, said) for u in agent if (said := _says(u, phrases))), None)
        back = next(((u, said) for u in agent if (said := _says(u, rule.after.for_language(lang))) and (asked is None or u.start >= asked[0].start)), None)
        evidence = [_evidence(*found) for found in (asked, back) if found is not None]
        missing = [what for what, found in (("asking first", asked), ("thanks on return", back)) if found is None]
        detail = f"{holds} hold(s): " + ("asked first and thanked on return" if not missing else f"no {' and no '.join(missing)}")
        return Finding(rule.kind, rule.item, not missing, detail, evidence)
    if rule.kind == "silence":
        limit = rule.max_s if rule.max_s is not None else 10.0
        long = [s for s in metrics.silences if s.length > limit]
        evidence = [{"side": None, "start": round(s.start, 2), "end": round(s.end, 2), "text": ""} for s in long]
        return Finding(rule.kind, rule.item, not long, f"longest silence {metrics.longest_silence_s:.1f} s (limit {limit:g} s)", evidence)
    if rule.kind == "talk_over":
        limit = rule.max_count if rule.max_count is not None else 3
        over = metrics.agent_interruptions > limit
        evidence = [{"side": "agent", "start": round(s.start, 2), "end": round(s.end, 2), "text": ""} for s in metrics.agent_interruption_at] if over else []
        return Finding(rule.kind, rule.item, not over, f"{metrics.agent_interruptions} interruption(s) (limit {limit})", evidence)
    return None


def not_assessed(
    scorecard: ScorecardDefinition, lang: str, transcript: list[Utterance] | None, holds: int = 0, direction: str = "inbound"
) -> list[dict[str, str]]:
    """The rules that could not be checked, and why: word rules without a transcript (of those
    that apply to the call: see :func:`applies`)."""
    if transcript is not None:
        return []
    why = f"no transcript: no speech model for '{lang}' (qa.whisper_models, or pip install callcenter[transcribe])"
    return [
        {"rule": rule.kind, "item": rule.item, "why": why} for rule in scorecard.rules
        if rule.kind in TRANSCRIPT_RULES and applies(rule, holds, direction)
    ]  # fmt: skip


def coverage(scorecard: ScorecardDefinition, filled: dict[str, dict[str, Any]]) -> float:
    """The share of the scorecard's points the auto-QA decided (0–1): what its auto score is out of."""
    items = scorecard.items()
    total = sum(item.max_points for item in items.values())
    return round(sum(items[code].max_points for code in filled) / total, 3) if total else 0.0


def prefill(scorecard: ScorecardDefinition, findings: list[Finding]) -> dict[str, dict[str, Any]]:
    """Items the findings decide: full points when every rule on the item passed, none otherwise.
    Labelled ``auto``; an inspector's grade replaces them."""
    items = scorecard.items()
    filled: dict[str, dict[str, Any]] = {}
    for finding in findings:
        item = items[finding.item]
        entry = filled.setdefault(finding.item, {"auto": True, "passed": True, "evidence": [], "rules": []})
        entry["passed"] = entry["passed"] and finding.passed
        entry["evidence"] += finding.evidence
        entry["rules"].append(finding.rule)
        entry["points"] = item.max_points if entry["passed"] else 0.0
        if item.fatal:
            entry["failed"] = not entry["passed"]
    return filled


def auto_score(scorecard: ScorecardDefinition, filled: dict[str, dict[str, Any]]) -> float | None:
    """The share of points the auto-QA gave, over the items it could decide, out of 100."""
    items = scorecard.items()
    possible = sum(items[code].max_points for code in filled)
    if any(entry.get("failed") for entry in filled.values()):
        return 0.0
    return round(100 * sum(entry["points"] for entry in filled.values()) / possible, 1) if possible else None
