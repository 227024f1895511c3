"""The rules of queue callbacks without Asterisk: where a stand-in joins the queue, and how an
attempt's end moves the request on (docs/callbacks.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.callbacks import store
from crm.db import create_engine, session_factory
from crm.models import QueueCallback
from telephony.callbacks.service import place_in_queue

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_the_stand_in_goes_behind_those_who_waited_longer_and_ahead_of_later_callers() -> None:
    waiting = [(0, T0), (0, T0 + timedelta(seconds=30)), (0, T0 + timedelta(seconds=90))]
    assert place_in_queue(waiting, 0, T0 + timedelta(seconds=60)) == 3
    assert place_in_queue(waiting, 0, T0 - timedelta(seconds=5)) == 1
    assert place_in_queue([], 0, T0) == 1


def test_priority_comes_before_time() -> None:
    waiting = [(10, T0 + timedelta(seconds=50)), (0, T0)]  # a key account who came later, an ordinary caller
    assert place_in_queue(waiting, 0, T0 + timedelta(seconds=20)) == 3  # behind both
    assert place_in_queue(waiting, 10, T0 + timedelta(seconds=20)) == 1  # ahead of both


@pytest.fixture
async def db_sessions(migrated_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(migrated_url)
    yield session_factory(engine)
    await engine.dispose()


def request(linkedid: str) -> store.Request:
    return store.Request(
        requested_linkedid=linkedid, queue="support", number="13800138000", customer_id=None, priority=0,
        waiting_since=T0, max_attempts=2, retry_s=60,
    )  # fmt: skip


async def test_a_request_is_stored_once_and_retried_until_its_attempts_are_used(db_sessions) -> None:  # type: ignore[no-untyped-def]
    async with db_sessions() as session, session.begin():
        row = await store.add(session, request("call-1"))
        assert row is not None
        assert await store.add(session, request("call-1")) is None  # the same call's event again
    async with db_sessions() as session, session.begin():
        assert [r.id for r in await store.due(session)] == [row.id]
        assert await store.start_attempt(session, row.id, "cc-cb-1-1")
        assert not await store.start_attempt(session, row.id, "cc-cb-1-1b")  # never two stand-ins for one attempt
        assert await store.due(session) == []
        settled = await store.finish(session, "cc-cb-1-1", "no_answer", now=T0)
        assert (settled.status, settled.due_at) == ("waiting", T0 + timedelta(seconds=60))
        assert await store.finish(session, "cc-cb-1-1", "no_answer") is None  # settled once
    async with db_sessions() as session, session.begin():
        assert await store.due(session, now=T0 + timedelta(seconds=30)) == []  # not before the gap
        assert await store.start_attempt(session, row.id, "cc-cb-1-2")
        last = await store.finish(session, "cc-cb-1-2", "busy")
        assert (last.status, last.attempts, last.outcome) == ("failed", 2, "busy")


async def test_a_reached_customer_ends_the_request(db_sessions) -> None:  # type: ignore[no-untyped-def]
    async with db_sessions() as session, session.begin():
        row = await store.add(session, request("call-2"))
        await store.start_attempt(session, row.id, "cc-cb-2-1")
        await store.finish(session, "cc-cb-2-1", "answered")
    async with db_sessions() as session:
        stored = await session.scalar(select(QueueCallback).where(QueueCallback.requested_linkedid == "call-2"))
    assert (stored.status, stored.attempts, stored.linkedid) == ("done", 1, None)


class _Bridge:
    """What the callback service reads of the bridge when it takes a request: no call known, no server up."""

    clients: dict = {}

    def find_call(self, linkedid: str) -> None:
        return None


def agi(*args: str) -> dict[str, str]:
    return {f"agi_arg_{n}": value for n, value in enumerate(args, start=1)}


async def test_the_agi_stores_a_request_once_and_refuses_bad_ones(db_sessions) -> None:  # type: ignore[no-untyped-def]
    from config.settings import QueueSettings
    from telephony.callbacks.service import CallbackService

    queues = [QueueSettings(name="support", callback_after_s=60), QueueSettings(name="sales")]
    service = CallbackService(_Bridge(), db_sessions, queues)  # type: ignore[arg-type]
    stored = await service.agi_request(agi("support", "13800138000", "10", "", "1796600000.25", "sim-1-c"))
    assert stored == await service.agi_request(agi("support", "13800138000", "10", "", "1796600000.25", "sim-1-c"))  # asked twice: one request
    refused = [
        agi("sales", "13800138000", "0", "", "", "sim-2-c"),  # the queue offers no callback
        agi("nosuch", "13800138000", "0", "", "", "sim-3-c"),
        agi("support", "1380013800012345678901", "0", "", "", "sim-4-c"),  # not a number to call
        agi("support", "12;Dial(x)", "0", "", "", "sim-5-c"),
        agi("support", "13800138000", "0", "", "", "x" * 65),  # no call id fits
        agi("support", "13800138000", "0", "", "", ""),
    ]
    for headers in refused:
        assert await service.agi_request(headers) == {}
    async with db_sessions() as session:
        rows = list(await session.scalars(select(QueueCallback)))
    assert [(str(r.id), r.priority, r.waiting_since, r.status) for r in rows] == [
        (stored["CC_CALLBACK_ID"], 10, datetime.fromtimestamp(1796600000.25, UTC), "waiting")
    ]
    await service.close()
