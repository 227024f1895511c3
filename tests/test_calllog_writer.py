"""The call log's writer on its own: a record the database refuses never holds up the ones behind it,
the spool is bounded and replays a segment at a time, and a full disk never stops the writer."""

from __future__ import annotations

import asyncio
import errno
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_ui.cli.main import main
from crm import schema
from crm.db import create_engine, session_factory
from crm.models import Call
from telephony.calllog import spool as spool_module
from telephony.calllog.spool import Spool
from telephony.calllog.writer import CallLogWriter, call_record
from telephony.calls.bounds import bound_call
from telephony.calls.state import CallSnapshot, Disposition
from telephony.events import CallEnded, EventBus

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def ended(linkedid: str, **fields: object) -> CallEnded:
    call = CallSnapshot(
        linkedid=linkedid, server="default", direction="inbound", started_at=T0, caller_number="13800138000",
        ended_at=T0 + timedelta(seconds=30), disposition=Disposition.ABANDONED,
    )  # fmt: skip
    for name, value in fields.items():
        setattr(call, name, value)
    return CallEnded(server="default", at=T0, call=call)


async def linkedids(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return sorted(await session.scalars(select(Call.linkedid)))
    finally:
        await engine.dispose()


async def test_a_record_the_database_refuses_goes_to_the_dead_letters_and_the_rest_are_written(
    migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(migrated_url)
    bus = EventBus()
    writer = CallLogWriter(session_factory(engine), tmp_path / "spool", batch_ms=20)
    writer.start(bus)
    try:
        bus.publish(ended("before"))
        bus.publish(ended("refused", started_at=None))  # NOT NULL: both databases refuse it
        bus.publish(ended("after"))
        await writer.drained(10)
        later = [f"later-{n}" for n in range(6)]
        for linkedid in later:
            bus.publish(ended(linkedid))
        await writer.drained(10)
        assert await linkedids(migrated_url) == sorted(["before", "after", *later])
        assert await writer.stored("after", 1) is True and await writer.stored("refused", 1) is False
        health = writer.health()
        assert (health["state"], health["dead_letters"], health["spooled"]) == ("ok", 1, 0)
        assert "IntegrityError" in health["last_dead_letter"]
    finally:
        await writer.close()
        await engine.dispose()

    assert main(["--data-dir", str(tmp_path), "calllog", "dead-letters"]) == 0
    listed = capsys.readouterr().out
    assert "call refused" in listed and "IntegrityError" in listed and "1 dead letters" in listed
    assert main(["--data-dir", str(tmp_path), "calllog", "dead-letters", "--json"]) == 0
    (letter,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert letter["record"]["data"]["linkedid"] == "refused" and letter["record"]["data"]["caller_number"] == "13800138000"


async def test_the_spool_replays_a_segment_at_a_time_and_drops_its_oldest_past_its_bound(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=150_000, segment_records=100)
    records = [call_record(ended(f"call-{n:04d}")) for n in range(1000)]
    for start in range(0, 1000, 50):
        await spool.append(records[start : start + 50])
    assert spool.size <= 150_000 and spool.dropped > 0 and spool.dropped % 100 == 0
    assert len(spool) == 1000 - spool.dropped
    segment, first = await spool.oldest()
    assert len(first) == 100 and first[0]["data"]["linkedid"] == f"call-{spool.dropped:04d}"  # the oldest went
    again = Spool(tmp_path, max_bytes=150_000, segment_records=100)  # a restarted process finds them
    await again.load()
    assert len(again) == len(spool)
    replayed = []
    while (oldest := await again.oldest()) is not None:
        segment, chunk = oldest
        assert len(chunk) <= 100
        replayed += [r["data"]["linkedid"] for r in chunk]
        await again.consume(segment)
    assert replayed == [f"call-{n:04d}" for n in range(spool.dropped, 1000)] and again.is_empty()
    assert not list(tmp_path.glob("calllog-*.jsonl"))


async def test_a_full_disk_and_an_absent_database_lose_nothing_and_the_writer_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'later.db'}"  # no schema yet: every write fails
    engine = create_engine(url)
    bus = EventBus()
    writer = CallLogWriter(session_factory(engine), tmp_path / "spool", batch_ms=20, max_backoff_s=0.1)
    real_append = spool_module.append_synced

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool_module, "append_synced", disk_full)
    writer.start(bus)
    try:
        for n in range(5):
            bus.publish(ended(f"kept-{n}"))
        async with asyncio.timeout(10):
            while writer.stats.restarts < 2:
                await asyncio.sleep(0.05)
        health = writer.health()
        assert health["state"] != "stopped" and "No space left" in health["last_error"]

        monkeypatch.setattr(spool_module, "append_synced", real_append)  # the disk has room again
        async with asyncio.timeout(10):
            while len(writer.spool) < 5:
                await asyncio.sleep(0.05)
        assert writer.health()["state"] == "spooling"

        await asyncio.to_thread(schema.upgrade, url)  # the database is back
        await writer.drained(10)
        assert await linkedids(url) == [f"kept-{n}" for n in range(5)]
        assert writer.health()["state"] == "ok" and writer.running
    finally:
        await writer.close()
        await engine.dispose()


def test_untrusted_call_text_is_cut_to_its_column_and_kept_on_one_line() -> None:
    call = ended("x", caller_number="8" * 60, caller_name="王先生\r\nEvent: Hangup\x00" + "长" * 300, did="4001").call
    call.transfers.append({"kind": "blind", "target": "9" * 500})
    bound_call(call)
    assert call.caller_number == "8" * 40 and call.did == "4001"
    assert call.caller_name.startswith("王先生 Event: Hangup 长长") and len(call.caller_name) == 200
    assert len(call.transfers[0]["target"]) == 128
