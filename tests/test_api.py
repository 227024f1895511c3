"""The REST API on SQLite and PostgreSQL: the OpenAPI contract matches the routes; customers;
the call log with who-sees-what; errors are JSON with the right status."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from agent_ui.api.openapi import document_of
from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.models import Call, CallDirection, User
from crm.queues import sync_queues
from qa.scorecards import DEFAULT_SCORECARD
from tests.conftest import LiveStack
from tests.live_calls import reset_agents
from tests.browser import chromium
from tests.web import running


def openapi_document(folder) -> dict:  # type: ignore[no-untyped-def]
    """The OpenAPI document the app serves, built from its routes' contracts."""
    return document_of(create_app(load_settings(data_dir=folder), create_engine(f"sqlite+aiosqlite:///{folder / 'x.db'}")))


DOCUMENT = openapi_document(Path(tempfile.mkdtemp(prefix="openapi-")))


def test_openapi_documents_exactly_the_routes_from_their_contracts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(load_settings(data_dir=tmp_path), create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/") and route.method != "HEAD"
    }
    documented = {(method, path) for path, methods in document_of(app)["paths"].items() for method in methods}
    assert served == documented
    app = create_app(load_settings(data_dir=tmp_path), create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    async def forgotten(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/api/forgotten", forgotten)
    with pytest.raises(LookupError, match="GET /api/forgotten has no contract"):
        document_of(app)


def test_the_document_is_valid_openapi_and_its_bodies_are_the_validators() -> None:
    from openapi_spec_validator import validate

    validate(DOCUMENT)
    transfer = DOCUMENT["components"]["schemas"]["Transfer"]
    assert transfer["additionalProperties"] is False and transfer["properties"]["number"]["anyOf"][0]["maxLength"] == 40  # call_control.Transfer


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def login(self, username: str) -> str:
        async with self.http.post(f"{self.base}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as r:
            return (await r.json())["token"]

    async def call(self, method: str, path: str, token: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path)
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
        ids = {u.extension: u.id for u in await session.scalars(select(User)) if u.extension}
        now = datetime.now(UTC)
        for n, extension in enumerate(["1001", "1001", "1002"]):
            session.add(Call(linkedid=f"api-{n}", direction=CallDirection.INBOUND, agent_id=ids[extension], agent_extension=extension,
                             caller_number="13800138000", queue="support", started_at=now - timedelta(minutes=10 - n),
                             answered_at=now - timedelta(minutes=10 - n), ended_at=now - timedelta(minutes=9 - n), talk_s=60.0, disposition="answered"))
        session.add(Call(linkedid="api-out", direction=CallDirection.OUTBOUND, agent_id=ids["1001"], agent_extension="1001",
                         called_number="15500001111", started_at=now - timedelta(minutes=30), ended_at=now - timedelta(minutes=29),
                         disposition="busy"))
    async with running(create_app(settings, engine)) as base, aiohttp.ClientSession() as http:
        yield Api(http, base)
    await engine.dispose()


async def test_customers_created_found_read_and_changed(api: Api) -> None:
    token = await api.login("agent1001")
    status, created = await api.call("POST", "/api/customers", token, json={"name": "赵六", "phones": ["+86 186 0000 1111"], "grade": "B", "notes": "<script>x</script>"})
    assert status == 201 and created["name"] == "赵六" and created["notes"] == "<script>x</script>"  # stored as text
    status, found = await api.call("GET", "/api/customers?phone=18600001111", token)
    assert status == 200 and [c["id"] for c in found["customers"]] == [created["id"]]
    status, found = await api.call("GET", "/api/customers?q=华远", token)
    assert [c["name"] for c in found["customers"]] == ["张三"]
    status, card = await api.call("GET", f"/api/customers/{created['id']}", token)
    assert status == 200 and card["new"] is False and card["recent_calls"] == []
    status, changed = await api.call("PATCH", f"/api/customers/{created['id']}", token, json={"grade": "B", "key_account": True, "phones": ["18600001111", "010-6552 9988"]})
    assert status == 200 and (changed["grade"], changed["key_account"], len(changed["phones"])) == ("B", True, 2)  # the grade unchanged: an agent proposes a new one (test_customer_records)


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "message"),
    [
        ("POST", "/api/customers", {"name": "", "phones": ["13800138000"]}, 400, "name"),
        ("POST", "/api/customers", {"name": "x", "phones": ["not a number"]}, 400, "phones"),
        ("POST", "/api/customers", {"name": "x", "phones": ["13800138000"], "vip": True}, 400, "vip"),
        ("POST", "/api/customers", {"name": "x", "phones": ["13800138000"], "preferred_queue": "nope"}, 400, "unknown queue"),
        ("PATCH", "/api/customers/999999", {"grade": "A"}, 404, "no such customer"),
        ("PATCH", "/api/customers/1", {"grade": "Z"}, 400, "grade"),
        ("GET", "/api/customers", None, 400, "?phone="),
        ("GET", "/api/calls?limit=0", None, 400, "limit"),
        ("GET", "/api/calls?since=yesterday", None, 400, "since"),
        ("GET", "/api/customers/abc", None, 404, "no such id"),
    ],
)
async def test_bad_requests_get_a_json_error(api: Api, method: str, path: str, payload, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    token = await api.login("agent1001")
    got, body = await api.call(method, path, token, json=payload) if payload is not None else await api.call(method, path, token)
    assert got == status and message in body["error"]


async def test_roles_tokens_and_csrf(api: Api) -> None:
    status, body = await api.call("GET", "/api/calls")
    assert status == 401 and "log in" in body["error"]
    qa = await api.login("qa")
    status, body = await api.call("POST", "/api/customers", qa, json={"name": "x", "phones": ["13800138001"]})
    assert status == 403 and "role" in body["error"]
    assert (await api.call("GET", "/api/calls", qa))[0] == 200  # QA reads every call
    # With the session cookie instead of the bearer token, a write needs the CSRF header.
    async with api.http.post(f"{api.base}/api/login", json={"username": "agent1002", "password": DEMO_PASSWORD}) as r:
        session_cookie, csrf = r.cookies["cc_session"].value, r.cookies["cc_csrf"].value
    cookies = {"Cookie": f"cc_session={session_cookie}; cc_csrf={csrf}"}
    async with api.http.post(f"{api.base}/api/customers", headers=cookies, json={"name": "x", "phones": ["13800138002"]}) as r:
        assert r.status == 403 and "X-CSRF-Token" in (await r.json())["error"]
    async with api.http.post(f"{api.base}/api/customers", headers={**cookies, "X-CSRF-Token": csrf}, json={"name": "x", "phones": ["13800138002"]}) as r:
        assert r.status == 201


async def test_agents_see_and_annotate_only_their_own_calls(api: Api) -> None:
    agent, leader = await api.login("agent1001"), await api.login("leader")
    _, mine = await api.call("GET", "/api/calls", agent)
    _, everything = await api.call("GET", "/api/calls?limit=10", leader)
    assert {c["agent_extension"] for c in mine["calls"]} == {"1001"} and len(mine["calls"]) == 3
    assert len(everything["calls"]) == 4 and everything["calls"][0]["linkedid"] == "api-2"  # newest first
    own, other = mine["calls"][0]["id"], next(c["id"] for c in everything["calls"] if c["agent_extension"] == "1002")
    status, changed = await api.call("PATCH", f"/api/calls/{own}", agent, json={"disposition_code": "complaint", "notes": "客户投诉送货延迟"})
    assert status == 200 and (changed["disposition_code"], changed["notes"]) == ("complaint", "客户投诉送货延迟")
    assert changed["disposition"] == "answered"  # the bridge's columns are untouched
    assert (await api.call("PATCH", f"/api/calls/{other}", agent, json={"notes": "x"}))[0] == 404
    status, body = await api.call("PATCH", f"/api/calls/{own}", agent, json={"disposition_code": "bored"})
    assert status == 400 and "not a code for inbound calls" in body["error"]
    since = (datetime.now(UTC) - timedelta(minutes=9, seconds=30)).isoformat()
    _, recent = await api.call("GET", "/api/calls", leader, params={"since": since})
    assert [c["linkedid"] for c in recent["calls"]] == ["api-2", "api-1"]
    _, today = await api.call("GET", "/api/me/calls", agent)
    # 1001's two answered calls of the last ten minutes, unless the center's midnight fell between
    # them and now (the suite may run just after midnight in crm.timezone).
    midnight = datetime.fromisoformat(today["since"])
    answered_today = [c for c in mine["calls"] if c["answered_at"] and datetime.fromisoformat(c["started_at"]) >= midnight]
    assert len(answered_today) == 2 or datetime.now(UTC) - midnight < timedelta(minutes=11)
    assert (today["calls_handled"], today["talk_s"]) == (len(answered_today), 60.0 * len(answered_today))


async def test_api_documentation_page(api: Api) -> None:
    """/api/docs is Redoc (from the npm registry) drawing the generated document: summaries, paths and
    descriptions as a reader sees them, no literal Markdown."""
    async with api.http.get(f"{api.base}/api/docs") as r:
        text = await r.text()
    assert r.status == 200 and '<redoc spec-url="/api/openapi.json"' in text
    async with chromium() as page:
        await page.goto(f"{api.base}/api/docs")
        await page.wait_for_selector("text=Hang up a live call", timeout=20_000)  # an operation's summary, in the menu
        await page.click("text=A customer's card with the last calls")
        await page.wait_for_selector('text="/api/customers/{id}"', timeout=10_000)  # its path, drawn beside it
        # The introduction, drawn: Redoc renders it apart from the menu (and may have scrolled it out of the
        # page's text by now), so it is found as an element, then the page holds no literal Markdown.
        await page.wait_for_selector("text=docs/socketio.md", state="attached", timeout=10_000)
        assert "`" not in await page.inner_text("body")  # the description's Markdown is rendered, not shown
        # The introduction's own text (all of it, drawn or scrolled away): its code spans are <code>.
        intro = page.locator("[data-component-name='Markdown/Markdown']", has_text="Log in with POST /api/login").first
        assert "Authorization: Bearer <token>" in (text := await intro.text_content() or "") and "`" not in text
        assert await intro.locator("code", has_text="Authorization: Bearer <token>").count() == 1


async def test_the_pages_have_an_icon(api: Api) -> None:
    async with api.http.get(f"{api.base}/favicon.ico") as r:
        icon = await r.read()
    assert r.status == 200 and r.headers["Content-Type"].startswith("image/svg+xml") and icon.startswith(b"<svg")
    for page in ("desktop", "wallboard", "qa"):
        async with api.http.get(f"{api.base}/{page}") as r:
            assert 'rel="icon" href="/static/favicon.svg"' in await r.text()


async def test_inbound_record_form_writes_the_call_and_the_customers_history(api: Api) -> None:
    agent = await api.login("agent1001")
    status, empty = await api.call("GET", "/api/calls/api-0/record", agent)
    assert status == 200 and (empty["saved"], empty["summary"], empty["disposition_code"]) == (False, "", None)
    assert empty["record_no"].startswith("IN-") and empty["number"] == "13800138000" and "campaign" not in empty
    status, customer = await api.call("POST", "/api/customers", agent, json={"name": "钱七", "phones": ["18700002222"]})
    form = {
        "disposition_code": "complaint", "notes": "<b>late</b>", "customer_id": customer["id"], "contact": "钱先生",
        "summary": "送货延迟三天", "handling": "callback", "result": "已登记, 明天回电",
        "reply_needed": True, "reply_deadline": "2026-11-28T10:00:00+08:00",
    }
    status, saved = await api.call("PUT", "/api/calls/api-0/record", agent, json=form)
    assert status == 200 and saved["saved"] and (saved["handling"], saved["contact"]) == ("callback", "钱先生")
    _, reread = await api.call("GET", "/api/calls/api-0/record", agent)
    assert datetime.fromisoformat(reread["reply_deadline"]) == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    status, call = await api.call("GET", "/api/calls/api-0", agent)
    assert (call["disposition_code"], call["notes"], call["customer_id"]) == ("complaint", "<b>late</b>", customer["id"])
    status, card = await api.call("GET", f"/api/customers/{customer['id']}", agent)
    history = card["recent_calls"]
    assert [(h["disposition_code"], h["summary"]) for h in history] == [("complaint", "送货延迟三天")]
    form["summary"], form["reply_needed"] = "送货延迟两天", False  # saved again: one record, changed
    status, again = await api.call("PUT", "/api/calls/api-0/record", agent, json=form)
    assert status == 200 and again["record_no"] == saved["record_no"] and again["summary"] == "送货延迟两天"


@pytest.mark.parametrize(
    ("call", "payload", "message"),
    [
        ("api-0", {"summary": "x"}, "disposition_code"),
        ("api-0", {"disposition_code": "success"}, "not a code for inbound calls"),
        ("api-0", {"disposition_code": "inquiry", "campaign": "秋季回访"}, "campaign: not a field of the inbound record"),
        ("api-0", {"disposition_code": "inquiry", "reply_needed": True}, "reply_deadline"),
        ("api-0", {"disposition_code": "inquiry", "reply_needed": True, "reply_deadline": "2026-11-28T10:00:00"}, "reply_deadline"),
        ("api-0", {"disposition_code": "inquiry", "handling": "ignored"}, "handling"),
        ("api-0", {"disposition_code": "inquiry", "customer_id": 999999}, "no customer 999999"),
        ("api-out", {"disposition_code": "inquiry"}, "not a code for outbound calls"),
        ("api-out", {"disposition_code": "failed", "summary": "x"}, "summary: not a field of the outbound record"),
        ("api-out", {"disposition_code": "failed", "connect_status": "asleep"}, "connect_status"),
    ],
)
async def test_bad_record_forms_are_refused_with_the_field_named(api: Api, call: str, payload: dict, message: str) -> None:
    agent = await api.login("agent1001")
    status, body = await api.call("PUT", f"/api/calls/{call}/record", agent, json=payload)
    assert status == 400 and message in body["error"]
    _, stored = await api.call("GET", f"/api/calls/{call}", agent)
    assert stored["disposition_code"] is None  # nothing half-saved


async def test_outbound_record_form_and_other_agents_calls(api: Api) -> None:
    agent = await api.login("agent1001")
    status, empty = await api.call("GET", "/api/calls/api-out/record", agent)
    assert empty["record_no"].startswith("OUT-") and empty["connect_status"] == "busy"  # from the call log
    form = {"disposition_code": "follow_up", "campaign": "秋季回访", "call_type": "follow_up", "connect_status": "busy",
            "next_contact_at": "2026-11-28T15:00:00+08:00"}
    status, saved = await api.call("PUT", "/api/calls/api-out/record", agent, json=form)
    assert status == 200 and (saved["campaign"], saved["call_type"], saved["disposition_code"]) == ("秋季回访", "follow_up", "follow_up")
    assert (await api.call("GET", "/api/calls/api-2/record", agent))[0] == 404  # agent 1002's call
    leader = await api.login("leader")
    assert (await api.call("PUT", "/api/calls/api-2/record", leader, json={"disposition_code": "other"}))[0] == 200


def _schema_properties(operation: dict) -> list[str]:
    """The top-level fields of an operation's JSON body, from the OpenAPI document."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = DOCUMENT["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return list(body.get("properties", {}))


WRONG_VALUES = (None, [1], "x" * 5000, 10**30, "\u0000")
WRONG_IDS = ("0", "9" * 30, "%E2%80%AE")
WRONG_QUERIES = ("from=yesterday&to=2026-13-45", "interval=7m&format=xml", "limit=-5", "limit=abc", "limit=99999999999999999999",
                 "since=not-a-date", "direction=sideways&disposition=%00", "by=planet", "agent=abc&call=xyz", "phone=%2B%2B%2B&q=")


@pytest.fixture
async def live_api(live: LiveStack):  # type: ignore[no-untyped-def]
    """The API with the telephony service running on the sandbox, so call controls answer too."""
    await reset_agents(live)
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as base, aiohttp.ClientSession() as http:
        yield Api(http, base)
    await reset_agents(live)


async def test_no_bad_input_to_any_route_is_a_server_error(live_api: Api) -> None:
    """Every documented route, as admin and as an agent, fed wrong ids, wrong queries and wrong
    bodies: each answers a 4xx with a JSON message (or a 2xx), never a 500."""
    api = live_api
    tokens = [await api.login("admin"), await api.login("agent1001")]
    requests: list[tuple[str, str, dict]] = []
    for template, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            ids = WRONG_IDS if "{" in template else ("",)
            for wrong_id in ids:
                path = template.replace("{id}", wrong_id).replace("{leg}", "agent").replace("{spy_id}", "cc-spy-none")
                if method == "get":
                    queries = WRONG_QUERIES if operation.get("parameters") else WRONG_QUERIES[:1]
                    requests += [(method, f"{path}?{query}", {}) for query in queries]
                    continue
                bodies: list[dict] = [{"data": "{"}, {"json": []}, {"json": None}, {"json": "x"}, {"json": {"unknown": 1}}]
                bodies += [{"json": {field: value}} for field in _schema_properties(operation) for value in WRONG_VALUES]
                requests += [(method, path, body) for body in bodies]
    failures = []
    at_once = asyncio.Semaphore(8)

    async def send(token: str, method: str, path: str, body: dict) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if "data" in body:
            headers["Content-Type"] = "application/json"
        async with at_once, api.http.request(method.upper(), f"{api.base}{path}", headers=headers, **body) as response:
            text = await response.text()
            if response.status >= 500 or (response.status >= 400 and "error" not in text):
                failures.append((response.status, method, path, body, text[:200]))

    await asyncio.gather(*(send(token, *request) for token in tokens for request in requests))
    assert not failures, "\n".join(map(str, failures[:20]))


async def test_without_telephony_call_controls_say_so(api: Api) -> None:
    token = await api.login("agent1001")
    for method, path in (("GET", "/api/me/state"), ("POST", "/api/calls/x/hangup"), ("POST", "/api/me/dial")):
        status, answer = await api.call(method, path, token, json={"number": "13800138000"})
        assert (status, answer["error"]) == (503, "telephony is not running in this server"), path


async def test_a_center_that_saved_no_scorecard_has_the_handbooks_monitoring_form(api: Api) -> None:
    """The QA page opens on a new database too (it was blank): the built-in form is there on first
    asking, once, however many ask at the same moment."""
    token = await api.login("qa")
    answers = await asyncio.gather(*(api.call("GET", "/api/qa/scorecards", token) for _ in range(3)))
    assert {status for status, _ in answers} == {200}
    assert all([(c["key"], c["version"]) for c in body["scorecards"]] == [(DEFAULT_SCORECARD.key, 1)] for _, body in answers)


async def test_queues_have_an_english_and_a_chinese_name(api: Api) -> None:
    status, meta = await api.call("GET", "/api/meta", await api.login("agent1001"))
    names = {q["name"]: (q["display_name"], q["display_name_zh"]) for q in meta["queues"]}
    assert status == 200 and names["support"] == ("Customer support", "客户服务")
