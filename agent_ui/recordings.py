"""Where a server's call recordings can be read on this host: its ``recordings_dir`` setting, or
the sandbox's folder."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from telephony.sandbox import Sandbox


def recordings_dir(settings: Settings, server: str) -> Path:
    try:
        configured = settings.server(server).recordings_dir
    except KeyError:
        configured = None
    return configured or Sandbox(settings).host("recordings")


def recording_file(settings: Settings, server: str, relative: str) -> Path | None:
    """The file of one recording, if it is inside the server's folder and exists."""
    folder = recordings_dir(settings, server).resolve()
    path = (folder / relative).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None
