"""Auto-QA of Mandarin calls, as an inspector runs it: `callcenter qa analyze --lang zh` on a model
call and a rude one, spoken in Mandarin (Kokoro, telephony/sandbox/mandarin.py) and transcribed by
the installed multilingual Whisper (qa/models.py). The greeting with 工号, the hold phrases, the
closing and the forbidden words are found where they are said, and the model call scores well above."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.models import installed_model
from telephony.sandbox import mandarin
from telephony.sandbox.scripted import scripted_call


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, dict[str, float]]]:
    if not mandarin.available() or installed_model("zh") is None:
        pytest.fail("the voices and transcribe extras are part of the test install (scripts/setup.sh)")
    folder = tmp_path_factory.mktemp("mandarin")
    return {script: scripted_call(folder, script, "zh") for script in ("good", "rude")}


def analyze(agent: Path, customer: Path, *extra: str, lang: str = "zh") -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "agent_ui.cli", "qa", "analyze", "--agent", str(agent), "--customer", str(customer), "--lang", lang, *extra, "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_model_call_finds_every_service_phrase_and_scores_well_above_the_rude_one(calls) -> None:  # type: ignore[no-untyped-def]
    good_agent, good_customer, marks = calls["good"]
    good = analyze(good_agent, good_customer, "--holds", str(int(marks["holds"])))
    found = {f["rule"]: f for f in good["findings"]}
    assert all(f["passed"] for f in found.values()), found
    assert {"greeting", "disclosure", "hold", "closing", "forbidden"} <= set(found)
    assert [e["phrase"] for e in found["hold"]["evidence"]][-1] == "让您久等了"
    assert found["hold"]["evidence"][0]["start"] < found["hold"]["evidence"][-1]["start"]  # asked first, thanked after
    assert found["closing"]["evidence"][0]["start"] > 20  # at the end, not the start
    assert good["transcript"] and all(u["side"] == "agent" for u in good["transcript"])

    rude_agent, rude_customer, rude_marks = calls["rude"]
    rude = analyze(rude_agent, rude_customer)
    failed = {f["rule"]: f for f in rude["findings"] if not f["passed"]}
    assert {"greeting", "closing", "forbidden"} <= set(failed)
    (said, *_) = failed["forbidden"]["evidence"]
    assert said["phrase"] in ("喂", "不清楚") and abs(said["start"] - rude_marks["rude_at"]) < 3.0
    assert good["auto_score"] - rude["auto_score"] >= 40, (good["auto_score"], rude["auto_score"])


def test_auto_hears_each_call_in_its_own_language(calls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A center whose agents answer in Chinese and in English (the demo's): qa.language = auto."""
    agent, customer, _ = calls["good"]
    chinese = analyze(agent, customer, lang="auto")
    english = analyze(*scripted_call(tmp_path, "good", "en")[:2], lang="auto")
    assert (chinese["language"], english["language"]) == ("zh", "en")
    for result in (chinese, english):  # each call's greeting found by its own language's phrases
        assert next(f for f in result["findings"] if f["rule"] == "greeting")["passed"], result["findings"]
