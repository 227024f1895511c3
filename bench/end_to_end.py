"""End to end on a real Asterisk (issue 17): simulated calls through the sandbox at rising rates,
routed by our FastAGI, followed by our AMI bridge, logged by our call log — the real `callcenter
serve` in its own process — and the CPU seconds of that process per call divided by Asterisk's own
per call. The goal is ≤ 0.1: Asterisk, not our code, is what a center's machine spends on a call.

Each call rings one of the sandbox's simulated agents (Local channels, no media of ours), talks
one second at rising rates, then ten and sixty seconds, and hangs up; the calls of a rate are placed
evenly over its window. No browser is connected: the pops' CPU is the screen-pop benchmark's."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Section
from bench.server import cpu_seconds, free_port
from config import load_settings
from config.settings import QueueSettings, SimulatedAgent
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call, QaIntake
from crm.queues import sync_queues
from sqlalchemy import func, select
from telephony.ami import AmiClient
from telephony.sandbox import Sandbox
from telephony.sandbox.calls import place_call

AGENTS = 40
# (calls a second, seconds of talk): short calls at rising rates, then longer ones (a center's calls
# last minutes; Asterisk's cost grows with the talk, ours hardly does).
RATES, QUICK_RATES = ((2, 1.0), (5, 1.0), (10, 1.0), (2, 10.0), (1, 60.0)), ((2, 1.0), (5, 1.0))
WINDOW_S, QUICK_WINDOW_S = 20.0, 8.0
WARM_UP_CALLS = 4
GOAL = 0.1
ROOT = Path(__file__).resolve().parent.parent


def _settings(folder: Path, database_url: str):  # type: ignore[no-untyped-def]
    agents = [SimulatedAgent(extension=str(5000 + i), name=f"E2E {i}", queues=["e2e"]) for i in range(AGENTS)]
    return load_settings(
        data_dir=folder,
        database={"url": database_url},
        asterisk=[{"ami_port": free_port(), "http_port": free_port(), "wss_port": free_port()}],
        agi={"port": free_port()},
        queues=[QueueSettings(name="e2e", dids=["4960"], strategy="leastrecent", ring_timeout_s=10, wrapup_s=0)],
        sandbox={"agents": agents},
        routing={"risk_queue": None},
        agents={"disposition_required": False},
    )


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and every process under it (auto-QA's analysis pool is ours too)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grew = {pid}, True
    while grew:
        grown = tree | {child for child, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    total = 0.0
    for member in tree:
        try:
            total += cpu_seconds(member)
        except OSError:
            pass
    return total


def _config(settings, path: Path) -> Path:  # type: ignore[no-untyped-def]
    server = settings.asterisk[0]
    path.write_text("\n".join([
        f"data_dir = {json.dumps(str(settings.data_dir))}",
        "[database]", f"url = {json.dumps(settings.database_url)}",
        "[[asterisk]]", f"ami_port = {server.ami_port}", f"http_port = {server.http_port}", f"wss_port = {server.wss_port}",
        "[agi]", f"port = {settings.agi.port}",
        "[routing]", "risk_queue = \"\"",
        "[agents]", "disposition_required = false",
        "[qa]", "transcripts = false",  # the pipeline's cost; transcription's own is bench.qa_transcripts
        "[sandbox]", "agents = []",  # the sandbox is the bench's; the serve only needs its queue
        "[[queues]]", 'name = "e2e"', 'dids = ["4960"]', 'strategy = "leastrecent"', "ring_timeout_s = 10", "wrapup_s = 0",
    ]) + "\n", encoding="utf-8")  # fmt: skip
    return path


async def _logged(url: str, linkedids: list[str]) -> int:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Call).where(Call.linkedid.in_(linkedids), Call.ended_at.is_not(None)))
    await engine.dispose()
    return count or 0


async def _warm_up(admin: AmiClient, url: str) -> None:
    """A few calls before measuring, until auto-QA has analysed them: a serve runs for days, so the
    one-off start of its analysis processes (each imports the product: ~1 s of CPU) is not a call's."""
    calls = await asyncio.gather(*(place_call(admin, did="4960", caller=f"13900{n:06d}", talk_seconds=1) for n in range(WARM_UP_CALLS)))
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 60
        while True:
            async with session_factory(engine)() as session:
                analysed = await session.scalar(
                    select(func.count()).select_from(QaIntake).join(Call, Call.id == QaIntake.call_id)
                    .where(Call.linkedid.in_([c.linkedid for c in calls]), QaIntake.state != "pending")
                )  # fmt: skip
            if analysed == len(calls):
                return
            assert time.monotonic() < deadline, f"auto-QA analysed {analysed} of {len(calls)} warm-up calls in 60 s"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def _rate(admin: AmiClient, rate: int, talk_s: float, window_s: float, ours: int, asterisk: int) -> tuple[int, float, float, list[str]]:
    """(calls, our CPU s, Asterisk's CPU s, Linkedids) for ``rate`` calls a second over the window."""
    count = int(rate * window_s)
    ours_before, asterisk_before = _tree_cpu_seconds(ours), cpu_seconds(asterisk)
    started = time.monotonic()
    calls = []
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        calls.append(asyncio.create_task(place_call(admin, did="4960", caller=f"1390{rate:02d}{n:05d}", talk_seconds=talk_s)))
    results = await asyncio.gather(*calls)
    await asyncio.sleep(1.0)  # the last hang-ups reach the bridge and the call log
    answered = sum(1 for r in results if r.outcome == "answered")
    assert answered == count, f"{answered} of {count} calls answered at {rate}/s"
    return count, _tree_cpu_seconds(ours) - ours_before, cpu_seconds(asterisk) - asterisk_before, [r.linkedid for r in results]


async def run(make_database=None, quick: bool = False) -> Section:  # type: ignore[no-untyped-def]
    """On PostgreSQL when ``make_database`` gives one (production's), else on SQLite."""
    rates, window_s = (QUICK_RATES, QUICK_WINDOW_S) if quick else (RATES, WINDOW_S)
    section = Section(
        "End to end on Asterisk: our CPU per call against Asterisk's",
        f"Simulated calls through the sandbox Asterisk at rising rates for {window_s:.0f} s each, "
        f"{AGENTS} simulated agents in one queue; routed by our FastAGI, followed by our AMI bridge and written by our "
        f"call log, all in one `callcenter serve` process ({'PostgreSQL' if make_database else 'SQLite'}), measured after {WARM_UP_CALLS} warm-up calls that auto-QA has analysed. CPU seconds (utime + stime from /proc) of that process with its children (auto-QA's pool) and of "
        f"Asterisk over each window, per call. Goal: ours / Asterisk's ≤ {GOAL}. {os.cpu_count()} CPU cores.",
        ["calls/s", "talk s", "calls", "ours ms/call", "Asterisk ms/call", "ours / Asterisk", "rows logged"],
    )
    with tempfile.TemporaryDirectory(prefix="cc-bench-e2e-") as scratch:
        folder = Path(scratch)
        database_url = await make_database() if make_database is not None else f"sqlite+aiosqlite:///{folder / 'e2e.db'}"
        settings = _settings(folder, database_url)
        await asyncio.to_thread(schema.upgrade, settings.database_url)
        engine = create_engine(settings.database_url)
        async with session_factory(engine)() as session, session.begin():
            await sync_queues(session, settings.queues)
        await engine.dispose()
        sandbox = Sandbox(settings, log=lambda line: None)
        status = await sandbox.up()
        admin = AmiClient(status.ami_host, status.ami_port, status.ami_admin_username, status.ami_admin_secret)
        await admin.connect()
        port = free_port()
        server = await asyncio.create_subprocess_exec(
            sys.executable, *(["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []),
            "-m", "agent_ui.cli", "--config", str(_config(settings, folder / "e2e.toml")), "serve", "--port", str(port),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=(folder / "serve.log").open("wb"),
        )  # fmt: skip
        try:
            assert server.stdout is not None and status.pid is not None
            first = await asyncio.wait_for(server.stdout.readline(), 60)
            assert first, (folder / "serve.log").read_text()[-2000:]
            await asyncio.sleep(3.0)  # AMI logged in and resynced
            await _warm_up(admin, settings.database_url)
            ours_idle, asterisk_idle = _tree_cpu_seconds(server.pid), cpu_seconds(status.pid)
            await asyncio.sleep(window_s)
            ours_idle, asterisk_idle = _tree_cpu_seconds(server.pid) - ours_idle, cpu_seconds(status.pid) - asterisk_idle
            section.notes.append(f"- Idle over a window ({window_s:.0f} s, no calls): ours {ours_idle * 1000:.0f} ms, Asterisk {asterisk_idle * 1000:.0f} ms.")
            ratios: dict[float, list[float]] = {}
            for rate, talk_s in rates:
                count, ours, asterisk, linkedids = await _rate(admin, rate, talk_s, window_s, server.pid, status.pid)
                logged = await _logged(settings.database_url, linkedids)
                assert logged == count, f"{logged} of {count} calls in the call log"  # the work was done
                ratio = ours / asterisk
                ratios.setdefault(talk_s, []).append(ratio)
                section.rows.append([str(rate), f"{talk_s:.0f}", str(count), f"{1000 * ours / count:.1f}", f"{1000 * asterisk / count:.1f}", f"{ratio:.3f}", f"{logged}"])
            for talk_s, of_talk in ratios.items():
                section.notes.append(f"- Calls of {talk_s:.0f} s talk: worst ratio {max(of_talk):.3f} against the goal {GOAL}: "
                                     + ("met." if max(of_talk) <= GOAL else "not met."))  # fmt: skip
        finally:
            if server.returncode is None:
                server.terminate()
            await server.wait()
            await admin.close()
            sandbox.down()
            sandbox.purge()
    return section


if __name__ == "__main__":
    print((asyncio.run(run(quick="--quick" in sys.argv))).markdown())
