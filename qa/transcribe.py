"""Transcripts for auto-QA (optional): faster-whisper with a CTranslate2 Whisper model from a
directory (``qa.whisper_model_dir``); nothing is ever downloaded. Each side is transcribed on its
own, so every utterance is known to be the agent's or the customer's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHISPER_RATE = 16000


class TranscriptionUnavailable(RuntimeError):
    """faster-whisper is not installed or the model directory is unusable; the message says which."""


@dataclass(frozen=True)
class Utterance:
    side: str  # agent | customer
    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"side": self.side, "start": round(self.start, 2), "end": round(self.end, 2), "text": self.text}


class Transcriber:
    def __init__(self, model_dir: Path | str, cpu_threads: int = 1) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise TranscriptionUnavailable("faster-whisper is not installed (pip install callcenter[transcribe])") from None
        if not (Path(model_dir) / "model.bin").is_file():
            raise TranscriptionUnavailable(f"{model_dir}: no CTranslate2 Whisper model (model.bin) there")
        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads)
        self.english_only = not self._model.model.is_multilingual

    def transcribe(self, samples: np.ndarray, rate: int, side: str, lang: str, start: float = 0.0, end: float | None = None) -> list[Utterance]:
        """The utterances of one side between ``start`` and ``end`` seconds; times count from ``start``."""
        audio = _whisper_audio(samples, rate, start, end)
        language = None if self.english_only else ("zh" if lang.startswith("zh") else "en")
        segments, _ = self._model.transcribe(audio, language=language, beam_size=1, vad_filter=True, condition_on_previous_text=False)
        return [Utterance(side, s.start, s.end, s.text.strip()) for s in segments if s.text.strip()]

    def language_of(self, samples: np.ndarray, rate: int, start: float = 0.0, end: float | None = None) -> str:
        """The language one side speaks, zh or en (the languages the rules know), from its first
        30 s of speech; an English-only model hears English."""
        if self.english_only:
            return "en"
        _, _, likely = self._model.detect_language(_whisper_audio(samples, rate, start, end), vad_filter=True)
        # Between the two the rules know: a Mandarin greeting at 8 kHz may come out as some third
        # language, but still likelier Chinese than English.
        chance = dict(likely)
        return "zh" if chance.get("zh", 0.0) + chance.get("yue", 0.0) >= chance.get("en", 0.0) else "en"


def _whisper_audio(samples: np.ndarray, rate: int, start: float, end: float | None) -> np.ndarray:
    """16-bit samples between ``start`` and ``end`` seconds as Whisper's 16 kHz floats."""
    first, last = int(start * rate), int(end * rate) if end is not None else len(samples)
    audio = np.asarray(samples[first:last], dtype=np.float32) / 32768.0
    if rate != WHISPER_RATE:
        count = int(len(audio) * WHISPER_RATE / rate)
        audio = np.interp(np.arange(count) * (rate / WHISPER_RATE), np.arange(len(audio)), audio).astype(np.float32)
    return audio
