"""Mandarin transcripts as the phrase rules read them (issue 18, part): traditional characters,
full-width forms and numbers spoken as characters match the scorecard's simplified phrases."""

from __future__ import annotations

import pytest

from qa.chinese import near_miss, normalise
from qa.rules import check, not_assessed
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


@pytest.mark.parametrize(
    ("phrase", "text", "heard"),
    [
        ("欢迎致电", "您好欢迎至电客服中心", "欢迎至电"),  # a homophone Whisper wrote
        ("欢迎致电", "您好欢迎电话", "欢迎电"),  # a character dropped (four or more: one syllable may go)
        ("欢迎致电", "您好欢迎致客服中心", "欢迎致客"),  # or be misheard
        ("很高兴为您服务", "很高兴为你服务", "很高兴为你服务"),  # one syllable off in seven
        ("感谢您的来电", "感谢你的来电", "感谢你的来电"),
        ("不清楚", "这个我布清除", "布清除"),  # three characters: same sounds only
    ],
)
def test_a_phrase_heard_as_a_near_miss_is_found(phrase: str, text: str, heard: str) -> None:
    assert near_miss(text, phrase) == heard


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("不清楚", "这个我很清楚"),  # three characters, one sound differs: not the forbidden phrase
        ("您好", "你号"),  # two characters: exact only
        ("欢迎致电", "欢乐至极"),  # two syllables off
        ("thank you for calling", "thank you for coming"),  # Latin script: exact only
    ],
)
def test_what_only_looks_or_sounds_a_little_alike_is_not_a_near_miss(phrase: str, text: str) -> None:
    assert near_miss(text, phrase) is None


def test_a_near_miss_passes_the_rule_and_its_evidence_shows_what_was_heard() -> None:
    metrics: Metrics = None  # type: ignore[assignment]
    greeting = check(_rule("greeting"), "zh", metrics, [Utterance("agent", 0.5, 2.0, "您號，歡迎至電")])
    assert greeting is not None and greeting.passed
    assert greeting.detail == "said '欢迎致电' (heard '欢迎至电') at 0.5 s"
    assert greeting.evidence[0]["phrase"] == "欢迎致电" and greeting.evidence[0]["heard"] == "欢迎至电"
    polite = check(_rule("forbidden"), "zh", metrics, [Utterance("agent", 3.0, 5.0, "这个问题我很清楚，马上为您处理")])
    assert polite is not None and polite.passed  # 很清楚 is not 不清楚


def test_a_hold_needs_asking_first_and_thanks_on_return() -> None:
    """Handbook §2: "请您稍等" before a hold, "让您久等了" after it; a call without a hold is not judged on it."""
    metrics: Metrics = None  # type: ignore[assignment]
    rule = _rule("hold")
    polite = [Utterance("agent", 5.0, 7.0, "好的，请您稍等，我帮您查询"), Utterance("agent", 40.0, 42.0, "让您久等了，查到了")]
    found = check(rule, "zh", metrics, polite, holds=1)
    assert found is not None and found.passed and [e["phrase"] for e in found.evidence] == ["请您稍等", "让您久等了"]
    abrupt = [Utterance("agent", 5.0, 7.0, "等着"), Utterance("agent", 40.0, 42.0, "查到了")]
    found = check(rule, "zh", metrics, abrupt, holds=2)
    assert found is not None and not found.passed and found.detail == "2 hold(s): no asking first and no thanks on return"
    thanked_before_asking = [Utterance("agent", 5.0, 6.0, "久等了"), Utterance("agent", 8.0, 9.0, "请稍等")]
    assert not check(rule, "zh", metrics, thanked_before_asking, holds=1).passed  # type: ignore[union-attr]
    assert check(rule, "zh", metrics, abrupt, holds=0) is None
    assert check(rule, "zh", metrics, None, holds=1) is None  # no transcript: not assessed
    english = [Utterance("agent", 3.0, 4.0, "May I put you on hold?"), Utterance("agent", 30.0, 31.0, "Thank you for waiting.")]
    assert check(rule, "en", metrics, english, holds=1).passed  # type: ignore[union-attr]


def test_an_outbound_call_opens_by_asking_whether_now_is_a_good_time() -> None:
    """Handbook §2 (outbound): "您好,我是客服代表XX…请问您现在方便接电话吗?"; inbound calls are not judged on it."""
    metrics: Metrics = None  # type: ignore[assignment]
    rule = _rule("outbound_opening")
    asked = [Utterance("agent", 0.8, 4.0, "您好，我是客服代表一零零二，請問您現在方便接電話嗎？")]
    found = check(rule, "zh", metrics, asked, direction="outbound")
    assert found is not None and found.passed and found.evidence[0]["phrase"] == "请问您现在方便接电话吗"
    launched = [Utterance("agent", 0.8, 4.0, "您好，我们现在有一个优惠活动")]
    found = check(rule, "zh", metrics, launched, direction="outbound")
    assert found is not None and not found.passed
    assert check(rule, "zh", metrics, launched, direction="inbound") is None
    assert not_assessed(DEFAULT_SCORECARD, "zh", None, direction="inbound") == [
        f for f in not_assessed(DEFAULT_SCORECARD, "zh", None, direction="outbound") if f["rule"] != "outbound_opening"
    ]
    assert check(rule, "en", metrics, [Utterance("agent", 1.0, 3.0, "Hi, this is Anna from ACME. Is this a good time?")], direction="outbound").passed  # type: ignore[union-attr]
