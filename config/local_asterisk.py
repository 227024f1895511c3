"""The Asterisk a data folder runs for itself — the sandbox of `callcenter sandbox up` and `demo`: where
it lives on this host and the secrets it generated. The sandbox writes them (telephony/sandbox);
`serve`, the recordings and the QA worker read them here, so the production path never imports the
sandbox. A server configured with its own secrets and ``recordings_dir`` never looks here."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from config.settings import Settings, cache_dir


def chroot_dir(settings: Settings) -> Path:
    """Where the Debian sid + Asterisk chroot is cached."""
    return (settings.sandbox.chroot_dir or cache_dir() / "asterisk-sid").resolve()


def root_inside(settings: Settings) -> str:
    """This data folder's own corner of the chroot, as Asterisk sees it."""
    instance_id = hashlib.sha1(str(settings.data_dir.resolve()).encode()).hexdigest()[:12]
    return f"/srv/callcenter/{instance_id}"


def host_path(settings: Settings, name: str) -> Path:
    """A folder of that corner (``recordings``, ``sounds``, ``log``…) as this host sees it."""
    return chroot_dir(settings) / f"{root_inside(settings)}/{name}".lstrip("/")


def state_file(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "sandbox.json"


def read_state(settings: Settings) -> dict[str, object]:
    try:
        return json.loads(state_file(settings).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(settings: Settings, **changes: object) -> dict[str, object]:
    state = {**read_state(settings), **changes}
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.chmod(tmp, 0o600)  # holds the AMI secret
    tmp.replace(path)
    return state


def secret(settings: Settings, key: str, configured: str | None = None) -> str:
    """``ami_secret``, ``ami_admin_secret`` or ``ari_secret``: the configured one, else the one this data
    folder's Asterisk was (or will be) given, made now if there is none yet."""
    value = configured or read_state(settings).get(key)
    if not value:
        value = secrets.token_urlsafe(24)
        write_state(settings, **{key: value})
    return str(value)


def recordings_dir(settings: Settings, server: str) -> Path:
    """Where a server's call recordings can be read on this host: its ``recordings_dir`` setting, or
    the local sandbox's folder."""
    try:
        configured = settings.server(server).recordings_dir
    except KeyError:
        configured = None
    return configured or host_path(settings, "recordings")
