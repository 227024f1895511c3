"""The `callcenter` command as a user runs it: help, db upgrade, user add, serve."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

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
    for command in ("sandbox", "serve", "demo", "db", "user"):
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

    port = free_port()
    env = {**os.environ, "CALLCENTER_DATABASE__URL": database_url}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_ui.cli", "--data-dir", str(tmp_path), "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(server.stdout.readline(), 30)
        assert f"http://127.0.0.1:{port}/" in line.decode()
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/health") as response:
            assert response.status == 200
            assert (await response.json())["schema_revision"] == "0001"
    finally:
        server.terminate()
        await server.wait()
