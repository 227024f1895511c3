"""The authorisation matrix, on the real sandbox and both databases: every documented route and
every socket.io push × every kind of user. The subject is one call of agent 1001 (team A), its
record form, recording, auto-QA, evaluation and calibration, and a live call to 1001. Only the
users the matrix names get past the gate (a 2xx, or a 4xx about the request itself); the others
get 403 or 404 and learn nothing. docs/security.md shows the same table."""

from __future__ import annotations

import asyncio
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import select

from agent_ui.app import create_app
from crm.recordings import recordings_dir
from crm.demo_data import DEMO_PASSWORD
from crm.models import Call, CallDirection, Campaign, CampaignContact, CustomerPhone, DncEntry, QaIntake, User
from crm.users import add_user
from qa.scorecards import DEFAULT_SCORECARD
from qa.store import ensure_default_scorecard
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import first_answered, reset_agents, unknown_number
from tests.test_api import DOCUMENT, Api
from tests.web import running

# Who is asking: the call's agent, an agent of the other team, the team's leader, another team's
# leader, a leader without a team, and the roles that see the whole center or all of QA.
USERS = ("agent1001", "agent1003", "leader", "leaderb", "leader0", "supervisor", "qa", "admin")
EVERYONE = frozenset(USERS)
STAFF = EVERYONE - {"qa"}
LEADERS = frozenset({"leader", "leaderb", "leader0", "supervisor", "admin"})
GRADERS = LEADERS | {"qa"}
SEES_THE_CALL = frozenset({"agent1001", "leader", "supervisor", "qa", "admin"})  # read it, its record, recording, QA
CHANGES_THE_CALL = SEES_THE_CALL - {"qa"}  # QA inspectors read, never write the call log
MANAGES_1001 = frozenset({"leader", "supervisor", "admin"})
WHOLE_CENTER = frozenset({"supervisor", "admin"})
SEES_THE_TICKET = frozenset({"agent1001", "leader", "supervisor", "qa", "admin"})  # opened by 1001
HANDLES_THE_TICKET = SEES_THE_TICKET - {"qa"}
SEES_THE_TASK = frozenset({"agent1001", "leader", "supervisor", "admin"})  # agent1001's own follow-up
CAMPAIGN_SEEN = LEADERS | {"agent1003"}
PUBLIC = {("get", "/api/health"), ("post", "/api/login"), ("get", "/api/openapi.json"), ("get", "/api/docs")}


def full_marks() -> dict[str, dict]:
    return {code: ({"failed": False} if item.fatal else {"points": item.max_points}) for code, item in DEFAULT_SCORECARD.items().items()}


@dataclass
class Subject:
    call: int = 0
    linkedid: str = ""
    evaluation: int = 0
    calibration: int = 0
    scorecard: int = 0
    customer: int = 1
    customer_phone: int = 0
    ticket: int = 0
    task: int = 0
    change: int = 0
    campaign: int = 0  # paused, of the sales queue: agent1003 serves it, agent1001 does not
    preview_dial: int = 0  # contacts of a running preview campaign held for agent1003: this one's number is on the DNC list
    preview_skip: int = 0
    dnc: dict[str, int] = field(default_factory=dict)  # an entry per user: whoever may, takes their own off the list


@dataclass
class Row:
    method: str
    path: str  # {call}, {linkedid}, {evaluation}, {calibration}, {scorecard}, {customer}
    allowed: frozenset[str]
    body: Callable[[str], Any] | dict | None = None  # by user name, or the same for all
    sees: Callable[[Any], bool] | None = None  # whether the answer shows the subject
    sees_subject: frozenset[str] = frozenset()  # who must see it in the answer (the rest must not)
    documented: tuple[str, str] = field(init=False)

    def __post_init__(self) -> None:
        template = self.path.split("?")[0].format(**{name: "{id}" for name in Subject.__dataclass_fields__})
        self.documented = (self.method.lower(), template.replace("/1001/", "/{id}/").replace("/recording/agent", "/recording/{leg}")
                           .replace("/cc-spy-none", "/{spy_id}"))


def _calls(answer: Any, subject: Subject) -> bool:
    return any(c["id"] == subject.call for c in answer["calls"])


OFFLINE: list[Row] = [
    Row("GET", "/api/customers?q=张三", EVERYONE),
    Row("POST", "/api/customers", STAFF, lambda u: {"name": f"授权 {u}", "phones": [f"+86 131 {abs(hash(u)) % 10**8:08d}"]}),
    Row("GET", "/api/customers/{customer}", EVERYONE),
    Row("PATCH", "/api/customers/{customer}", STAFF, {"notes": "大客户,偏好上午来电。"}),
    Row("POST", "/api/customers/{customer}/reveal", STAFF, lambda u: {"phone_id": SUBJECT.customer_phone}),  # QA: masked, no reveal
    Row("GET", "/api/audit?limit=5", frozenset({"supervisor", "admin"})),
    Row("POST", "/api/customers/{customer}/changes", STAFF, {"reason": "x"}),  # proposes nothing: 400 past the gate
    Row("GET", "/api/customers/{customer}/changes", EVERYONE),
    Row("GET", "/api/customer-changes", LEADERS),
    Row("POST", "/api/customer-changes/{change}/decision", MANAGES_1001, {"approve": False}),  # agent1001's proposal
    Row("POST", "/api/customers/{customer}/merge", LEADERS, lambda u: {"from_id": SUBJECT.customer}),  # into itself: 400 past the gate
    Row("POST", "/api/customers/{customer}/review", LEADERS),
    Row("GET", "/api/customers/{customer}/notes", EVERYONE),
    Row("POST", "/api/customers/{customer}/notes", STAFF, {"text": "授权测试"}),
    Row("GET", "/api/customers/{customer}/timeline", EVERYONE),
    Row("POST", "/api/customer-import?dry_run=true", WHOLE_CENTER, {"not": "a CSV"}),  # a header of no columns: 400 past the gate
    Row("GET", "/api/customer-export?grade=A", WHOLE_CENTER),
    Row("GET", "/api/dnc?limit=5", LEADERS),
    Row("POST", "/api/dnc", STAFF, lambda u: {"number": f"1391230{abs(hash(u)) % 10**4:04d}", "reason": "opt_out"}),
    Row("DELETE", "/api/dnc/{dnc}", WHOLE_CENTER),
    Row("POST", "/api/dnc-import?dry_run=true", WHOLE_CENTER, {"not": "a CSV"}),  # no number column: 400 past the gate
    Row("GET", "/api/reports/customer-regions", LEADERS),
    Row("GET", "/api/campaigns", STAFF, sees=lambda a, s: any(c["id"] == s.campaign for c in a["campaigns"]), sees_subject=CAMPAIGN_SEEN),
    Row("POST", "/api/campaigns", WHOLE_CENTER, lambda u: {"name": f"授权 {u}", "call_type": "survey"}),
    Row("GET", "/api/campaigns/{campaign}", CAMPAIGN_SEEN),
    Row("POST", "/api/campaigns/{campaign}/status", LEADERS, {"status": "paused"}),  # as it is: it stays paused
    Row("POST", "/api/campaigns/{campaign}/segment", WHOLE_CENTER, {}),  # no condition: 400 past the gate
    Row("POST", "/api/campaigns/{campaign}/contact-file?dry_run=true", WHOLE_CENTER, {"not": "a CSV"}),  # no number column: 400
    Row("POST", "/api/campaigns/{campaign}/join", frozenset({"agent1003"})),
    Row("POST", "/api/campaigns/{campaign}/next", frozenset({"agent1003"})),  # joined; not a running preview campaign: 409
    Row("POST", "/api/campaign-contacts/{preview_dial}/dial", frozenset({"agent1003"})),  # listed: 409, no call placed
    Row("POST", "/api/campaign-contacts/{preview_skip}/skip", frozenset({"agent1003"}), {"reason": "not_now"}),
    Row("POST", "/api/campaigns/{campaign}/leave", frozenset({"agent1003"})),
    Row("GET", "/api/reports/campaigns?format=csv", LEADERS),
    Row("GET", "/api/reports/campaign-agents?campaign={campaign}", LEADERS),
    Row("GET", "/api/reports/at-risk-customers?format=csv", LEADERS),
    Row("GET", "/api/calls?limit=500", EVERYONE, sees=_calls, sees_subject=SEES_THE_CALL),
    Row("GET", "/api/calls/{call}", SEES_THE_CALL),
    Row("PATCH", "/api/calls/{call}", CHANGES_THE_CALL, {"notes": "checked"}),
    Row("GET", "/api/calls/{call}/record", SEES_THE_CALL),
    Row("PUT", "/api/calls/{call}/record", CHANGES_THE_CALL, {"disposition_code": "other", "summary": "问询"}),
    Row("GET", "/api/calls/{call}/qa", SEES_THE_CALL),
    Row("GET", "/api/calls/{call}/recording/agent", SEES_THE_CALL),
    Row("GET", "/api/tickets?state=all&limit=200", EVERYONE, sees=lambda a, s: any(t["id"] == s.ticket for t in a["tickets"]), sees_subject=SEES_THE_TICKET),
    Row("POST", "/api/tickets", STAFF, lambda u: {"type": "complaint", "category": "other", "title": f"授权 {u}"}),
    Row("GET", "/api/tickets/{ticket}", SEES_THE_TICKET),
    Row("POST", "/api/tickets/{ticket}/steps", HANDLES_THE_TICKET, {"step": "nowhere"}),  # 400 past the gate
    Row("POST", "/api/tickets/{ticket}/reopen", HANDLES_THE_TICKET, {"note": "客户不满意"}),  # not closed: 409 past the gate
    Row("PUT", "/api/tickets/{ticket}/owner", MANAGES_1001, {"owner_id": 2**31 - 1}),  # no such owner: 400 past the gate
    Row("POST", "/api/tickets/{ticket}/calls", HANDLES_THE_TICKET, {"call_id": "no-such-call"}),  # 400 past the gate
    Row("GET", "/api/tasks?state=all&limit=200", STAFF, sees=lambda a, s: any(t["id"] == s.task for t in a["tasks"]), sees_subject=SEES_THE_TASK),
    Row("POST", "/api/tasks", STAFF, lambda u: {"kind": "message", "title": f"授权 {u}"}),
    Row("GET", "/api/tasks/{task}", SEES_THE_TASK),
    Row("POST", "/api/tasks/{task}/done", SEES_THE_TASK, {"outcome": "nope"}),  # 400 past the gate: it stays open
    Row("PUT", "/api/tasks/{task}/assignee", SEES_THE_TASK, {"user_id": 2**31 - 1}),  # no such user: 400 past the gate
    Row("GET", "/api/me", EVERYONE),
    Row("GET", "/api/meta", EVERYONE),
    Row("GET", "/api/me/state", STAFF),
    Row("PUT", "/api/me/state", STAFF, {"state": "available"}),
    Row("GET", "/api/me/calls", STAFF),
    Row("POST", "/api/me/dial", STAFF, {"number": "not a number"}),  # phone_id: test_desktop_browser
    Row("POST", "/api/me/phone", STAFF),  # nobody here has a browser phone: 409 (or 400 without an extension) past the gate
    Row("PUT", "/api/me/phone", STAFF, {"auto_answer": False}),
    Row("POST", "/api/me/phone/fault", STAFF, {"problem": "none"}),  # 400 past the gate: the agents here keep taking calls
    Row("PUT", "/api/agents/1001/state", MANAGES_1001, {"state": "available"}),
    Row("POST", "/api/agents/1001/spy", MANAGES_1001, {"mode": "listen"}),  # 1001 is not on a call: 409 past the gate
    Row("DELETE", "/api/agents/1001/spy/cc-spy-none", MANAGES_1001),  # nothing of theirs to stop: 409 past the gate
    Row("GET", "/api/queues", LEADERS),
    Row("GET", "/api/agents", LEADERS, sees=lambda a, s: any(r["agent"] == "1001" for r in a["agents"]), sees_subject=MANAGES_1001),
    Row("GET", "/api/reports/queues", LEADERS),
    Row("GET", "/api/reports/tickets", LEADERS),  # what a leader counts is the ticket scope, tested in test_tickets
    Row("GET", "/api/reports/agent-scores", LEADERS, sees=lambda a, s: any(r["agent"] == "1001" for r in a["rows"]), sees_subject=MANAGES_1001),
    Row("GET", "/api/reports/agents", LEADERS, sees=lambda a, s: any(r["agent"] == "1001" for r in a["rows"]), sees_subject=MANAGES_1001),
    Row("GET", "/api/qa/scorecards", EVERYONE),
    Row("POST", "/api/qa/scorecards", frozenset({"qa", "supervisor", "admin"}), lambda u: {**DEFAULT_SCORECARD.model_dump(), "key": f"authz-{u}"}),
    Row("GET", "/api/qa/scorecards/{scorecard}", EVERYONE),
    Row("POST", "/api/qa/queue", GRADERS & SEES_THE_CALL, lambda u: {"call_id": SUBJECT.call}),
    Row("GET", "/api/qa/queue", GRADERS, sees=lambda a, s: any(c["call_id"] == s.call for c in a["calls"]), sees_subject=GRADERS & SEES_THE_CALL),
    Row("GET", "/api/qa/evaluations", EVERYONE, sees=lambda a, s: any(e["id"] == s.evaluation for e in a["evaluations"]), sees_subject=SEES_THE_CALL),
    Row("POST", "/api/qa/evaluations", GRADERS & SEES_THE_CALL, lambda u: {"call_id": SUBJECT.call, "items": full_marks()}),
    Row("GET", "/api/qa/evaluations/{evaluation}", SEES_THE_CALL),
    Row("POST", "/api/qa/evaluations/{evaluation}/acknowledge", frozenset({"agent1001"}), {"comment": "收到"}),
    # Only the grader (qa) or the whole center corrects; the team's leader reads but never overwrites.
    Row("PUT", "/api/qa/evaluations/{evaluation}", frozenset({"qa", "supervisor", "admin"}), {"items": full_marks(), "reason": "复核"}),
    Row("POST", "/api/qa/evaluations/{evaluation}/dispute", frozenset({"agent1001"}), {"comment": "不同意"}),
    # The grader (qa) never settles a dispute about their own grading.
    Row("POST", "/api/qa/evaluations/{evaluation}/resolve", frozenset({"supervisor", "admin"}), {"comment": "维持原评分"}),
    Row("PUT", "/api/qa/evaluations/{evaluation}/case", GRADERS & SEES_THE_CALL, {"kind": "good", "note": "标准开场白"}),
    Row("GET", "/api/qa/cases", EVERYONE),
    Row("GET", "/api/qa/reviews", LEADERS),
    Row("POST", "/api/qa/evaluations/{evaluation}/review", MANAGES_1001, {"verdict": "agreed", "comment": "复核无误"}),
    Row("GET", "/api/qa/calibrations", GRADERS),
    Row("POST", "/api/qa/calibrations", frozenset({"qa", "supervisor", "admin"}), lambda u: {"call_id": SUBJECT.call, "inspectors": ["qa", "supervisor"]}),
    # Set up by the admin for qa and the supervisor: blind (409) for them until they grade it.
    Row("GET", "/api/qa/calibrations/{calibration}", frozenset({"qa", "supervisor", "admin"})),
    Row("GET", "/api/qa/reports", GRADERS),
]

LIVE: list[Row] = [
    Row("POST", "/api/calls/{linkedid}/hold", CHANGES_THE_CALL, {}),
    Row("POST", "/api/calls/{linkedid}/resume", CHANGES_THE_CALL, {}),
    Row("POST", "/api/calls/{linkedid}/pause-recording", CHANGES_THE_CALL, {}),  # the first allowed pauses it; then 409 past the gate
    Row("POST", "/api/calls/{linkedid}/resume-recording", CHANGES_THE_CALL, {}),
    Row("POST", "/api/calls/{linkedid}/transfer", CHANGES_THE_CALL, {"kind": "attended", "queue": "support"}),  # not a target: 400 past the gate
    Row("POST", "/api/calls/{linkedid}/transfer/complete", CHANGES_THE_CALL, {}),  # nothing to complete: 409 past the gate
]
HANG_UP = Row("POST", "/api/calls/{linkedid}/hangup", CHANGES_THE_CALL, {})
LOG_OUT = Row("POST", "/api/logout", EVERYONE, {})

SUBJECT = Subject()


@pytest.fixture
async def world(live: LiveStack, tmp_path):  # type: ignore[no-untyped-def]
    await reset_agents(live)
    settings = live.service.settings
    server = settings.asterisk[0].name
    folder = recordings_dir(settings, server) / f"authz-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    with wave.open(str(folder / "call-agent.wav"), "wb") as audio:
        audio.setnchannels(1), audio.setsampwidth(2), audio.setframerate(8000), audio.writeframes(b"\0\0" * 8000)
    async with live.sessions() as session, session.begin():
        for username, team in (("leaderb", "B"), ("leader0", None)):
            if await session.scalar(select(User.id).where(User.username == username)) is None:
                await add_user(session, username=username, password=DEMO_PASSWORD, role="team_leader", team=team)
        SUBJECT.scorecard = (await ensure_default_scorecard(session)).id
        agent = await session.scalar(select(User).where(User.username == "agent1001"))
        now = datetime.now(UTC)
        call = Call(linkedid=f"authz-{uuid.uuid4().hex[:12]}", server=server, direction=CallDirection.INBOUND, agent_id=agent.id,
                    agent_extension="1001", caller_number="13800138000", queue="support", started_at=now - timedelta(minutes=5),
                    answered_at=now - timedelta(minutes=5), ended_at=now - timedelta(minutes=3), talk_s=120.0, disposition="answered",
                    disposition_code="inquiry", recordings=[f"{folder.name}/call-agent.wav"])  # fmt: skip
        session.add(call)
        await session.flush()
        session.add(QaIntake(call_id=call.id, state="done", auto_score=55.0, flagged=True, review_reasons=["flagged"]))
        SUBJECT.call, SUBJECT.linkedid = call.id, call.linkedid
        campaign = Campaign(name=f"授权 {uuid.uuid4().hex[:8]}", call_type="follow_up", mode="progressive", status="paused", queue="sales")
        session.add(campaign)
        await session.flush()
        SUBJECT.campaign = campaign.id
        preview = Campaign(name=f"授权预览 {uuid.uuid4().hex[:8]}", call_type="survey", mode="preview", status="running", queue="sales")
        session.add(preview)
        await session.flush()
        holder = await session.scalar(select(User.id).where(User.username == "agent1003"))
        held = [CampaignContact(campaign_id=preview.id, number=n, normalized=f"+86{n}", zones=["Asia/Shanghai"], status="reserved",
                                reserved_by=holder) for n in ("13912399990", "13912399991")]  # fmt: skip
        session.add_all([*held, DncEntry(normalized="+8613912399990", number="13912399990", reason="other", source="api")])
        await session.flush()
        SUBJECT.preview_dial, SUBJECT.preview_skip = held[0].id, held[1].id
        SUBJECT.customer_phone = await session.scalar(select(CustomerPhone.id).where(CustomerPhone.customer_id == SUBJECT.customer))
        for n, user in enumerate(USERS):
            number = f"1391239{n:04d}"
            entry = DncEntry(normalized=f"+86{number}", number=number, reason="other", source="api")
            session.add(entry)
            await session.flush()
            SUBJECT.dnc[user] = entry.id
    async with running(create_app(settings, live.service.engine, live.service)) as base, aiohttp.ClientSession() as http:
        api = Api(http, base)
        tokens = dict(zip(USERS, await asyncio.gather(*(api.login(u) for u in USERS)), strict=True))
        status, evaluation = await api.call("POST", "/api/qa/evaluations", tokens["qa"], json={"call_id": call.id, "items": full_marks()})
        assert status == 201, evaluation
        status, calibration = await api.call("POST", "/api/qa/calibrations", tokens["admin"], json={"call_id": call.id, "inspectors": ["qa", "supervisor"]})
        assert status == 201, calibration
        SUBJECT.evaluation, SUBJECT.calibration = evaluation["id"], calibration["id"]
        status, ticket = await api.call("POST", "/api/tickets", tokens["agent1001"],
                                        json={"type": "complaint", "category": "quality", "title": "质量问题", "call_id": call.linkedid})  # fmt: skip
        assert status == 201, ticket
        SUBJECT.ticket = ticket["id"]
        status, task = await api.call("POST", "/api/tasks", tokens["agent1001"], json={"kind": "callback", "phone": "13800138000"})
        assert status == 201, task
        SUBJECT.task = task["id"]
        status, proposed = await api.call("POST", "/api/customers/2/changes", tokens["agent1001"], json={"at_risk": True, "reason": "授权测试",
                                                                                                  "risk": {"type": "other", "level": "low", "action": "watch"}})
        assert status == 201, proposed
        SUBJECT.change = proposed["changes"][0]["id"]
        yield api, tokens
    await reset_agents(live)


async def _ask(api: Api, token: str, row: Row, user: str) -> tuple[int, Any]:
    path = row.path.format(**{**SUBJECT.__dict__, "dnc": SUBJECT.dnc.get(user, 0)})
    payload = row.body(user) if callable(row.body) else row.body
    headers = {"Authorization": f"Bearer {token}"}
    async with api.http.request(row.method, f"{api.base}{path}", headers=headers, **({"json": payload} if payload is not None else {})) as r:
        answer = await r.json() if r.content_type == "application/json" else await r.read()
        return r.status, answer


def _judge(row: Row, user: str, status: int, answer: Any) -> str | None:
    """What is wrong with this answer, if anything."""
    if status >= 500:
        return f"{status} server error: {answer}"
    if user in row.allowed:
        if status in (401, 403, 404):
            return f"refused ({status}: {answer}) but the matrix allows it"
        if row.sees is not None and status < 300 and row.sees(answer, SUBJECT) != (user in row.sees_subject):
            return f"the answer {'lacks' if user in row.sees_subject else 'shows'} the subject"
        return None
    if status not in (403, 404):
        return f"answered {status} ({str(answer)[:120]}) but the matrix refuses it"
    return None


async def _check(api: Api, tokens: dict[str, str], rows: list[Row]) -> list[str]:
    problems = []
    for row in rows:
        for user in sorted(USERS, key=lambda u: u in row.allowed):  # the refused first: their try must change nothing
            status, answer = await _ask(api, tokens[user], row, user)
            if (problem := _judge(row, user, status, answer)) is not None:
                problems.append(f"{row.method} {row.path} as {user}: {problem}")
    return problems


def test_the_matrix_covers_every_documented_route() -> None:
    documented = {(method, path) for path, methods in DOCUMENT["paths"].items() for method in methods}
    covered = {row.documented for row in (*OFFLINE, *LIVE, HANG_UP, LOG_OUT)} | PUBLIC
    assert documented == covered, f"not in the matrix: {sorted(documented - covered)}; not documented: {sorted(covered - documented)}"


async def _sockets(base: str, tokens: dict[str, str]) -> dict[str, list[tuple[str, Any]]]:
    heard: dict[str, list[tuple[str, Any]]] = {u: [] for u in USERS}
    clients = []
    for user in USERS:
        client = socketio.AsyncClient(reconnection=False)
        for name in ("call.offered", "call.answered", "call.ended", "agent.state", "wallboard.snapshot", "agent.states", "queue.stats"):
            client.on(name, lambda data, name=name, user=user: heard[user].append((name, data)))
        await client.connect(base, auth={"token": tokens[user]}, transports=["websocket"], wait_timeout=5)
        clients.append(client)
    heard["_clients"] = clients  # type: ignore[assignment]
    return heard


async def _call_for_1001(live: LiveStack) -> tuple[asyncio.Task, str]:
    for extension in ("1002", "1003", "1004"):
        await live.service.bridge.control.pause(extension, "break")
    call = asyncio.create_task(place_call(live.ami, did="4001", caller=unknown_number(), talk_seconds=20))
    answered = await first_answered(live)
    assert answered.agent == "1001"
    return call, answered.linkedid


async def test_every_route_and_push_answers_only_whom_the_matrix_names(live: LiveStack, world) -> None:  # type: ignore[no-untyped-def]
    api, tokens = world
    problems = await _check(api, tokens, OFFLINE)

    heard = await _sockets(api.base, tokens)
    try:
        call, SUBJECT.linkedid = await _call_for_1001(live)
        problems += await _check(api, tokens, LIVE)
        for user in sorted(USERS, key=lambda u: u in HANG_UP.allowed):
            if user in HANG_UP.allowed and user != "leader":
                continue  # one hang-up ends the call: the team's leader, the least obvious of those allowed
            status, answer = await _ask(api, tokens[user], HANG_UP, user)
            if (problem := _judge(HANG_UP, user, status, answer)) is not None:
                problems.append(f"{HANG_UP.method} {HANG_UP.path} as {user}: {problem}")
        await asyncio.wait_for(call, 15)
        await asyncio.sleep(0.3)
    finally:
        for client in heard.pop("_clients"):  # type: ignore[attr-defined]
            await client.disconnect()
    pops = {u for u in USERS if any(n == "call.offered" and d["call_id"] == SUBJECT.linkedid for n, d in heard[u])}
    ends = {u for u in USERS if any(n == "call.ended" and d["call_id"] == SUBJECT.linkedid for n, d in heard[u])}
    assert pops == ends == {"agent1001"}, f"the screen pop reached {pops}, the end {ends}"
    pictured = {u for u in USERS if any(n == "wallboard.snapshot" for n, _ in heard[u])}
    assert pictured == {"leader", "leaderb", "supervisor", "admin"}, pictured  # a leader without a team has no picture
    sees_1001 = {
        u for u in USERS
        if any(n == "wallboard.snapshot" and any(a["agent"] == "1001" for a in d["agents"]) for n, d in heard[u])
        and any(n == "agent.states" and any(a["agent"] == "1001" for a in d["agents"]) for n, d in heard[u])
    }  # fmt: skip
    assert sees_1001 == MANAGES_1001, sees_1001
    assert not any(n in ("agent.states", "queue.stats") for u in ("agent1001", "agent1003", "qa", "leader0") for n, _ in heard[u])

    problems += await _check(api, tokens, [LOG_OUT])
    assert not problems, "\n".join(problems)
