"""The auto-QA of one two-sided call: signal metrics, the transcript if a model is configured, the
rules' findings and the scorecard items they pre-fill. Used by the QA worker for every call and by
``callcenter qa analyze`` for recordings from anywhere; needs no database."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.rules import auto_score, check, coverage, not_assessed, prefill
from qa.scorecards import ScorecardDefinition
from qa.sentiment import signals
from qa.signals import AudioError, measure, read_wav, speech_segments
from qa.transcribe import Transcriber

AUTO = "auto"  # qa.language: each call in its own language (Chinese or English)


@dataclass(frozen=True)
class Legs:
    agent: np.ndarray
    customer: np.ndarray
    rate: int

    @property
    def duration_s(self) -> float:
        return max(len(self.agent), len(self.customer)) / self.rate


def load_legs(agent: Path | str | None = None, customer: Path | str | None = None, stereo: Path | str | None = None) -> Legs:
    """Two mono files (agent, customer), or one stereo file: left the agent, right the customer."""
    if stereo is not None:
        channels, rate = read_wav(stereo)
        if len(channels) != 2:
            raise AudioError(f"{stereo}: a stereo file has two channels, this one has {len(channels)}")
        return Legs(channels[0], channels[1], rate)
    if agent is None or customer is None:
        raise AudioError("give the agent's and the customer's recordings, or one stereo file")
    (agent_samples, *_), agent_rate = read_wav(agent)
    (customer_samples, *_), customer_rate = read_wav(customer)
    if agent_rate != customer_rate:
        raise AudioError(f"the two legs have different sample rates ({agent_rate} and {customer_rate} Hz)")
    return Legs(agent_samples, customer_samples, agent_rate)


def stereo_wav(agent: Path | str, customer: Path | str) -> bytes:
    """The two legs as one stereo WAV (agent left, customer right): what the QA player shows."""
    legs = load_legs(agent, customer)
    length = max(len(legs.agent), len(legs.customer))
    frames = np.zeros((length, 2), dtype="<i2")
    frames[: len(legs.agent), 0], frames[: len(legs.customer), 1] = legs.agent, legs.customer
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(legs.rate)
        writer.writeframes(frames.tobytes())
    return out.getvalue()


def analyse(
    legs: Legs,
    scorecard: ScorecardDefinition,
    lang: str = "zh",
    *,
    start_s: float = 0.0,
    transcriber: Transcriber | None = None,
    hold: dict[str, float] | None = None,
    direction: str = "inbound",
) -> dict[str, Any]:
    """The auto-QA result (docs/api.md, ``GET /api/calls/{id}/qa``). ``start_s`` is where the
    conversation begins in the recording (the answer); times in the result count from there.
    ``direction`` (inbound or outbound) picks the rules that apply, e.g. the outbound opening.
    ``lang`` ``auto``: the call's own language, as the model hears the agent (a center whose agents
    take calls in Chinese and in English); without a transcriber, Chinese."""
    end = legs.duration_s
    agent_speech, customer_speech = speech_segments(legs.agent, legs.rate), speech_segments(legs.customer, legs.rate)
    metrics = measure(agent_speech, customer_speech, start_s, end)
    if lang == AUTO:
        speaking = legs.agent if metrics.agent_talk_s > 0 else legs.customer
        lang = transcriber.language_of(speaking, legs.rate, start_s, end) if transcriber is not None else "zh"
    transcript = None
    if transcriber is not None:
        transcript = sorted(
            transcriber.transcribe(legs.agent, legs.rate, "agent", lang, start_s, end)
            + transcriber.transcribe(legs.customer, legs.rate, "customer", lang, start_s, end),
            key=lambda u: u.start,
        )
    holds = int((hold or {}).get("count", 0))
    findings = [f for rule in scorecard.rules if (f := check(rule, lang, metrics, transcript, holds, direction)) is not None]
    filled = prefill(scorecard, findings)
    summary = metrics.as_dict()
    if transcript is not None and metrics.agent_talk_s > 0:
        said = " ".join(u.text for u in transcript if u.side == "agent")
        units = len(said.split()) if lang.startswith("en") else len([c for c in said if not c.isspace() and not c.isascii()])
        summary["agent_rate_per_min"] = round(units * 60 / metrics.agent_talk_s, 1)  # words (en) or characters (zh)
    if hold is not None:
        summary.update(hold_count=hold.get("count", 0), hold_s=hold.get("seconds", 0.0))
    return {
        "scorecard": scorecard.key,
        "language": lang,
        "direction": direction,
        "metrics": summary,
        "transcript": [u.as_dict() for u in transcript] if transcript is not None else None,
        "findings": [f.as_dict() for f in findings],
        "prefilled": filled,
        "auto_score": auto_score(scorecard, filled),
        "auto_score_covers": coverage(scorecard, filled),  # share of the scorecard's points the auto score is over
        "not_assessed": not_assessed(scorecard, lang, transcript, holds, direction),
        # Mood signals (qa/sentiment.py): evidence for the inspector, never a score by themselves.
        "signals": [s.as_dict() for s in signals(legs.agent, legs.customer, legs.rate, agent_speech, customer_speech, transcript, lang, start_s, end)],
        "flagged": any(not f.passed for f in findings),
    }
