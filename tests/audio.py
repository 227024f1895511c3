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
