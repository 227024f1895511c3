"""A QA analysis process that dies (killed, out of memory) is replaced: the calls after it are scored."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from config.settings import QaSettings
from crm.db import create_engine, session_factory
from crm.models import Call, CallDirection, QaIntake
from qa.worker import QaWorker
from telephony.sandbox.scripted import scripted_call


async def add_call(sessions, linkedid: str, recordings: list[str]) -> None:  # type: ignore[no-untyped-def]
    started = datetime.now(UTC) - timedelta(minutes=5)
    async with sessions() as session, session.begin():
        session.add(Call(linkedid=linkedid, direction=CallDirection.INBOUND, agent_extension="1001", started_at=started,
                         answered_at=started, ended_at=started + timedelta(seconds=40), talk_s=40.0, disposition="answered",
                         recordings=recordings))  # fmt: skip


async def states(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return {c.linkedid: i.state for i, c in await session.execute(select(QaIntake, Call).join(Call, Call.id == QaIntake.call_id))}


async def test_a_killed_analysis_process_is_replaced_and_the_next_call_is_scored(migrated_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    agent, caller, _ = await asyncio.to_thread(scripted_call, folder, "good")
    recordings = [caller.name, agent.name]
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    worker = QaWorker(sessions, QaSettings(language="en", workers=1, sample_percent=0), lambda server: folder)
    try:
        await add_call(sessions, "before", recordings)
        await worker.run_once()
        assert (await states(sessions))["before"] == "done"

        for process in multiprocessing.active_children():  # the analysis process dies
            os.kill(process.pid, signal.SIGKILL)
        await add_call(sessions, "after", recordings)
        async with asyncio.timeout(60):
            while (await states(sessions)).get("after") != "done":
                await worker.run_once()
        async with sessions() as session:
            intake = await session.scalar(select(QaIntake).join(Call).where(Call.linkedid == "after"))
        assert intake.auto_score is not None and intake.attempts <= 2
    finally:
        await worker.stop()
        await engine.dispose()
