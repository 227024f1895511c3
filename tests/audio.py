"""Reading recordings in tests."""

import array
import math
import wave
from pathlib import Path


def wav_stats(path: Path) -> tuple[float, float]:
    """(duration in seconds, RMS level from 0 to 1) of a 16-bit mono WAV."""
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        frames = wav.readframes(wav.getnframes())
        rate = wav.getframerate()
    samples = array.array("h", frames)
    if not samples:
        return 0.0, 0.0
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    return len(samples) / rate, rms


def rms_between(path: Path, start_s: float, end_s: float) -> float:
    """RMS level (0 to 1) of a 16-bit mono WAV between two times; negative times count from its end."""
    with wave.open(str(path)) as wav:
        rate, total = wav.getframerate(), wav.getnframes()
        first, last = (int((t if t >= 0 else total / rate + t) * rate) for t in (start_s, end_s))
        first, last = max(0, first), min(total, last)
        wav.setpos(first)
        samples = array.array("h", wav.readframes(max(0, last - first)))
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768 if samples else 0.0
