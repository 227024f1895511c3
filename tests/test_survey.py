"""The post-call satisfaction survey (满意度调查) on the sandbox: in a queue that asks it, the agent
hangs up, the caller stays on the line, hears the question and presses a key; the call ended for the
agent when the survey began, the key is stored on the call, and a low score puts the call in the QA
review queue."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import sqlalchemy as sa

from config.settings import QaSettings
from crm.models import Call
from qa.review import waiting_for_review
from qa.worker import QaWorker
from telephony.agents.state import AgentState
from telephony.events import AgentStateChanged, CallEnded, SurveyAnswered
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, set_phone, stored_call, unknown_number

QUEUE, DID, AGENT = "survey", "4991", "1004"


@contextlib.asynccontextmanager
async def only_agent(live: LiveStack):  # type: ignore[no-untyped-def]
    """1004 is the survey queue's only member for the test."""
    await reset_agents(live)
    interface = live.service.bridge.patterns["default"].interface(AGENT)
    await live.admin.action("QueueAdd", Queue=QUEUE, Interface=interface, MemberName=AGENT)
    try:
        yield
    finally:
        await live.admin.action("QueueRemove", Queue=QUEUE, Interface=interface)
        await set_phone(live, AGENT, talk=None)


async def satisfaction_of(live: LiveStack, linkedid: str, timeout: float = 10.0) -> Call:
    """The call's row once its survey key is stored (a moment after the call's own row)."""
    async with asyncio.timeout(timeout):
        while True:
            row = await stored_call(live, linkedid)
            if row.satisfaction is not None:
                return row
            await asyncio.sleep(0.2)


async def test_the_caller_scores_the_call_after_the_agent_hangs_up(live: LiveStack) -> None:
    since = datetime.now(UTC)
    async with only_agent(live):
        await set_phone(live, AGENT, talk=2)  # the agent hangs up 2 s after answering
        with live.service.bridge.bus.subscribe() as events:
            result = await place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=30, survey_key="2")
            seen = []
            with contextlib.suppress(TimeoutError):
                while not any(isinstance(e, SurveyAnswered) for e in seen):
                    seen.append(await events.get(timeout=5))
    assert result.outcome == "answered" and result.survey_key == "2", result
    ended = next(e for e in seen if isinstance(e, CallEnded) and e.call.linkedid == result.linkedid)
    answered = next(e for e in seen if isinstance(e, SurveyAnswered))
    assert answered.linkedid == result.linkedid and answered.score == 2
    # The call ended for the agent when the survey began: talk time stops there, the agent wraps up
    # while the caller is still answering.
    assert ended.call.surveyed_at is not None and ended.call.hangup_side == "agent"
    assert ended.call.talk_s is not None and ended.call.talk_s < 3.5
    wrapup = next(
        i for i, e in enumerate(seen)
        if isinstance(e, AgentStateChanged) and e.agent.extension == AGENT and e.agent.state == AgentState.WRAP_UP
    )  # fmt: skip
    assert wrapup < seen.index(answered)

    row = await satisfaction_of(live, result.linkedid)
    assert row.satisfaction == 2 and row.surveyed_at is not None and row.talk_s == ended.call.talk_s

    # A score of 2 is low: the call waits for an inspector, saying why.
    worker = QaWorker(live.sessions, QaSettings(), lambda server: live.sandbox.recordings_dir)
    await worker.enqueue(since)
    review = QaSettings(sample_percent=0, review_shorter_s=None)
    async with live.sessions() as session:
        waiting = {c["call_id"]: c for c in await waiting_for_review(session, sa.true(), review, "UTC")}
    assert waiting[row.id]["reasons"] == ["low_satisfaction"] and waiting[row.id]["satisfaction"] == 2


async def test_no_survey_when_the_caller_hangs_up_first(live: LiveStack) -> None:
    async with only_agent(live):
        result = await place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=1.5, survey_key="5")
    assert result.outcome == "answered" and result.survey_key is None
    row = await stored_call(live, result.linkedid)
    assert row.hangup_side == "caller" and row.surveyed_at is None and row.satisfaction is None
