"""Mandarin transcripts as the phrase rules read them (issue 18, part): traditional characters,
full-width forms and numbers spoken as characters match the scorecard's simplified phrases."""

from __future__ import annotations

import pytest

from qa.chinese import normalise
from qa.rules import check
from qa.scorecards import DEFAULT_SCORECARD
from qa.signals import Metrics
from qa.transcribe import Utterance


@pytest.mark.parametrize(
    ("heard", "compared"),
    [
        ("您好，歡迎致電", "您好,欢迎致电"),
        ("工號一零零二為您服務", "工号1002为您服务"),
        ("工号幺零零二", "工号1002"),
        ("ＡＢＣ１２３", "ABC123"),
        ("Thank you for calling", "Thank you for calling"),
    ],
)
def test_transcripts_are_compared_simplified_with_digits(heard: str, compared: str) -> None:
    assert normalise(heard) == compared


def _rule(kind: str):  # type: ignore[no-untyped-def]
    return next(rule for rule in DEFAULT_SCORECARD.rules if rule.kind == kind)


def test_a_traditional_transcript_passes_the_greeting_and_agent_id_and_is_caught_on_a_forbidden_word() -> None:
    metrics: Metrics = None  # type: ignore[assignment]  # the word rules read the transcript alone
    said = [Utterance("agent", 0.4, 2.6, "您好，歡迎致電，工號一零零二"), Utterance("agent", 9.0, 10.0, "這個我不清楚")]
    greeting = check(_rule("greeting"), "zh", metrics, said)
    agent_id = check(_rule("disclosure"), "zh", metrics, said)
    forbidden = check(_rule("forbidden"), "zh", metrics, said)
    assert greeting is not None and greeting.passed
    assert agent_id is not None and agent_id.passed
    assert forbidden is not None and not forbidden.passed and forbidden.evidence[0]["phrase"] == "不清楚"
