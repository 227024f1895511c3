"""Auto-QA speed, in times real time on one core: the signal metrics of a two-sided call (webrtcvad
on each leg, then the metrics; target ≥ 300×) against the same with Silero VAD (the ONNX model that
ships inside faster-whisper, the other maintained choice), and the transcript (faster-whisper,
Whisper tiny.en int8, one thread) of the agent's leg.

The call: 60 s per leg of espeak-ng speech and pauses at 8 kHz, as the sandbox records them.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import Section
from qa.signals import measure, speech_segments

CALL_S = 60.0


def _call(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from telephony.sandbox.scripted import RATE, prompt, silence

    agent_parts = [prompt(folder, n) for n in ("agent-greeting-en", "agent-talk-en", "agent-closing-en")]
    customer_part = prompt(folder, "customer-en")
    agent, customer = [], []
    while sum(len(p) for p in agent) < CALL_S * RATE:
        for part in agent_parts:
            agent += [part, silence(1.2)]
            customer += [silence(len(part) / RATE + 0.2), customer_part[: len(part) // 2], silence(1.0 - 0.2)]
    length = int(CALL_S * RATE)
    pad = lambda parts: np.concatenate(parts)[:length] if sum(map(len, parts)) >= length else np.pad(np.concatenate(parts), (0, length - sum(map(len, parts))))  # noqa: E731
    return pad(agent), pad(customer)


def _times_real_time(work, audio_s: float, minimum_s: float = 2.0) -> float:  # type: ignore[no-untyped-def]
    """Audio seconds processed per CPU second of this process (one thread), over at least ``minimum_s``."""
    runs, spent = 0, 0.0
    while spent < minimum_s:
        began = time.process_time()
        work()
        spent += time.process_time() - began
        runs += 1
    return runs * audio_s / spent


def _silero(samples: np.ndarray) -> list[dict]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio16 = np.interp(np.arange(len(samples) * 2) / 2, np.arange(len(samples)), samples).astype(np.float32) / 32768.0
    return get_speech_timestamps(audio16, VadOptions(), sampling_rate=16000)


def run(quick: bool) -> Section:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says
    folder = Path(tempfile.mkdtemp(prefix="cc-bench-qa-"))
    agent, customer = _call(folder)
    audio_s = 2 * CALL_S  # both legs

    def ours() -> None:
        measure(speech_segments(agent, 8000), speech_segments(customer, 8000), 0.0, CALL_S)

    def silero() -> None:
        _silero(agent)
        _silero(customer)

    minimum = 0.5 if quick else 3.0
    rows = [
        ["signal metrics, webrtcvad (ours)", f"{_times_real_time(ours, audio_s, minimum):.0f}×"],
        ["signal metrics, Silero VAD (peer)", f"{_times_real_time(silero, audio_s, minimum):.0f}×"],
    ]
    from qa.transcribe import Transcriber
    from telephony.sandbox.scripted import whisper_model_dir

    transcriber = Transcriber(whisper_model_dir(), cpu_threads=1)
    transcribe = lambda: transcriber.transcribe(agent, 8000, "agent", "en")  # noqa: E731
    rows.append(["transcript, faster-whisper tiny.en int8 (agent leg)", f"{_times_real_time(transcribe, CALL_S, minimum):.1f}×"])
    section = Section(
        title="Auto-QA throughput: times real time on one core",
        intro=(
            f"A {CALL_S:.0f} s two-sided call (espeak-ng speech at 8 kHz, both legs = {audio_s:.0f} s of audio); CPU time of this "
            "process, one thread. Target for the signal metrics: ≥ 300× real time per core."
        ),
        header=["work", "× real time"],
        rows=rows,
    )
    ours_x, peer_x = (float(r[1].rstrip("×")) for r in rows[:2])
    met = "met" if ours_x >= 300 else "NOT met"
    section.notes.append(f"- Target ≥ 300×: {met} ({ours_x:.0f}×); Silero VAD does the same work at {peer_x:.0f}×, {ours_x / peer_x:.0f}× slower.")
    return section
