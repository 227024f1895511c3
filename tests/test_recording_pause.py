"""Pausing a call's recording from the desktop while the customer gives a card number (issue 18):
Asterisk mutes MixMonitor on both sides, the recording is silent over the span and sounds again
after it, and the call log keeps the span."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from telephony.calls.control import CallControlError
from telephony.sandbox.calls import place_call, wait_for_recordings
from tests.audio import rms_between, wav_stats
from tests.conftest import LiveStack
from tests.live_calls import next_event, of_call, reset_agents, stored_call, unknown_number

SILENT = 0.002  # RMS of a muted stretch: nothing but rounding
SPEAKING = 0.01  # both simulated sides speak in a loop


async def test_a_paused_recording_is_silent_over_the_span_the_call_log_keeps(live: LiveStack) -> None:
    await reset_agents(live)
    control = live.service.bridge.call_control
    with live.service.bus.subscribe() as events:
        task = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=6))
        answered = await next_event(events, lambda e: e.name == "call.answered")
        linkedid = answered.call.linkedid  # type: ignore[attr-defined]
        await asyncio.sleep(1.0)
        await control.pause_recording(linkedid)
        paused = await next_event(events, of_call(linkedid, "call.recording_paused"))
        assert paused.paused and paused.call.recording_paused[0]["end"] is None  # type: ignore[attr-defined]
        with pytest.raises(CallControlError, match="already paused"):
            await control.pause_recording(linkedid)
        await asyncio.sleep(2.0)
        await control.resume_recording(linkedid)
        resumed = await next_event(events, of_call(linkedid, "call.recording_paused"))
        assert not resumed.paused  # type: ignore[attr-defined]
        with pytest.raises(CallControlError, match="not paused"):
            await control.resume_recording(linkedid)
        result = await task
    row = await stored_call(live, linkedid)
    (span,) = row.recording_paused
    start, end = datetime.fromisoformat(span["start"]), datetime.fromisoformat(span["end"])
    assert 1.8 <= (end - start).total_seconds() <= 3.0

    files = await wait_for_recordings(Path(live.sandbox.recordings_dir), result.linkedid)
    mix = next(f for f in files if f.name.endswith("-mix.wav"))
    duration, _ = wav_stats(mix)
    # The recording ends at the hang-up: the span sits that far before its end.
    offset = duration - (row.ended_at - start).total_seconds()
    length = (end - start).total_seconds()
    assert rms_between(mix, offset + 0.3, offset + length - 0.3) < SILENT
    assert rms_between(mix, offset + length + 0.3, duration - 0.3) > SPEAKING  # recorded again after it
