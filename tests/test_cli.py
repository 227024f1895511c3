"""The `callcenter` command as a user runs it: help, db upgrade, user add, serve."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from crm import schema
from tests.conftest import free_port


def run(data_dir: Path, database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLCENTER_DATABASE__URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "agent_ui.cli", "--data-dir", str(data_dir), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60,
    )


def test_every_subcommand_explains_itself(tmp_path: Path) -> None:
    top = run(tmp_path, "", "--help")
    assert top.returncode == 0
    for command in ("sandbox", "serve", "demo", "db", "user", "customers", "qa"):
        assert command in top.stdout
        sub = run(tmp_path, "", command, "--help")
        assert sub.returncode == 0 and "usage: callcenter " + command in sub.stdout


async def test_serve_refuses_old_schema_then_serves_after_upgrade(tmp_path: Path, database_url: str) -> None:
    refused = await asyncio.to_thread(run, tmp_path, database_url, "serve", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "out of date" in refused.stderr and "callcenter db upgrade" in refused.stderr

    upgraded = await asyncio.to_thread(run, tmp_path, database_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    added = await asyncio.to_thread(
        run, tmp_path, database_url, "user", "add", "--username", "agent7", "--role", "agent",
        "--extension", "1007", "--queues", "support,sales", "--password-stdin", stdin="s3cret-pass\n",
    )
    assert added.returncode == 0, added.stderr
    listed = await asyncio.to_thread(run, tmp_path, database_url, "user", "list")
    assert "agent7" in listed.stdout and "sales,support" in listed.stdout
    duplicate = await asyncio.to_thread(
        run, tmp_path, database_url, "user", "add", "--username", "agent7", "--role", "agent", "--password-stdin", stdin="s3cret-pass\n"
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    elsewhere = ("user", "add", "--username", "agent8", "--role", "agent", "--extension", "1008", "--phone-type", "webrtc", "--password-stdin")
    unknown = await asyncio.to_thread(run, tmp_path, database_url, *elsewhere, "--server", "pbx9", stdin="s3cret-pass\n")
    assert unknown.returncode == 1 and "unknown Asterisk server 'pbx9'; known servers: default" in unknown.stderr
    placed = await asyncio.to_thread(run, tmp_path, database_url, *elsewhere, "--server", "default", stdin="s3cret-pass\n")
    assert placed.returncode == 0, placed.stderr
    assert "agent8" in (listed := await asyncio.to_thread(run, tmp_path, database_url, "user", "list")).stdout and "server default" in listed.stdout

    port = free_port()
    # No Asterisk on that AMI port: serve comes up anyway and its bridge keeps trying in the background.
    env = {
        **os.environ,
        "CALLCENTER_DATABASE__URL": database_url,
        "CALLCENTER_AGI__PORT": str(free_port()),
        "CALLCENTER_ASTERISK": f'[{{"ami_port": {free_port()}, "ami_secret": "x"}}]',
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_ui.cli", "--data-dir", str(tmp_path), "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        lines = [(await asyncio.wait_for(server.stdout.readline(), 30)).decode() for _ in range(2)]
        assert "FastAGI on agi://127.0.0.1:" in lines[0] and "AMI bridge to default 127.0.0.1:" in lines[0]
        assert f"http://127.0.0.1:{port}/" in lines[1]
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/health") as response:
            assert response.status == 200
            assert (await response.json())["schema_revision"] == schema.head_revision()
    finally:
        server.terminate()
        await server.wait()


async def test_qa_score_drains_the_backlog_with_a_progress_bar(tmp_path: Path, database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from crm.db import create_engine, session_factory
    from crm.models import Call, CallDirection, QaIntake
    from telephony.sandbox.scripted import scripted_call

    assert (await asyncio.to_thread(run, tmp_path, database_url, "db", "upgrade")).returncode == 0
    recordings = tmp_path / "recordings"
    (recordings / "day").mkdir(parents=True)
    agent, customer, _ = scripted_call(recordings / "day", "rude")
    for leg in ("agent", "caller"):  # what a disk error leaves: not a WAV at all
        (recordings / "day" / f"broken-{leg}.wav").write_bytes(b"RIFF\x00garbage" * 10)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        for n, files in enumerate([[f"day/{agent.name}", f"day/{customer.name}"], ["day/missing-agent.wav", "day/missing-caller.wav"], [],
                                  ["day/broken-agent.wav", "day/broken-caller.wav"]]):
            session.add(Call(linkedid=f"score-{n}", direction=CallDirection.INBOUND, started_at=now - timedelta(minutes=5),
                             answered_at=now - timedelta(minutes=5), ended_at=now - timedelta(minutes=4), recordings=files))  # fmt: skip
    env_asterisk = f'[{{"recordings_dir": "{recordings}"}}]'
    os.environ["CALLCENTER_ASTERISK"] = env_asterisk
    os.environ["CALLCENTER_QA__TRANSCRIPTS"] = "false"  # the backlog and its bar, not the speech model
    try:
        scored = await asyncio.to_thread(run, tmp_path, database_url, "qa", "score")
    finally:
        del os.environ["CALLCENTER_ASTERISK"], os.environ["CALLCENTER_QA__TRANSCRIPTS"]
    # The progress bar, and the honest count: one file is not there (yet); the call without recordings
    # never enters; a broken file fails that call alone, is named, and the exit status says so.
    assert scored.returncode == 1, scored.stderr
    assert "] 2/3" in scored.stderr and "scored 1 call(s), 0 skipped, 1 failed; 1 waiting for their recording" in scored.stdout
    assert "failed: call score-3: " in scored.stderr and "not a WAV" in scored.stderr
    async with session_factory(engine)() as session:
        states = dict((await session.execute(select(Call.linkedid, QaIntake.state).join(QaIntake, QaIntake.call_id == Call.id))).all())
    await engine.dispose()
    assert states["score-0"] == "done" and states["score-1"] in ("pending", "failed") and "score-2" not in states
    assert states["score-3"] == "failed"
