"""Auto-QA of calls recorded by the real sandbox: one agent's phone speaks a model call, another's
a bad one (no greeting, a rude answer, 12 s of silence); the QA worker analyses both recordings
from the durable intake and the model call scores higher, with the evidence at the right moments."""

from __future__ import annotations

import asyncio
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import QaSettings
from crm.models import Call, QaIntake
from qa.worker import QaWorker
from telephony.sandbox import Sandbox
from telephony.sandbox.calls import place_call
from telephony.sandbox.scripted import whisper_model_dir
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, set_phone, stored_call, unknown_number


def seconds(path: Path) -> float:
    with wave.open(str(path)) as reader:
        return reader.getnframes() / reader.getframerate()


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)  # the database side is tested on both in test_qa_api
async def test_the_model_call_outscores_the_bad_one(live: LiveStack, tmp_path: Path) -> None:
    await reset_agents(live)
    bridge = live.service.bridge
    since = datetime.now(UTC)  # the other tests' recorded calls are not this test's to analyse
    try:
        for extension in ("1003", "1004"):
            await bridge.control.pause(extension, "break")
        await set_phone(live, "1001", script="good")
        await set_phone(live, "1002", script="rude")
        calls = await asyncio.gather(*(
            place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=40, speak_once=True) for _ in range(2)
        ))  # fmt: skip
        rows = {row.agent_extension: row for row in [await stored_call(live, c.linkedid) for c in calls]}
        assert set(rows) == {"1001", "1002"} and all(r.hangup_side == "agent" for r in rows.values())
    finally:
        await reset_agents(live)

    recordings = Path(live.sandbox.recordings_dir)
    settings = QaSettings(language="en", whisper_model_dir=whisper_model_dir(), sample_percent=0)
    worker = QaWorker(live.sessions, settings, lambda server: recordings)
    try:
        async with asyncio.timeout(90):
            while True:
                await worker.run_once(since)
                async with live.sessions() as session:
                    done = {
                        call.agent_extension: intake
                        for intake, call in await session.execute(
                            select(QaIntake, Call).join(Call, Call.id == QaIntake.call_id).where(Call.id.in_([r.id for r in rows.values()]))
                        )
                        if intake.state != "pending"
                    }
                if len(done) == 2:
                    break
                await asyncio.sleep(0.5)
    finally:
        await worker.stop()
    good, bad = done["1001"], done["1002"]
    assert (good.state, bad.state) == ("done", "done"), (good.error, bad.error)
    assert good.auto_score > bad.auto_score and bad.flagged
    found = {f["rule"]: f for f in bad.result["findings"]}
    assert not found["greeting"]["passed"] and not found["silence"]["passed"]
    # The rude script: 2 s after the answer the rude words, then 12 s of silence.
    rude_s = seconds(Sandbox(live.service.settings).host("sounds") / "agent-rude-en.wav")
    (gap,) = found["silence"]["evidence"]
    assert abs(gap["start"] - (2 + rude_s)) < 0.8 and 11.0 < gap["end"] - gap["start"] < 13.0
    (said, *_) = found["forbidden"]["evidence"]
    assert abs(said["start"] - 2) < 1.0
    assert good.result["metrics"]["first_agent_speech_s"] < 1.5 and bad.result["metrics"]["first_agent_speech_s"] > 1.5
