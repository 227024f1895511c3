"""Auto-QA on two-sided recordings spoken by espeak-ng: the model call scores higher than the bad
one, the findings point at the right moments, and without a transcript the signal rules still run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.analysis import analyse, load_legs
from qa.scorecards import DEFAULT_SCORECARD
from qa.signals import AudioError
from qa.transcribe import Transcriber
from telephony.sandbox.scripted import scripted_call, whisper_model_dir


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber(whisper_model_dir())


def findings(result: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in result["findings"]}


def test_a_model_call_scores_above_a_bad_one_with_the_evidence_where_it_happened(tmp_path: Path, transcriber: Transcriber) -> None:
    good_agent, good_customer, _ = scripted_call(tmp_path, "good")
    bad_agent, bad_customer, marks = scripted_call(tmp_path, "rude")
    good = analyse(load_legs(good_agent, good_customer), DEFAULT_SCORECARD, "en", transcriber=transcriber)
    bad = analyse(load_legs(bad_agent, bad_customer), DEFAULT_SCORECARD, "en", transcriber=transcriber)

    assert good["auto_score"] == 100.0 and not good["flagged"] and good["not_assessed"] == []
    assert bad["auto_score"] < 50 and bad["flagged"]
    assert all(f["passed"] for f in good["findings"])
    assert good["prefilled"]["opening.greeting"]["points"] == 2 and good["prefilled"]["closing.thanks"]["points"] == 2

    rules = findings(bad)
    assert not rules["greeting"]["passed"] and not rules["closing"]["passed"]
    (said,) = rules["forbidden"]["evidence"]
    assert said["phrase"] in ("whatever", "not my problem") and abs(said["start"] - marks["rude_at"]) < 0.7
    (gap,) = rules["silence"]["evidence"]
    # espeak-ng ends each prompt with ~0.4 s of quiet, so the silence starts that much before the file ends
    assert -0.7 < gap["start"] - marks["silence_from"] < 0.2 and abs(gap["end"] - gap["start"] - marks["silence_s"]) < 0.8
    assert bad["prefilled"]["hold_transfer.no_dead_air"] == {**bad["prefilled"]["hold_transfer.no_dead_air"], "points": 0.0, "auto": True}
    assert abs(bad["metrics"]["first_agent_speech_s"] - marks["rude_at"]) < 0.3


def test_without_a_transcript_the_signal_rules_still_decide(tmp_path: Path) -> None:
    agent, customer, marks = scripted_call(tmp_path, "rude")
    result = analyse(load_legs(agent, customer), DEFAULT_SCORECARD, "en")
    assert result["transcript"] is None
    assert set(findings(result)) == {"silence", "talk_over"}
    assert result["metrics"]["longest_silence_s"] == pytest.approx(marks["silence_s"], abs=0.6)
    assert result["auto_score"] == pytest.approx(100 * 6 / 8)  # talk-over kept its 6 points, dead air lost 2
    # The word rules are not assessed, never passed: they are listed with why, and the score says what it covers.
    assert {(n["rule"], n["item"]) for n in result["not_assessed"]} == {
        (rule.kind, rule.item) for rule in DEFAULT_SCORECARD.rules if rule.kind in ("greeting", "closing", "disclosure", "forbidden")
    }
    assert all("no transcript" in n["why"] for n in result["not_assessed"])
    total = sum(item.max_points for item in DEFAULT_SCORECARD.items().values())
    assert result["auto_score_covers"] == pytest.approx(8 / total, abs=0.001)  # the 8 points of the two signal items


def test_the_command_line_analyses_an_archive_recording_without_a_database(tmp_path: Path) -> None:
    agent, customer, _ = scripted_call(tmp_path, "good")
    done = subprocess.run(
        [sys.executable, "-m", "agent_ui.cli", "qa", "analyze", "--agent", str(agent), "--customer", str(customer), "--lang", "en",
         "--direction", "outbound", "--no-transcript", "--json"],
        capture_output=True, text=True, timeout=120, env={"CALLCENTER_DATA_DIR": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["metrics"]["agent_talk_s"] > 10 and result["transcript"] is None
    assert result["direction"] == "outbound" and "outbound_opening" in {n["rule"] for n in result["not_assessed"]}
    missing = subprocess.run(
        [sys.executable, "-m", "agent_ui.cli", "qa", "analyze", "--agent", str(tmp_path / "nope.wav"), "--customer", str(customer), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 1 and "nope.wav" in missing.stderr and "Traceback" not in missing.stderr


def test_a_file_that_is_not_a_recording_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.wav"
    bogus.write_text("not audio")
    with pytest.raises(AudioError, match="notes.wav"):
        load_legs(bogus, bogus)
