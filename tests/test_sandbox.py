"""The sandbox Asterisk, for real: credentials, a full queued call with recordings, an abandoned
call, queue members an agent user can control, and a clean start/stop."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings
from telephony.ami import AmiClient, AmiError
from telephony.sandbox import Sandbox, SandboxStatus
from telephony.sandbox.calls import place_call, wait_for_recordings
from tests.audio import wav_stats
from tests.conftest import sandbox_settings, unavailable


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_ui.cli", "--data-dir", str(settings.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_status_json_gives_working_ami_credentials(sandbox: SandboxStatus, sandbox_settings_: Settings) -> None:
    result = cli(sandbox_settings_, "sandbox", "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["running"] is True
    assert status["fastagi"].startswith("agi://127.0.0.1:")
    assert Path(status["recordings_dir"]).is_dir()
    client = AmiClient(status["ami_host"], status["ami_port"], status["ami_admin_username"], status["ami_admin_secret"])
    await client.connect()
    assert "Asterisk 22" in await client.command("core show version")
    await client.close()
    # The bridge's user logs in, watches and places calls, but runs no CLI command and touches no AstDB.
    bridge = AmiClient(status["ami_host"], status["ami_port"], status["ami_username"], status["ami_secret"], reconnect=False)
    await bridge.connect()
    try:
        assert (await bridge.action("Ping")).success
        assert await bridge.collect("CoreShowChannels") is not None  # the resync's snapshot (reporting)
        for action, fields in (("Command", {"Command": "core show version"}), ("DBPut", {"Family": "x", "Key": "k", "Val": "v"}),
                               ("ModuleLoad", {"Module": "app_system.so", "LoadType": "load"}), ("UpdateConfig", {"SrcFilename": "manager.conf"})):  # fmt: skip
            with pytest.raises(AmiError, match="Permission denied"):
                await bridge.action(action, **fields)
    finally:
        await bridge.close()
    wrong = AmiClient(status["ami_host"], status["ami_port"], status["ami_username"], "not-the-secret", reconnect=False)
    with pytest.raises(AmiError, match="refused"):
        await wrong.connect()


def events_of_call(collected: list, linkedid: str) -> list:
    return [e for e in collected if e.get("Linkedid") == linkedid]


async def test_call_is_queued_answered_completed_and_recorded(ami: AmiClient, sandbox: SandboxStatus) -> None:
    watcher = ami.events()
    # A number no CRM customer has: when the bridge's FastAGI is up (other tests), it queues plainly.
    result = await place_call(ami, did="4001", caller="15566660000", caller_name="张三", talk_seconds=2.5, language="zh")
    await asyncio.sleep(0.3)
    seen = []
    while True:
        try:
            seen.append(await watcher.get(timeout=0.1))
        except TimeoutError:
            break
    call = events_of_call(seen, result.linkedid)
    names = [e.event for e in call]
    for expected in ("QueueCallerJoin", "AgentCalled", "AgentConnect", "AgentComplete", "Hangup"):
        assert expected in names, f"{expected} missing from {names}"
    assert names.index("QueueCallerJoin") < names.index("AgentConnect") < names.index("AgentComplete")
    join = next(e for e in call if e.event == "QueueCallerJoin")
    assert (join["Queue"], join["CallerIDNum"], join["CallerIDName"]) == ("support", "15566660000", "张三")
    connect = next(e for e in call if e.event == "AgentConnect")
    assert connect["Interface"] in {f"Local/{ext}@sim-phones/nm" for ext in ("1001", "1002", "1003")}
    assert result.outcome == "answered"

    files = await wait_for_recordings(Path(sandbox.recordings_dir), result.linkedid)
    by_side = {path.stem.rsplit("-", 1)[1]: path for path in files}
    assert set(by_side) == {"caller", "agent", "mix"}
    for side in ("caller", "agent"):
        duration, rms = wav_stats(by_side[side])
        assert 1.5 < duration < 5, (side, duration)
        assert rms > 0.01, f"{side} side is silent"


async def test_caller_who_gives_up_is_abandoned(ami: AmiClient) -> None:
    watcher = ami.events(["QueueCallerJoin", "QueueCallerAbandon"])
    result = await place_call(ami, did="4999", caller="+8615566660001", hangup_after_wait=1.0)
    assert result.outcome == "abandoned"
    abandon = await watcher.wait_for(lambda e: e.event == "QueueCallerAbandon" and e["Linkedid"] == result.linkedid, 5)
    assert abandon["Queue"] == "nobody"


async def test_sandbox_call_command(sandbox: SandboxStatus, sandbox_settings_: Settings) -> None:
    result = await asyncio.to_thread(
        cli, sandbox_settings_, "sandbox", "call", "--caller", "15566660002", "--did", "4002", "--talk-seconds", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    call = json.loads(result.stdout)
    assert call["outcome"] == "answered" and call["queue"] == "sales"
    assert len(call["recordings"]) == 3
    bad = await asyncio.to_thread(cli, sandbox_settings_, "sandbox", "call", "--caller", "1380013800x", "--did", "4001")
    assert bad.returncode == 1 and "--caller must be a phone number" in bad.stderr


async def test_simulated_agents_are_members_an_agent_user_controls(ami: AmiClient, sandbox_settings_: Settings) -> None:
    interface = sandbox_settings_.asterisk[0].agent_interface.format(extension="1001")
    members = [m for m in await ami.collect("QueueStatus", Queue="support") if m.event == "QueueMember"]
    assert interface in {m["StateInterface"] for m in members} | {m.get("Location") for m in members}
    await ami.action("QueuePause", Interface=interface, Queue="support", Paused="true", Reason="lunch")
    try:
        member = next(m for m in await ami.collect("QueueStatus", Queue="support", Member=interface) if m.event == "QueueMember")
        assert (member["Paused"], member["PausedReason"]) == ("1", "lunch")
    finally:
        await ami.action("QueuePause", Interface=interface, Queue="support", Paused="false")


async def test_up_is_idempotent_and_down_leaves_no_asterisk(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    sandbox = Sandbox(settings, log=lambda line: None)
    try:
        first = await sandbox.up()
    except Exception as error:  # noqa: BLE001
        unavailable(f"sandbox: {error}")
    try:
        second = await sandbox.up()
        assert second.pid == first.pid and second.running
    finally:
        assert sandbox.down() is True
        sandbox.purge()
    assert not Path(f"/proc/{first.pid}").exists()
    conf = sandbox.inside("etc/asterisk.conf")
    assert subprocess.run(["pgrep", "-f", conf], capture_output=True).stdout == b""
    assert sandbox.status().running is False
    assert cli(settings, "sandbox", "status").returncode == 3



def test_without_root_up_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from agent_ui.cli import main

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main(["--data-dir", str(tmp_path), "sandbox", "up"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "needs root" in lines[0] and "ami_host" in lines[0], lines
