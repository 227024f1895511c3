"""Spoken prompts for simulated callers and agents: espeak-ng speech (Mandarin by Kokoro when the
``voices`` extra is installed: telephony/sandbox/mandarin.py), converted by sox to the 8 kHz 16-bit
mono WAV Asterisk plays without transcoding."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from telephony.sandbox import mandarin
from telephony.sandbox.chroot import SandboxUnavailable

# name -> (espeak-ng voice, text)
PROMPTS: dict[str, tuple[str, str]] = {
    "customer-en": ("en", "Hello, I am calling about my order. It has not arrived yet. Can you help me please?"),
    "customer-zh": ("cmn", "你好,我想问一下我的订单,到现在还没有收到,请帮我查一下。"),
    "agent-greeting-en": ("en", "Thank you for calling customer service. My agent number is one zero zero two. How may I help you?"),
    "agent-greeting-zh": ("cmn", "您好,欢迎致电客户服务中心,我的工号是一零零一,请问有什么可以帮您?"),
    "agent-talk-en": ("en", "I understand. Let me check that for you. Thank you for waiting."),
    "agent-talk-zh": ("cmn", "好的,我明白了,我帮您查询一下,请稍等。"),
    "agent-back-zh": ("cmn", "让您久等了,已经帮您查到了,您的订单明天送到。"),
    "agent-back-en": ("en", "Thank you for waiting. I found your order; it arrives tomorrow."),
    "agent-closing-en": ("en", "Is there anything else I can help you with? Thank you for calling. Goodbye."),
    "agent-closing-zh": ("cmn", "请问还有什么可以帮您?感谢您的来电,再见。"),
    "agent-rude-en": ("en", "What do you want? Whatever. That is not my problem."),
    "agent-rude-zh": ("cmn", "喂,干什么?不清楚,这不是我的问题。"),
    "closed-zh": ("cmn", "现在是非工作时间。"),
    "closed-en": ("en", "We are closed."),
    "closed-voicemail-zh": ("cmn", "请留言。"),
    "closed-voicemail-en": ("en", "Please leave a message."),
    "callback-offer-zh": ("cmn", "如需保留您的排队位置并由我们回电到本号码,请按1;回电到其他号码,请按2。"),
    "callback-offer-en": ("en", "To keep your place and be called back on this number, press 1. For another number, press 2."),
    "callback-number-zh": ("cmn", "请输入回电号码,以井号键结束。"),
    "callback-number-en": ("en", "Please key in the number, then the hash key."),
    "callback-confirm-zh": ("cmn", "好的,轮到您时我们会给您回电,再见。"),
    "callback-confirm-en": ("en", "We will call you back when it is your turn. Goodbye."),
    "survey-zh": ("cmn", "请为本次服务评分:非常满意请按5,满意请按4,一般请按3,不满意请按2,非常不满意请按1。"),
    "survey-en": ("en", "Please rate our service: press 5 if very satisfied, down to 1 if very dissatisfied."),
    "survey-thanks-zh": ("cmn", "感谢您的评价,再见。"),
    "survey-thanks-en": ("en", "Thank you for your feedback. Goodbye."),
}
# Prompts app_queue plays itself (a periodic announcement is one file): both languages in one.
JOINED: dict[str, tuple[str, ...]] = {"callback-offer": ("callback-offer-zh", "callback-offer-en")}


def check_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise SandboxUnavailable(f"spoken prompts need {' and '.join(missing)} (apt-get install espeak-ng sox)")


def mandarin_engine() -> str:
    """Who speaks the Mandarin prompts: Kokoro when the ``voices`` extra is installed, else espeak-ng."""
    return "kokoro" if mandarin.available() else "espeak-ng"


def synthesize(text: str, voice: str, target: Path) -> None:
    """Write ``text`` spoken by ``voice`` to ``target`` as 8 kHz 16-bit mono WAV (Mandarin, "cmn",
    by Kokoro when installed: telephony/sandbox/mandarin.py)."""
    if voice == "cmn" and mandarin_engine() == "kokoro":
        mandarin.synthesize(text, target)
        return
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(target)],
            check=True,
            capture_output=True,
        )


def install_prompts(sounds_dir: Path) -> None:
    """Make every prompt not yet in ``sounds_dir``, and music on hold."""
    check_tools()
    sounds_dir.mkdir(parents=True, exist_ok=True)
    engine, stamp = mandarin_engine(), sounds_dir / ".mandarin"
    if not stamp.exists() or stamp.read_text() != engine:  # made by the other engine: made again
        for name, (voice, _) in PROMPTS.items():
            if voice == "cmn":
                (sounds_dir / f"{name}.wav").unlink(missing_ok=True)
        for name in JOINED:
            (sounds_dir / f"{name}.wav").unlink(missing_ok=True)
        stamp.write_text(engine)
    for name, (voice, text) in PROMPTS.items():
        target = sounds_dir / f"{name}.wav"
        if not target.exists():
            synthesize(text, voice, target)
    for name, parts in JOINED.items():
        target = sounds_dir / f"{name}.wav"
        if not target.exists():
            subprocess.run(["sox", *(str(sounds_dir / f"{part}.wav") for part in parts), str(target)], check=True, capture_output=True)


def install_music_on_hold(moh_dir: Path) -> None:
    moh_dir.mkdir(parents=True, exist_ok=True)
    target = moh_dir / "tune.wav"
    if target.exists():
        return
    check_tools()
    # A soft arpeggio, so "on hold" is audible in recordings and unlike speech.
    notes = ["synth", "0.4", "sine", "523", "synth", "0.4", "sine", "659", "synth", "0.4", "sine", "784"]
    with tempfile.TemporaryDirectory() as scratch:
        parts = []
        for i in range(0, len(notes), 4):
            part = Path(scratch) / f"n{i}.wav"
            subprocess.run(
                ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(part), *notes[i : i + 4], "vol", "0.3"],
                check=True,
                capture_output=True,
            )
            parts.append(str(part))
        subprocess.run(["sox", *parts, *parts, str(target)], check=True, capture_output=True)
