"""Signal metrics of a two-sided call recording: who spoke when (voice activity detection with
webrtcvad, per channel), then talk time per side, silences, talk-over and the time to the agent's
first word. Pure functions over samples; reading files is :func:`read_wav`.
"""

from __future__ import annotations

import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import webrtcvad

VAD_RATES = (8000, 16000, 32000, 48000)
FRAME_MS = 30
SILENCE_DBFS = -45.0  # quieter frames are silence whatever the VAD says (line noise, comfort noise)
MERGE_GAP_S = 0.3  # pauses inside a sentence do not split it
MIN_SPEECH_S = 0.2  # clicks and breaths are not speech
COUNTED_SILENCE_S = 2.0  # shorter gaps are the normal rhythm of a conversation
INTERRUPTION_OVERLAP_S = 0.5  # starting to talk while the other side talks, for at least this long


class AudioError(ValueError):
    """A recording cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def read_wav(path: Path | str) -> tuple[list[np.ndarray], int]:
    """The channels of a 16-bit PCM WAV file and its sample rate."""
    try:
        with wave.open(str(path), "rb") as reader:
            if reader.getsampwidth() != 2:
                raise AudioError(f"{path}: 16-bit PCM WAV expected, got {8 * reader.getsampwidth()}-bit")
            rate, channels = reader.getframerate(), reader.getnchannels()
            data = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as error:
        raise AudioError(f"{path}: not a readable WAV file ({error})") from None
    return [data[c::channels] for c in range(channels)], rate


def _to_vad_rate(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    if rate in VAD_RATES:
        return samples, rate
    target = 16000
    count = int(len(samples) * target / rate)
    positions = np.arange(count) * (rate / target)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.int16), target


def speech_segments(samples: np.ndarray, rate: int, aggressiveness: int = 2) -> list[Segment]:
    """When this channel carries speech."""
    samples, rate = _to_vad_rate(np.asarray(samples, dtype=np.int16), rate)
    frame = rate * FRAME_MS // 1000
    count = len(samples) // frame
    if count == 0:
        return []
    frames = samples[: count * frame].reshape(count, frame)
    rms = np.sqrt(np.mean(frames.astype(np.float32) ** 2, axis=1))
    loud = 20 * np.log10(np.maximum(rms, 1.0) / 32768.0) > SILENCE_DBFS
    vad = webrtcvad.Vad(aggressiveness)
    raw = frames.tobytes()
    size = frame * 2
    voiced = [bool(loud[i]) and vad.is_speech(raw[i * size : (i + 1) * size], rate) for i in range(count)]
    seconds = FRAME_MS / 1000
    segments: list[Segment] = []
    start = None
    for i, speaking in enumerate([*voiced, False]):
        if speaking and start is None:
            start = i
        elif not speaking and start is not None:
            segment = Segment(start * seconds, i * seconds)
            if segments and segment.start - segments[-1].end < MERGE_GAP_S:
                segments[-1] = Segment(segments[-1].start, segment.end)
            else:
                segments.append(segment)
            start = None
    return [s for s in segments if s.length >= MIN_SPEECH_S]


def _clip(segments: list[Segment], start: float, end: float) -> list[Segment]:
    return [Segment(max(s.start, start), min(s.end, end)) for s in segments if s.end > start and s.start < end]


def _union(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for s in sorted(segments, key=lambda s: s.start):
        if merged and s.start <= merged[-1].end:
            merged[-1] = Segment(merged[-1].start, max(merged[-1].end, s.end))
        else:
            merged.append(s)
    return merged


def _overlaps(a: list[Segment], b: list[Segment]) -> list[Segment]:
    found, j = [], 0
    for s in a:
        while j < len(b) and b[j].end <= s.start:
            j += 1
        k = j
        while k < len(b) and b[k].start < s.end:
            found.append(Segment(max(s.start, b[k].start), min(s.end, b[k].end)))
            k += 1
    return found


def _interruptions(talker: list[Segment], other: list[Segment]) -> list[Segment]:
    """``talker``'s turns begun while ``other`` was speaking, overlapping for long enough."""
    hits = []
    for s in talker:
        for o in other:
            if o.start < s.start < o.end and min(s.end, o.end) - s.start >= INTERRUPTION_OVERLAP_S:
                hits.append(Segment(s.start, min(s.end, o.end)))
                break
    return hits


@dataclass(frozen=True)
class Metrics:
    duration_s: float  # of the conversation analysed (from the answer)
    agent_talk_s: float
    customer_talk_s: float
    silence_s: float  # gaps of COUNTED_SILENCE_S or more where nobody spoke
    silence_ratio: float
    longest_silence_s: float
    longest_silence_at: float | None
    overlap_s: float
    agent_interruptions: int
    customer_interruptions: int
    first_agent_speech_s: float | None
    silences: list[Segment]
    agent_interruption_at: list[Segment]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["silences"] = [[round(s.start, 2), round(s.end, 2)] for s in self.silences]
        data["agent_interruption_at"] = [[round(s.start, 2), round(s.end, 2)] for s in self.agent_interruption_at]
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


def measure(agent: list[Segment], customer: list[Segment], start: float, end: float) -> Metrics:
    """The metrics of the conversation between ``start`` and ``end`` seconds of the recording;
    times in the result count from ``start``."""
    shift = lambda segments: [Segment(s.start - start, s.end - start) for s in _clip(segments, start, end)]  # noqa: E731
    agent, customer = shift(agent), shift(customer)
    duration = max(0.0, end - start)
    anyone = _union(agent + customer)
    edges = [0.0, *[t for s in anyone for t in (s.start, s.end)], duration]
    gaps = [Segment(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]
    silences = [g for g in gaps if g.length >= COUNTED_SILENCE_S]
    # Quiet before the first word and after the last is not dead air: only gaps between words count
    # (an agent who never speaks shows in first_agent_speech_s).
    inner = [g for g in silences if anyone and g.start >= anyone[0].start and g.end <= anyone[-1].end]
    longest = max(inner, key=lambda g: g.length, default=None)
    silence = sum(g.length for g in inner)
    agent_turns = _interruptions(agent, customer)
    return Metrics(
        duration_s=duration,
        agent_talk_s=sum(s.length for s in agent),
        customer_talk_s=sum(s.length for s in customer),
        silence_s=silence,
        silence_ratio=silence / duration if duration else 0.0,
        longest_silence_s=longest.length if longest else 0.0,
        longest_silence_at=longest.start if longest else None,
        overlap_s=sum(s.length for s in _overlaps(agent, customer)),
        agent_interruptions=len(agent_turns),
        customer_interruptions=len(_interruptions(customer, agent)),
        first_agent_speech_s=agent[0].start if agent else None,
        silences=inner,
        agent_interruption_at=agent_turns,
    )
