"""How a call's recordings are named (one owner for the call log, auto-QA and the player): MixMonitor
writes the caller's leg, the agent's leg and their mix as ``<name>-caller.wav``, ``-agent.wav`` and
``-mix.wav`` (config/asterisk/extensions.conf); ``calls.recordings`` keeps those relative paths."""

from __future__ import annotations

from collections.abc import Iterable

LEG_SUFFIXES = {"caller": "-caller.wav", "agent": "-agent.wav", "mix": "-mix.wav"}


def call_recordings(name: str) -> list[str]:
    """The files MixMonitor writes for the recording ``name``, caller first."""
    return [f"{name}{suffix}" for suffix in LEG_SUFFIXES.values()]


def leg_file(recordings: Iterable[str], leg: str) -> str | None:
    """The recording of one leg (caller, agent or mix) among a call's files."""
    suffix = LEG_SUFFIXES[leg]
    return next((r for r in recordings if r.endswith(suffix)), None)
