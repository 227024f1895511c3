"""Logging in: tokens, the session cookie, wrong passwords, the rate limit, socket.io refusal."""

from __future__ import annotations

import aiohttp
import pytest
import socketio

from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.queues import sync_queues
from tests.web import running


@pytest.fixture
async def base_url(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path)
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
    async with running(create_app(settings, engine)) as url:
        yield url
    await engine.dispose()


async def test_login_gives_a_token_and_a_session_cookie(base_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/api/login", json={"username": "agent1001", "password": DEMO_PASSWORD}) as response:
            assert response.status == 200
            body = await response.json()
            cookies = response.cookies
    assert len(body["token"]) > 30 and body["user"]["extension"] == "1001" and body["user"]["role"] == "agent"
    assert cookies["cc_session"].value == body["token"] and cookies["cc_session"]["httponly"]
    assert "password" not in str(body)


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"username": "agent1001", "password": "wrong-password"}, 401, "wrong user name or password"),
        ({"username": "nobody", "password": DEMO_PASSWORD}, 401, "wrong user name or password"),
        ({"username": "agent1001"}, 400, "username and password are required"),
        ("not an object", 400, "username and password are required"),
    ],
)
async def test_bad_logins_get_a_clear_error(base_url: str, payload, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as http, http.post(f"{base_url}/api/login", json=payload) as response:
        assert response.status == status
        assert (await response.json())["error"] == message


async def test_garbage_body_is_a_400(base_url: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{base_url}/api/login", data=b"\xff{") as response:
        assert response.status == 400 and "JSON" in (await response.json())["error"]


async def test_repeated_failures_are_rate_limited(base_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(7):
            async with http.post(f"{base_url}/api/login", json={"username": "agent1002", "password": "guess"}) as response:
                statuses.append(response.status)
        async with http.post(f"{base_url}/api/login", json={"username": "agent1002", "password": DEMO_PASSWORD}) as response:
            assert response.status == 429  # even the right password waits out the window
    assert statuses == [401] * 5 + [429] * 2


async def test_socketio_refuses_connections_without_a_valid_token(base_url: str) -> None:
    for auth in (None, {"token": "made-up"}):
        client = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(base_url, auth=auth, transports=["websocket"], wait_timeout=5)
        await client.disconnect()
