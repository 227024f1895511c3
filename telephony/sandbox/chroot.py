"""Build (once) and cache a Debian sid chroot with Asterisk 22 in it.

The chroot is shared by every sandbox instance on the machine; each instance keeps its own
configuration, database, spool and recordings in a folder of its own inside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


# Bump when the recipe below changes, so that cached chroots are rebuilt.
RECIPE_VERSION = "1"
PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm")
READY_MARKER = ".callcenter-sandbox-ready"


class SandboxUnavailable(Exception):
    """The sandbox cannot run on this machine; the message says why and what to do instead."""


HOW_TO_USE_EXISTING = (
    "To use an existing Asterisk instead, set its AMI address and credentials in the config file "
    "([[asterisk]] ami_host, ami_port, ami_username, ami_secret) and skip `callcenter sandbox`."
)


def check_root() -> None:
    if os.geteuid() != 0:
        raise SandboxUnavailable("the Asterisk sandbox needs root (it builds and enters a chroot). " + HOW_TO_USE_EXISTING)


def check_can_build() -> None:
    check_root()
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable(
            "the Asterisk sandbox needs debootstrap (apt-get install debootstrap). " + HOW_TO_USE_EXISTING
        )


def is_ready(chroot: Path) -> bool:
    marker = chroot / READY_MARKER
    return marker.is_file() and marker.read_text().strip() == RECIPE_VERSION


@contextlib.contextmanager
def _build_lock(chroot: Path) -> Iterator[None]:
    chroot.parent.mkdir(parents=True, exist_ok=True)
    with open(chroot.parent / (chroot.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_chroot(chroot: Path, log: callable = print) -> Path:  # type: ignore[valid-type]
    """Return a ready chroot at ``chroot``, building it first if needed (about a minute)."""
    if is_ready(chroot):
        return chroot
    check_can_build()
    with _build_lock(chroot):
        if is_ready(chroot):  # another process built it while we waited
            return chroot
        staging = chroot.with_name(chroot.name + ".building")
        shutil.rmtree(staging, ignore_errors=True)
        log(f"building the Asterisk sandbox chroot in {chroot} (Debian sid, about a minute, done once)")
        _run(["debootstrap", "--variant=minbase", "sid", str(staging)], "debootstrap")
        shutil.copyfile("/etc/resolv.conf", staging / "etc/resolv.conf")
        _run(["chroot", str(staging), "apt-get", "-o", "Acquire::Check-Valid-Until=false", "update"], "apt-get update")
        _run(
            ["chroot", str(staging), "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
            "apt-get install asterisk",
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        _run(["chroot", str(staging), "apt-get", "clean"], "apt-get clean")
        (staging / READY_MARKER).write_text(RECIPE_VERSION + "\n")
        shutil.rmtree(chroot, ignore_errors=True)
        staging.rename(chroot)
    return chroot


def module_dir(chroot: Path) -> str:
    """Path, inside the chroot, of Asterisk's modules (it depends on the architecture)."""
    found = sorted(chroot.glob("usr/lib/*/asterisk/modules")) or sorted(chroot.glob("usr/lib/asterisk/modules"))
    if not found:
        raise SandboxUnavailable(f"no Asterisk modules in {chroot}; remove the folder and run `sandbox up` again")
    return "/" + str(found[0].relative_to(chroot))


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise SandboxUnavailable(f"{what} failed (exit {result.returncode}):\n{tail}")
