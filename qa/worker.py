"""The auto-QA pass over every recorded call: ended calls enter the durable intake (``qa_intake``,
a table, so nothing is lost on a restart), and a pool of worker processes analyses them off the
event loop. ``callcenter serve`` runs it continuously; ``callcenter qa score`` drains the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import QaSettings
from crm.models import Call, QaIntake
from crm.recordings import leg_file
from qa.analysis import analyse, load_legs
from qa.models import model_for, ready
from qa.scorecards import ScorecardDefinition
from qa.store import definition_of, ensure_default_scorecard, latest_scorecard

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a recording is closed a moment after the hang-up: early misses are retried
ENQUEUE_BATCH = 500

_transcribers: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_GRACE_S = 3.0


@dataclass(frozen=True)
class Outcome:
    """What one pass left a call in: ``done``, ``skipped`` (nothing to score), ``failed`` (with the
    error), or ``pending`` (its recording is not there yet: tried again later)."""

    linkedid: str
    state: str
    error: str = ""

    @property
    def settled(self) -> bool:
        return self.state != "pending"


def analyse_files(
    agent: str, customer: str, definition: dict[str, Any], lang: str, talk_span_s: float, model_dir: str | None, hold: dict[str, float],
    direction: str = "inbound",
) -> dict[str, Any]:
    """One call's auto-QA, in a worker process (a top-level function, so it can be sent there).
    ``talk_span_s`` is answer to hang-up: the recording runs until the hang-up, so the answer is
    that far before its end (it also holds the ringing before the answer)."""
    transcriber = None
    if model_dir:
        if model_dir not in _transcribers:
            from qa.transcribe import Transcriber

            _transcribers[model_dir] = Transcriber(ready(Path(model_dir)))
        transcriber = _transcribers[model_dir]
    scorecard = ScorecardDefinition.model_validate(definition)
    legs = load_legs(agent, customer)
    start_s = max(0.0, legs.duration_s - talk_span_s)
    return analyse(legs, scorecard, lang, start_s=start_s, transcriber=transcriber, hold=hold, direction=direction)


def analysis_process_started() -> None:
    """In each analysis process: Ctrl-C is the parent's to handle (it stops the pool; the process
    printing its own KeyboardInterrupt is noise), and the process ends with its parent, even one
    killed with SIGKILL (Linux: PR_SET_PDEATHSIG), so no worker or resource tracker is left behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before the line above: nobody will stop this process
            os._exit(0)


def legs_of(call: Call, recordings_dir: Path) -> tuple[Path, Path] | None:
    """The agent's and the customer's recordings of a call, if it has both."""
    agent, customer = leg_file(call.recordings, "agent"), leg_file(call.recordings, "caller")
    return (recordings_dir / agent, recordings_dir / customer) if agent and customer else None


class QaWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: QaSettings,
        recordings_dir: Callable[[str], Path],
        *,
        poll_s: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._recordings_dir = recordings_dir
        found = model_for(settings, settings.language)  # the calls' language picks the model (qa/models.py)
        self._model = str(found) if found else None
        self._poll_s = poll_s
        self._pool: ProcessPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # Lifecycle ---------------------------------------------------------------------------------------

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            pool = ProcessPoolExecutor(self._settings.workers, mp_context=multiprocessing.get_context("spawn"), initializer=analysis_process_started)
            # Started now, with Ctrl-C ignored: an ignored signal stays ignored through exec, and
            # Python then leaves it so, so a Ctrl-C while a process is still importing is not
            # its KeyboardInterrupt either (the initializer comes only after the imports).
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                for _ in range(self._settings.workers):
                    pool.submit(int)
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
            self._pool = pool
        return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._pool is broken:
            log.warning("QA: a worker process died; starting a new pool")
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="qa-worker")

    async def stop(self) -> None:
        """Let the pass under way finish its database work (a query cancelled half-way leaves its
        connection to be reset by the garbage collector, with an error in the log); cancel it only
        if it takes longer than STOP_GRACE_S (an analysis still running in the pool)."""
        if self._task is not None:
            self._stopping.set()
            await asyncio.wait({self._task}, timeout=STOP_GRACE_S)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                while any(outcome.settled for outcome in await self.run_once()) and not self._stopping.is_set():
                    pass
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("qa worker: pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_s)

    # Work --------------------------------------------------------------------------------------------

    async def enqueue(self, since: datetime | None = None) -> int:
        """Put ended calls with recordings that are not in the intake yet into it."""
        async with self._sessions() as session, session.begin():
            query = (
                select(Call.id, Call.recordings)
                .outerjoin(QaIntake, QaIntake.call_id == Call.id)
                .where(QaIntake.id.is_(None), Call.ended_at.is_not(None))
                .order_by(Call.id)
                .limit(ENQUEUE_BATCH)
            )
            if since is not None:
                query = query.where(Call.started_at >= since)
            rows = [call_id for call_id, recordings in await session.execute(query) if recordings]
            session.add_all(QaIntake(call_id=call_id) for call_id in rows)
        return len(rows)

    async def pending(self, since: datetime | None = None) -> int:
        query = select(func.count(QaIntake.id)).join(Call, Call.id == QaIntake.call_id).where(QaIntake.state == "pending")
        async with self._sessions() as session:
            return await session.scalar(query if since is None else query.where(Call.started_at >= since)) or 0

    async def run_once(self, since: datetime | None = None) -> list[Outcome]:
        """Enqueue, then analyse one batch of pending calls (started from ``since``)."""
        await self.enqueue(since)
        async with self._sessions() as session, session.begin():
            query = (
                select(QaIntake, Call)
                .join(Call, Call.id == QaIntake.call_id)
                .where(QaIntake.state == "pending")
                .order_by(QaIntake.id)
                .limit(self._settings.workers * 4)
            )
            batch = list(await session.execute(query if since is None else query.where(Call.started_at >= since)))
            if not batch:  # the usual idle poll: no scorecard to read
                return []
            scorecard = await latest_scorecard(session, self._settings.scorecard) or await ensure_default_scorecard(session)
            definition = definition_of(scorecard).model_dump(mode="json")
        return list(await asyncio.gather(*(self._analyse(intake.id, call, definition) for intake, call in batch)))

    async def _analyse(self, intake_id: int, call: Call, definition: dict[str, Any]) -> Outcome:
        result, state, error = None, "done", ""
        legs = legs_of(call, self._recordings_dir(call.server))
        if call.answered_at is None or call.ended_at is None:
            state, error = "skipped", "not answered: nothing to score"
        elif legs is None:
            state, error = "skipped", "no two-sided recording"
        elif not all(path.is_file() for path in legs):
            state, error = "pending", f"recording not found: {legs[0]}"
        else:
            talk_span_s = (call.ended_at - call.answered_at).total_seconds()
            hold = {"count": call.hold_count, "seconds": call.hold_s}
            model = self._model
            pool = self._executor()
            try:
                result = await asyncio.get_running_loop().run_in_executor(
                    pool, analyse_files, str(legs[0]), str(legs[1]), definition, self._settings.language, talk_span_s, model, hold,
                    call.direction.value,
                )
            except BrokenProcessPool as failure:
                # A worker process died (killed, out of memory): a new pool for the next round, and
                # this call again then; one that keeps killing its worker fails after MAX_ATTEMPTS.
                self._replace(pool)
                state, error = "pending", f"the analysis process died: {failure}"[:500]
            except Exception as failure:  # noqa: BLE001 - one bad recording never stops the others
                state, error = "failed", f"{type(failure).__name__}: {failure}"[:500]
        async with self._sessions() as session, session.begin():
            intake = await session.get(QaIntake, intake_id)
            if intake is None:
                return Outcome(call.linkedid, "skipped", "removed meanwhile")
            intake.attempts += 1
            intake.error = error
            if state == "pending" and intake.attempts >= MAX_ATTEMPTS:
                state = "failed"
            intake.state = state
            if result is not None:
                intake.result, intake.auto_score, intake.flagged = result, result["auto_score"], result["flagged"]
                intake.analysed_at = datetime.now(UTC)
        return Outcome(call.linkedid, state, error)
