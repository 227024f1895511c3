"""Running the web app in a test: a real aiohttp server on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import socketio
from aiohttp import web

from crm.demo_data import DEMO_PASSWORD

from tests.conftest import free_port


@contextlib.asynccontextmanager
async def running(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def agent_socket(
    base_url: str, username: str, events: tuple[str, ...] = ("call.offered", "call.answered", "call.ended", "call.missed", "agent.state")
) -> tuple[socketio.AsyncClient, asyncio.Queue]:
    """A logged-in socket.io client; every event named in ``events`` lands in the queue as (name, time, data)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base_url}/api/login", json={"username": username, "password": DEMO_PASSWORD}) as response:
            token = (await response.json())["token"]
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    for name in events:
        client.on(name, lambda data, name=name: received.put_nowait((name, time.time(), data)))
    await client.connect(base_url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    return client, received
