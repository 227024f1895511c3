"""Mood signals on espeak-ng speech and on transcripts: a customer who starts shouting, a customer who
talks on and on while the agent says nothing, negative words; signals are evidence, never a score."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.analysis import analyse, load_legs
from qa.scorecards import DEFAULT_SCORECARD
from qa.sentiment import negative_words
from qa.transcribe import Utterance
from telephony.sandbox.scripted import RATE, prompt, silence, write


def legs(folder: Path, agent: np.ndarray, customer: np.ndarray) -> tuple[Path, Path]:
    length = max(len(agent), len(customer))
    pad = lambda x: np.concatenate([x, np.zeros(length - len(x), dtype=np.int16)])  # noqa: E731
    return write(folder / "agent.wav", pad(agent)), write(folder / "customer.wav", pad(customer))


def scaled(samples: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(samples.astype(np.float32) * factor, -32768, 32767).astype(np.int16)


def signals_of(folder: Path, agent: np.ndarray, customer: np.ndarray) -> dict[str, dict]:
    result = analyse(load_legs(*legs(folder, agent, customer)), DEFAULT_SCORECARD, "en")
    assert not {f["rule"] for f in result["findings"]} & {"raised_voice", "monologue", "negative_words"}  # never a scored finding
    return {s["kind"]: s for s in result["signals"]}


def test_a_customer_who_starts_shouting_is_a_raised_voice_at_that_moment(tmp_path: Path) -> None:
    speech = prompt(tmp_path, "customer-en")
    calm = [part for _ in range(3) for part in (scaled(speech, 0.2), silence(0.6))]
    shouting_from = sum(len(p) for p in calm) / RATE
    customer = np.concatenate([*calm, scaled(speech, 1.0), silence(0.6)])
    found = signals_of(tmp_path, silence(len(customer) / RATE), customer)
    raised = found["raised_voice"]
    assert raised["side"] == "customer" and raised["evidence"]
    for stretch in raised["evidence"]:
        assert shouting_from - 0.5 <= stretch["start"] and stretch["end"] <= shouting_from + len(speech) / RATE + 0.5
        assert stretch["db_above"] >= 9
    steady = np.concatenate([part for _ in range(4) for part in (scaled(speech, 0.5), silence(0.6))])
    assert "raised_voice" not in signals_of(tmp_path, silence(len(steady) / RATE), steady)


def test_a_long_customer_monologue_is_a_signal_unless_the_agent_speaks_in_it(tmp_path: Path) -> None:
    speech = prompt(tmp_path, "customer-en")
    talk = np.concatenate([part for _ in range(int(50 * RATE / len(speech)) + 1) for part in (speech, silence(0.5))])
    alone = signals_of(tmp_path, silence(len(talk) / RATE), talk)
    (stretch,) = alone["monologue"]["evidence"]
    assert stretch["end"] - stretch["start"] >= 45
    agent = np.concatenate([silence(20), prompt(tmp_path, "agent-talk-en")])  # "I understand..." in the middle
    assert "monologue" not in signals_of(tmp_path, agent, talk)


def test_negative_words_are_the_customers_and_read_in_simplified_chinese() -> None:
    transcript = [
        Utterance("customer", 2.0, 5.0, "我要投訴你們，太差了"),
        Utterance("agent", 6.0, 8.0, "非常抱歉，我帮您登记投诉"),  # the agent's own words are not the customer's mood
        Utterance("customer", 9.0, 11.0, "好的，谢谢"),
    ]
    found = negative_words(transcript, "zh")
    assert found is not None and [(e["start"], e["phrase"]) for e in found.evidence] == [(2.0, "投诉")]
    assert negative_words([Utterance("customer", 1.0, 2.0, "Thanks, that was quick")], "en") is None
    assert negative_words(None, "en") is None
