"""`callcenter demo` stops cleanly (issue 19): Ctrl-C in its terminal, or SIGTERM, stops the simulated
calls, the web app, its auto-QA processes and the sandbox Asterisk it started, with no traceback and
exit status 0, and leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from config import load_settings
from telephony.sandbox import Sandbox
from tests.conftest import free_port
from tests.test_campaigns_restart import ROOT


def demo_config(folder: Path) -> Path:
    path = folder / "demo.toml"
    lines = [
        f"data_dir = {json.dumps(str(folder / 'data'))}",
        "[[asterisk]]", f"ami_port = {free_port()}", f"http_port = {free_port()}", f"wss_port = {free_port()}",
        "[agi]", f"port = {free_port()}",
        "[web]", f"port = {free_port()}",
        "[qa]", "transcripts = false",
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def group_members(group: int) -> list[str]:
    """The command lines of the live processes in a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
            if int(fields[2]) == group and fields[0] != "Z":
                members.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return members


async def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:.0f} s")
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
async def test_the_demo_stops_everything_it_started(stop: str, tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    log = tmp_path / "demo.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_ui.cli", "--config", str(config), "demo", "--interval", "1.5",
        cwd=ROOT, stdout=log.open("wb"), stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    settings = load_settings(config)
    try:
        # Running for real: calls answered, and the auto-QA's analysis process up in the demo's group.
        await wait_for(lambda: "answered by" in log.read_text(errors="replace") or process.returncode is not None, 120, "answered call")
        assert process.returncode is None, log.read_text(errors="replace")
        await wait_for(lambda: any("multiprocessing" in m for m in group_members(process.pid)), 60, "auto-QA process")
        assert Sandbox(settings).status().running
        if stop == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the terminal's whole foreground group
        else:
            process.send_signal(signal.SIGTERM)  # what systemd or kill sends: the main process only
        await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
        Sandbox(settings).down()
    output = log.read_text(errors="replace")
    assert process.returncode == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "sandbox Asterisk stopped" in output and "demo stopped" in output
    assert not Sandbox(settings).status().running
    await wait_for(lambda: not group_members(process.pid), 10, "empty process group")  # no pool worker, no resource tracker
