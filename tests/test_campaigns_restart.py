"""`callcenter serve` killed (SIGKILL) in the middle of a progressive campaign and started again
once the calls it had placed are over, on the real sandbox, SQLite and PostgreSQL: those calls ended
while nobody listened, yet no customer is dialled twice and none is forgotten. Its own database, so
the process's workers touch nothing of the other tests."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import Settings
from crm.campaigns import store
from crm.campaigns.plan import outcome_after_restart
from crm.db import create_engine, session_factory
from crm.models import CampaignAttempt, CampaignContact, User
from telephony.outbound.dialer import CAMPAIGN
from tests.conftest import LiveStack, _postgres_admin, free_port, new_postgres_database, with_demo_data
from tests.live_calls import reset_agents
from tests.test_campaigns_dialler import AGENTS, numbers, set_callee

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def own_database(live: LiveStack, tmp_path: Path) -> AsyncIterator[str]:
    if live.kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    else:
        name, url = await new_postgres_database("cc_serve")
    yield await with_demo_data(url, live.service.settings.queues)
    if live.kind == "postgresql":
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve_config(path: Path, settings: Settings, url: str) -> Path:
    server = settings.asterisk[0]
    lines = [
        f"data_dir = {json.dumps(str(settings.data_dir))}",
        "[database]", f"url = {json.dumps(url)}",
        "[[asterisk]]", f"ami_port = {server.ami_port}", f"http_port = {server.http_port}", f"wss_port = {server.wss_port}",
        "[agi]", f"port = {free_port()}",
        "[agents]", "outbound_wrapup_s = 1", "disposition_required = false",  # the simulated agents code nothing
        "[calllog]", "batch_ms = 50", f"spool_dir = {json.dumps(str(path.parent / 'spool'))}",
        "[qa]", "transcripts = false",  # auto-QA on the calls' recordings, without the speech model's CPU
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def start_serve(config: Path, log: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent_ui.cli", "--config", str(config), "-v", "serve", "--port", str(free_port()),
        cwd=ROOT, stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return process


async def campaign_channels(live: LiveStack) -> int:
    return sum(1 for channel in await live.admin.collect("CoreShowChannels") if channel.get("Linkedid", "").startswith(CAMPAIGN))


async def count(sessions, statement) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await session.scalar(statement) or 0


async def test_serve_killed_mid_campaign_dials_nothing_twice_and_forgets_nothing(
    live: LiveStack, own_database: str, sandbox_settings_: Settings, tmp_path: Path
) -> None:
    await reset_agents(live)
    contacts = numbers(12)
    for number in contacts:
        await set_callee(live, number, "answer")
        await live.admin.action("DBPut", Family=f"simcallee/{number}", Key="talk", Val="2")
    engine = create_engine(own_database)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        campaign = await store.create(
            session, name="满意度调查", call_type="survey", mode="progressive", queue=None, caller_id="", purpose="", script="",
            hours={"start": "00:00", "end": "23:59"}, ring_s=5, created_by=None,
            retry={"retries": {"failed": {"attempts": 2, "gap_min": 0}}, "max_attempts": 3},
        )  # fmt: skip
        await store.add_contacts(session, campaign, [store.NewContact(n) for n in contacts], region="CN", fallback_zone="Asia/Shanghai")
        for user in await session.scalars(select(User).where(User.extension.in_(AGENTS))):
            await store.join(session, campaign, user)
        store.change_status(campaign, "running")
        campaign_id = campaign.id

    dialled: Counter[str] = Counter()  # the customers' phones Asterisk was asked to ring

    async def watch() -> None:
        with live.admin.events() as events:
            while True:
                event = await events.get()
                if event.get("Event") == "DialBegin" and "@sim-callee" in event.get("DialString", ""):
                    dialled[event["DialString"].split("@")[0]] += 1

    watcher = asyncio.create_task(watch())
    config = serve_config(tmp_path / "serve.toml", sandbox_settings_, own_database)
    attempts = select(func.count()).select_from(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
    process = await start_serve(config, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 60
        while await count(sessions, attempts) < 6:  # in the middle of the list, calls up
            assert process.returncode is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        killed_with = await count(sessions, attempts)
        in_flight = await count(sessions, attempts.where(CampaignAttempt.ended_at.is_(None)))
        deadline = time.monotonic() + 30
        while await campaign_channels(live):  # the calls placed before the kill end unheard
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)

        process = await start_serve(config, tmp_path / "serve.log")
        open_contacts = select(func.count()).select_from(CampaignContact).where(
            CampaignContact.campaign_id == campaign_id, CampaignContact.status != "done"
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while await count(sessions, open_contacts):
            assert process.returncode is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            await asyncio.sleep(0.3)
    finally:
        watcher.cancel()
        if process.returncode is None:
            process.terminate()
            await process.wait()
    async with sessions() as session:
        outcomes = {c.number: (c.outcome, c.attempts) for c in await session.scalars(select(CampaignContact))}
        unsettled = await session.scalar(select(func.count()).select_from(CampaignAttempt).where(CampaignAttempt.outcome.is_(None)))
    await engine.dispose()
    assert killed_with < len(contacts)  # the kill came mid-list
    assert in_flight  # with calls up, whose ends nobody saw
    assert unsettled == 0
    assert all(outcome == "connected" for outcome, _ in outcomes.values()), outcomes
    assert dialled == Counter(dict.fromkeys(contacts, 1)), dialled  # every customer rung once, none twice


@pytest.mark.parametrize(
    ("mark", "logged", "outcome"),
    [
        (None, None, None),  # never dialled (the agent's phone did not answer, or the kill came before the Originate): not an attempt
        (None, "no_answer", None),  # the call log's no_answer was the agent's phone, not the customer's
        ("ANSWER", None, "connected"),  # answered and talked while serve was down: not called again
        ("BUSY", None, "busy"),
        ("NOANSWER", None, "no_answer"),
        ("CANCEL", None, "no_answer"),
        ("CHANUNAVAIL", None, "failed"),
        ("DIALLING", "answered", "connected"),  # Asterisk stopped mid-call: the call log's word
        ("DIALLING", None, "failed"),  # nobody knows: counted, and the plan retries it
    ],
)
def test_an_attempt_that_ended_unheard_is_settled_by_what_asterisk_kept(mark: str | None, logged: str | None, outcome: str | None) -> None:
    assert outcome_after_restart(mark, logged) == outcome
