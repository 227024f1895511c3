"""Logging in: tokens, the session cookie, wrong passwords, the rate limit, socket.io refusal."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import socketio

from agent_ui.app import REALTIME, create_app
from agent_ui.cli.main import main
from agent_ui.auth import LoginLimiter
from config import load_settings
from crm.db import create_engine, session_factory
from crm.demo_data import DEMO_PASSWORD, load_demo_data
from crm.passwords import hash_password, verify_password
from crm.queues import sync_queues
from tests.web import running


async def demo_app(url: str, settings):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
    async with running(create_app(settings, engine)) as base:
        yield base
    await engine.dispose()


@pytest.fixture
async def base_url(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    async for url in demo_app(migrated_url, load_settings(data_dir=tmp_path)):
        yield url


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


@pytest.fixture
async def proxied_url(migrated_url: str, tmp_path):  # type: ignore[no-untyped-def]
    async for url in demo_app(migrated_url, load_settings(data_dir=tmp_path, web={"client_address_header": "X-Forwarded-For"})):
        yield url


async def test_guesses_from_elsewhere_never_lock_the_right_password_out(proxied_url: str) -> None:
    async def attempt(http: aiohttp.ClientSession, address: str, password: str) -> int:
        payload = {"username": "agent1003", "password": password}
        async with http.post(f"{proxied_url}/api/login", json=payload, headers={"X-Forwarded-For": f"10.9.9.9, {address}"}) as response:
            return response.status

    async with aiohttp.ClientSession() as http:
        assert [await attempt(http, "203.0.113.9", "guess") for _ in range(6)] == [401] * 5 + [429]
        assert await attempt(http, "198.51.100.7", DEMO_PASSWORD) == 200  # the agent at their own desk
        assert await attempt(http, "203.0.113.9", DEMO_PASSWORD) == 429  # the guesser waits, right or wrong


async def test_the_limiter_keeps_no_key_for_refused_or_good_requests_and_is_bounded() -> None:
    limiter = LoginLimiter(attempts=2, window_s=60, max_keys=50)
    for _ in range(2):
        await limiter.failed("203.0.113.9", "agent1001")
    kept = len(limiter)
    for _ in range(100):
        assert await limiter.blocked("203.0.113.9", "agent1001")
        assert not await limiter.blocked("198.51.100.7", "x" * 10_000)
    assert len(limiter) == kept
    for n in range(1000):
        await limiter.failed(f"198.51.{n // 250}.{n % 250}", "y" * 10_000)
    assert len(limiter) <= 50 and all(len(key) < 100 for key in limiter._failures)


async def test_health_answers_at_once_during_twenty_wrong_password_logins(base_url: str) -> None:
    started = time.perf_counter()
    assert not verify_password(hash_password("correct horse battery"), "wrong")
    one_check = time.perf_counter() - started

    async with aiohttp.ClientSession() as http:
        async def wrong(n: int) -> int:
            async with http.post(f"{base_url}/api/login", json={"username": f"user{n}", "password": "wrong-password"}) as response:
                return response.status

        logins = [asyncio.create_task(wrong(n)) for n in range(20)]
        await asyncio.sleep(0.2)  # past their user look-ups: the checks queue for the hashing threads
        health_times = []
        for _ in range(5):
            started = time.perf_counter()
            async with http.get(f"{base_url}/api/health") as response:
                assert response.status == 200
            health_times.append(time.perf_counter() - started)
        assert not all(task.done() for task in logins)  # health was asked while they were checked
        assert await asyncio.gather(*logins) == [401] * 20
    assert max(health_times) < one_check / 2, (health_times, one_check)


async def _socket(base_url: str, token: str) -> tuple[socketio.AsyncClient, asyncio.Event]:
    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    client.on("disconnect", lambda *reason: gone.set())
    await client.connect(base_url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    return client, gone


async def _login(http: aiohttp.ClientSession, base_url: str, username: str) -> str:
    async with http.post(f"{base_url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as response:
        assert response.status == 200
        return (await response.json())["token"]


async def test_logout_revokes_the_token_and_closes_its_sockets(base_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        token = await _login(http, base_url, "agent1001")
        other = await _login(http, base_url, "agent1001")  # the same agent on a second screen
        client, gone = await _socket(base_url, token)
        kept, kept_gone = await _socket(base_url, other)
        bearer = {"Authorization": f"Bearer {token}"}
        async with http.post(f"{base_url}/api/logout", headers=bearer) as response:
            assert response.status == 200
        await asyncio.wait_for(gone.wait(), 5)
        async with http.get(f"{base_url}/api/me", headers=bearer) as response:
            assert response.status == 401
        async with http.post(f"{base_url}/api/logout", headers=bearer) as response:
            assert response.status == 401
        async with http.get(f"{base_url}/api/me", headers={"Authorization": f"Bearer {other}"}) as response:
            assert response.status == 200 and not kept_gone.is_set()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await _socket(base_url, token)
        await kept.disconnect()


async def test_a_disabled_user_cannot_log_in_and_their_open_desktop_is_closed(migrated_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CALLCENTER_DATABASE__URL", migrated_url)
    settings = load_settings(data_dir=tmp_path)
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        await sync_queues(session, settings.queues)
        await load_demo_data(session)
    app = create_app(settings, engine)
    app[REALTIME].revalidate_s = 0.2
    async with running(app) as base_url, aiohttp.ClientSession() as http:
        token = await _login(http, base_url, "agent1004")
        client, gone = await _socket(base_url, token)
        assert await asyncio.to_thread(main, ["--data-dir", str(tmp_path), "user", "disable", "--username", "agent1004"]) == 0
        await asyncio.wait_for(gone.wait(), 5)  # closed by the sweep: the CLI is another process
        async with http.post(f"{base_url}/api/login", json={"username": "agent1004", "password": DEMO_PASSWORD}) as response:
            assert response.status == 401
        assert await asyncio.to_thread(main, ["--data-dir", str(tmp_path), "user", "enable", "--username", "agent1004"]) == 0
        await _login(http, base_url, "agent1004")
    assert await asyncio.to_thread(main, ["--data-dir", str(tmp_path), "user", "disable", "--username", "nobody"]) == 1
    await engine.dispose()


async def test_every_response_forbids_framing_and_sniffing_and_names_no_versions(base_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/desktop", "/api/health", "/api/me"):
            async with http.get(f"{base_url}{path}") as response:
                headers = response.headers
                assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
                assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
                assert headers["Server"] == "callcenter"


async def test_sockets_from_another_sites_page_are_refused_even_with_the_cookie(base_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        token = await _login(http, base_url, "agent1002")
    cookie = {"Cookie": f"cc_session={token}"}
    evil = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await evil.connect(base_url, headers={**cookie, "Origin": "http://evil.example"}, transports=["websocket"], wait_timeout=5)
    await evil.disconnect()
    own = socketio.AsyncClient(reconnection=False)
    await own.connect(base_url, headers={**cookie, "Origin": base_url}, transports=["websocket"], wait_timeout=5)
    assert own.connected
    await own.disconnect()
