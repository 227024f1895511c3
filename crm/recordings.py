"""How a call's recordings are named (one owner for the call log, auto-QA and the player): MixMonitor
writes the caller's leg, the agent's leg and their mix as ``<name>-caller.wav``, ``-agent.wav`` and
``-mix.wav`` (config/asterisk/extensions.conf); ``calls.recordings`` keeps those relative paths."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from config import Settings, local_asterisk

LEG_SUFFIXES = {"caller": "-caller.wav", "agent": "-agent.wav", "mix": "-mix.wav"}


def call_recordings(name: str) -> list[str]:
    """The files MixMonitor writes for the recording ``name``, caller first."""
    return [f"{name}{suffix}" for suffix in LEG_SUFFIXES.values()]


def leg_file(recordings: Iterable[str], leg: str) -> str | None:
    """The recording of one leg (caller, agent or mix) among a call's files."""
    suffix = LEG_SUFFIXES[leg]
    return next((r for r in recordings if r.endswith(suffix)), None)


def recordings_dir(settings: Settings, server: str) -> Path:
    """Where a server's recordings can be read on this host (its ``recordings_dir`` setting, or the
    local sandbox's folder)."""
    return local_asterisk.recordings_dir(settings, server)


def recording_file(settings: Settings, server: str, relative: str) -> Path | None:
    """The file of one recording, if it is inside the server's folder and exists."""
    folder = recordings_dir(settings, server).resolve()
    path = (folder / relative).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None
