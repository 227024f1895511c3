"""The REST API fuzzed from its own OpenAPI document (schemathesis): for every operation,
hypothesis builds requests from the declared bodies, queries and paths, and each is sent as every
role. No answer is a server error, and every answer conforms to the document (its status, media
type and schema): the response models in agent_ui/api/answers.py are what the handlers send.

The server runs in a thread of its own (schemathesis calls it synchronously), without telephony:
call controls answer 503, as documented; tests/test_api.py fuzzes them on the sandbox."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from agent_ui.app import create_app
from agent_ui.i18n import LANGUAGES, catalogue
from config import load_settings
from crm import schema as crm_schema
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.models import Call, CallDirection, User
from crm.queues import sync_queues
from qa.store import ensure_default_scorecard
from tests.conftest import free_port
from tests.test_api import DOCUMENT

ROLES = ("agent1001", "leader", "supervisor", "qa", "admin")
# A request valid by the document may still be refused for what no schema says (a number that is
# no phone number, a disposition code of the other direction, a customer that does not exist): a
# 400 with the reason is the right answer there, so that check is left out.
# A server run without telephony answers call controls 503, as documented: that is checked below
# instead of by not_a_server_error.
NOT_CHECKED = [schemathesis.checks.positive_data_acceptance, schemathesis.checks.not_a_server_error]
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
CJK = re.compile("[\u4e00-\u9fff]")
NO_TELEPHONY = ("telephony is not running in this server", catalogue("zh-CN").translate("telephony is not running in this server"))


class Server:
    """The app with demo data on SQLite, served from a thread with its own event loop."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-under-fuzz", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._started.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        url = f"sqlite+aiosqlite:///{self.folder / 'fuzz.db'}"
        await asyncio.to_thread(crm_schema.upgrade, url)
        settings_ = load_settings(data_dir=self.folder)
        self.engine = create_engine(url)
        async with session_factory(self.engine)() as session, session.begin():
            await sync_queues(session, settings_.queues)
            await load_demo_data(session)
            await ensure_default_scorecard(session)
            agent = await session.scalar(select(User).where(User.username == "agent1001"))
            session.add(Call(linkedid="fuzz-1", direction=CallDirection.INBOUND, agent_id=agent.id, agent_extension="1001",
                             caller_number="13800138000", queue="support", started_at=load_demo_now()))  # fmt: skip
        self.runner = web.AppRunner(create_app(settings_, self.engine))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __enter__(self) -> Server:
        self._thread.start()
        assert self._started.wait(60), "the API under fuzz did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            await self.runner.cleanup()
            await self.engine.dispose()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def load_demo_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    with Server(tmp_path_factory.mktemp("api-fuzz")) as running, requests.Session() as http:
        tokens = {}
        for username in ROLES:
            answer = http.post(f"{running.base}/api/login", json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
            tokens[username] = answer.json()["token"]
        yield running, tokens


@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_is_a_server_error_and_every_answer_is_as_documented(case, server) -> None:  # type: ignore[no-untyped-def]
    running, tokens = server
    if case.path == "/api/logout":
        return  # it would end the tokens the other requests use; tests/test_login.py covers it
    for i, username in enumerate(ROLES):
        language = LANGUAGES[i % len(LANGUAGES)]  # every role asks in English and in Chinese over the run's cases
        headers = {"Authorization": f"Bearer {tokens[username]}", "Accept-Language": language}
        response = case.call(base_url=running.base, headers=headers, timeout=30)
        no_telephony = response.status_code == 503 and response.json()["error"] in NO_TELEPHONY
        assert response.status_code < 500 or no_telephony, (
            f"{case.method} {case.formatted_path} as {username}: {response.status_code} {response.text[:300]}"
        )
        case.validate_response(response, excluded_checks=NOT_CHECKED)
        if language == "zh-CN" and response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
            # A refusal is said in the language asked for: nothing the API says is left in English.
            assert CJK.search(response.json()["error"]), f"{case.method} {case.formatted_path}: {response.text[:300]}"
