"""A progressive campaign on the real sandbox, on SQLite and PostgreSQL: the dialler calls each
joined agent's next contact, follows the retry plan, never dials a do-not-call number, keeps to the
contacts' calling hours and never places more calls than there are free agents."""

from __future__ import annotations

import asyncio
import random
import time
import zoneinfo
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm import dnc
from crm.campaigns import store
from crm.models import Call, Campaign, CampaignAttempt, CampaignContact, User
from telephony.campaigns.dialler import LINKEDID_PREFIX
from telephony.events import CallEvent
from tests.conftest import LiveStack
from tests.live_calls import reset_agents

AGENTS = ("1001", "1002", "1003", "1004")


def numbers(count: int) -> list[str]:
    return [f"139{random.randrange(10**8):08d}" for _ in range(count)]


def hours_open_in_china_only() -> dict:
    """A window around the present hour in Shanghai, which New York (13 hours behind) is outside of."""
    now = datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai"))
    start = max(now - timedelta(hours=3), now.replace(hour=0, minute=0))
    end = min(now + timedelta(hours=3), now.replace(hour=23, minute=59))
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


async def set_callee(live: LiveStack, number: str, mode: str) -> None:
    await live.admin.action("DBPut", Family=f"simcallee/{number}", Key="mode", Val=mode)


async def hang_up_answered(live: LiveStack, seconds: float) -> None:
    """The agents end each answered campaign call after ``seconds``."""
    with live.service.bus.subscribe() as events:
        while True:
            event = await events.get()
            if event.name == "call.answered" and event.call.linkedid.startswith(LINKEDID_PREFIX):  # type: ignore[attr-defined]
                linkedid = event.call.linkedid  # type: ignore[attr-defined]
                asyncio.get_running_loop().call_later(
                    seconds, lambda l=linkedid: asyncio.ensure_future(live.service.bridge.call_control.hang_up(l))
                )


async def watch_concurrency(live: LiveStack, seen: dict[str, int]) -> None:
    live_calls: dict[str, str] = {}
    with live.service.bus.subscribe() as events:
        while True:
            event = await events.get()
            if not isinstance(event, CallEvent) or not event.call.linkedid.startswith(LINKEDID_PREFIX):
                continue
            if event.name == "call.started":
                if event.call.agent in live_calls.values():
                    seen["agent_twice"] += 1
                live_calls[event.call.linkedid] = event.call.agent or ""
                seen["max"] = max(seen["max"], len(live_calls))
            elif event.name == "call.ended":
                live_calls.pop(event.call.linkedid, None)


async def test_a_progressive_campaign_dials_by_its_plan(live: LiveStack) -> None:
    await reset_agents(live)
    answer, no_answer, busy, listed = numbers(10), numbers(3), numbers(3), numbers(1)
    new_york = "+12125550100"
    for number in answer:
        await set_callee(live, number, "answer")
    for number in no_answer:
        await set_callee(live, number, "noanswer")
    for number in busy:
        await set_callee(live, number, "busy")
    async with live.sessions() as session, session.begin():
        campaign = await store.create(
            session, name=f"回访 {live.kind} {random.randrange(10**6)}", call_type="follow_up", mode="progressive", queue=None,
            caller_id="4008001234", purpose="", script="您好，这里是回访。", hours=hours_open_in_china_only(), ring_s=2,
            retry={"retries": {"no_answer": {"attempts": 2, "gap_min": 0}, "busy": {"attempts": 2, "gap_min": 0}}, "max_attempts": 3},
            created_by=None,
        )  # fmt: skip
        everyone = [*answer, *no_answer, *busy, *listed, new_york]
        added, again = await store.add_contacts(
            session, campaign, [store.NewContact(n) for n in [*everyone, answer[0]]], region="CN", fallback_zone="Asia/Shanghai"
        )
        await dnc.add(session, listed[0], region="CN", reason="opt_out", source="api", added_by=None)
        for user in await session.scalars(select(User).where(User.extension.in_(AGENTS))):
            await store.join(session, campaign, user)
        store.change_status(campaign, "running")
        campaign_id = campaign.id
    assert (added, again) == (len(everyone), 1)  # a number given twice is one contact

    seen = {"max": 0, "agent_twice": 0}
    helpers = [asyncio.create_task(hang_up_answered(live, 1.0)), asyncio.create_task(watch_concurrency(live, seen))]
    try:
        deadline = time.monotonic() + 120
        while True:
            async with live.sessions() as session:
                open_contacts = await session.scalar(
                    select(func.count()).select_from(CampaignContact).where(
                        CampaignContact.campaign_id == campaign_id, CampaignContact.status != "done", CampaignContact.number != new_york
                    )
                )  # fmt: skip
            if open_contacts == 0:
                break
            assert time.monotonic() < deadline, f"{open_contacts} contacts still open"
            await asyncio.sleep(0.5)
    finally:
        async with live.sessions() as session, session.begin():
            store.change_status(await session.get(Campaign, campaign_id), "stopped")  # type: ignore[arg-type]
        for helper in helpers:
            helper.cancel()

    async with live.sessions() as session:
        contacts = {c.number: c for c in await session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id))}
        attempts = list(await session.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)))
    for number in answer:
        assert (contacts[number].outcome, contacts[number].attempts) == ("connected", 1)
    for number in no_answer:
        assert (contacts[number].outcome, contacts[number].attempts) == ("no_answer", 2)
    for number in busy:
        assert (contacts[number].outcome, contacts[number].attempts) == ("busy", 2)
    assert (contacts[listed[0]].outcome, contacts[listed[0]].attempts) == ("dnc", 0)
    waiting = contacts[new_york]
    assert (waiting.status, waiting.attempts) == ("pending", 0) and waiting.next_at > datetime.now(waiting.next_at.tzinfo)
    assert seen["agent_twice"] == 0 and 1 <= seen["max"] <= len(AGENTS)

    # Every attempt is in the call log with the campaign; the listed number was never dialled.
    dialled = {a.linkedid for a in attempts if a.outcome != store.NOT_DIALLED}
    deadline = time.monotonic() + 10
    while True:
        async with live.sessions() as session:
            logged = {c.linkedid: c for c in await session.scalars(select(Call).where(Call.campaign_id == campaign_id))}
        if set(logged) >= dialled or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert set(logged) == dialled and len(dialled) == 10 + 2 * 3 + 2 * 3
    assert all(c.direction == "outbound" for c in logged.values())
    assert sum(1 for c in logged.values() if c.disposition == "answered") == 10
    async with live.sessions() as session:
        assert not await session.scalar(select(func.count()).select_from(Call).where(Call.called_number == listed[0]))
