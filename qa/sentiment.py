"""Signs of the customer's (or the agent's) mood in a call: a raised voice, a long monologue, negative
words. Each is a signal with evidence an inspector can jump to; none of them passes or fails an item
or changes a score (docs/api.md, "Signals"). Pure functions over samples, speech segments and the
transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa.chinese import normalise
from qa.signals import Segment
from qa.transcribe import Utterance

WINDOW_S = 0.5
RAISED_DB = 9.0  # this much louder than the side's own typical speech is a raised voice
RAISED_MIN_S = 1.0
BASELINE_MIN_S = 8.0  # a side needs this much speech before its "typical" level means anything
MONOLOGUE_S = 45.0  # the customer talking this long without the agent saying a word
MONOLOGUE_GAP_S = 1.5  # shorter pauses do not end a monologue
NEGATIVE_WORDS = {
    "zh": ["投诉", "生气", "太差", "不满意", "垃圾", "骗子", "骗人", "退款", "失望", "受够了", "什么态度", "太慢了", "找你们领导"],
    "en": ["complaint", "complain", "angry", "terrible", "unacceptable", "ridiculous", "refund", "disappointed", "useless", "manager"],
}


@dataclass
class Signal:
    kind: str  # raised_voice | monologue | negative_words
    side: str  # agent | customer
    detail: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "side": self.side, "detail": self.detail, "evidence": self.evidence}


def _levels(samples: np.ndarray, rate: int, start: float, end: float) -> np.ndarray:
    """dBFS of each WINDOW_S window from ``start`` to ``end`` seconds."""
    size = int(rate * WINDOW_S)
    chunk = np.asarray(samples[int(start * rate) : int(end * rate)], dtype=np.float32)
    count = len(chunk) // size
    if count == 0:
        return np.zeros(0)
    rms = np.sqrt(np.mean(chunk[: count * size].reshape(count, size) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1.0) / 32768.0)


def _speaking(segments: list[Segment], count: int, start: float) -> np.ndarray:
    """Which windows (from ``start``) lie mostly in the side's speech."""
    inside = np.zeros(count, dtype=bool)
    for i in range(count):
        a, b = start + i * WINDOW_S, start + (i + 1) * WINDOW_S
        inside[i] = sum(max(0.0, min(b, s.end) - max(a, s.start)) for s in segments) >= WINDOW_S / 2
    return inside


def raised_voice(samples: np.ndarray, rate: int, segments: list[Segment], side: str, start: float, end: float) -> Signal | None:
    """Stretches of at least RAISED_MIN_S where the side speaks RAISED_DB above its median speech level."""
    levels = _levels(samples, rate, start, end)
    speaking = _speaking(segments, len(levels), start)
    if speaking.sum() * WINDOW_S < BASELINE_MIN_S:
        return None
    typical = float(np.median(levels[speaking]))
    loud = speaking & (levels >= typical + RAISED_DB)
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(loud):
        if runs and i - runs[-1][1] <= 1:  # one quieter window inside a shout does not end it
            runs[-1] = (runs[-1][0], int(i) + 1)
        else:
            runs.append((int(i), int(i) + 1))
    evidence = [
        {"side": side, "start": round(a * WINDOW_S, 2), "end": round(b * WINDOW_S, 2), "text": "",
         "db_above": round(float(levels[a:b].max()) - typical, 1)}
        for a, b in runs if (b - a) * WINDOW_S >= RAISED_MIN_S
    ]  # fmt: skip
    if not evidence:
        return None
    return Signal("raised_voice", side, f"{len(evidence)} stretch(es) {RAISED_DB:g} dB or more above the usual level", evidence)


def monologue(customer: list[Segment], agent: list[Segment]) -> Signal | None:
    """The customer talking MONOLOGUE_S or more while the agent says nothing (times from the answer)."""
    runs: list[Segment] = []
    for s in customer:
        if runs and s.start - runs[-1].end <= MONOLOGUE_GAP_S:
            runs[-1] = Segment(runs[-1].start, s.end)
        else:
            runs.append(s)
    long = [
        r for r in runs
        if r.length >= MONOLOGUE_S and not any(a.start < r.end and a.end > r.start for a in agent)
    ]  # fmt: skip
    if not long:
        return None
    evidence = [{"side": "customer", "start": round(r.start, 2), "end": round(r.end, 2), "text": ""} for r in long]
    return Signal("monologue", "customer", f"the customer spoke {max(r.length for r in long):.0f} s without a word from the agent", evidence)


def negative_words(transcript: list[Utterance] | None, lang: str) -> Signal | None:
    """The customer's utterances with a negative word of the language's list."""
    words = NEGATIVE_WORDS.get(lang[:2], [])
    hits = []
    for utterance in transcript or []:
        text = normalise(utterance.text).lower()
        said = [w for w in words if (f" {w}" in f" {text}" if w.isascii() else w in text)]
        if utterance.side == "customer" and said:
            hits.append({**utterance.as_dict(), "phrase": said[0]})
    if not hits:
        return None
    return Signal("negative_words", "customer", f"{len(hits)} utterance(s) with negative words", hits)


def signals(
    agent_samples: np.ndarray, customer_samples: np.ndarray, rate: int, agent: list[Segment], customer: list[Segment],
    transcript: list[Utterance] | None, lang: str, start: float, end: float,
) -> list[Signal]:  # fmt: skip
    """Every signal of the conversation from ``start`` to ``end`` seconds of the recording; times in
    the evidence count from ``start``. ``agent`` and ``customer`` are the sides' speech segments."""
    shifted = {
        side: [Segment(max(s.start, start) - start, min(s.end, end) - start) for s in segments if s.end > start and s.start < end]
        for side, segments in (("agent", agent), ("customer", customer))
    }
    found = [
        raised_voice(customer_samples, rate, customer, "customer", start, end),
        raised_voice(agent_samples, rate, agent, "agent", start, end),
        monologue(shifted["customer"], shifted["agent"]),
        negative_words(transcript, lang),
    ]
    return [s for s in found if s is not None]
