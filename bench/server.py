"""The server under test in its own process, as in production (bench/screen_pop_server.py: the AMI
bridge, the call logger and the web app) fed by the fake AMI, and its CPU use."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.fake_ami import FakeAmi


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    base: str  # http://127.0.0.1:port
    pid: int
    ami: FakeAmi


@contextlib.asynccontextmanager
async def server_process(database_url: str, folder: Path, redis_url: str | None = None) -> AsyncIterator[Server]:
    """Start the fake AMI and the server; yield once the server is serving and logged in to the AMI."""
    ami = FakeAmi()
    await ami.start()
    web_port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.screen_pop_server", database_url, str(ami.port), str(web_port), str(free_port()), str(folder),
        *([redis_url] if redis_url else []), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 60)
        while ami.clients() == 0:
            await asyncio.sleep(0.05)
        yield Server(f"http://127.0.0.1:{web_port}", process.pid, ami)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        await process.wait()
        await ami.close()


@contextlib.asynccontextmanager
async def child_server(module: str, web_port: int, *args: str) -> AsyncIterator[tuple[str, int]]:
    """``python -m module`` serving on ``web_port``, once it printed its first line: (base URL, pid).
    It stops when its standard input closes."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 60)
        yield f"http://127.0.0.1:{web_port}", process.pid
    finally:
        if process.stdin is not None:
            process.stdin.close()
        await process.wait()


def web_worker(database_url: str, folder: Path, redis_url: str) -> contextlib.AbstractAsyncContextManager[tuple[str, int]]:
    """A second worker without telephony, sharing socket.io with the first through Redis: (base URL, pid)."""
    port = free_port()
    return child_server("bench.screen_pop_server", port, database_url, "1", str(port), "1", str(folder), redis_url, "web-only")


class CpuMeter:
    """The server's share of one core between start and :meth:`percent`."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._cpu = cpu_seconds(pid)
        self._wall = asyncio.get_running_loop().time()

    def percent(self) -> float:
        elapsed = asyncio.get_running_loop().time() - self._wall
        return 100 * (cpu_seconds(self._pid) - self._cpu) / elapsed


async def polling_peer(poll: Callable[[aiohttp.ClientSession, str], Awaitable[None]], tokens: list[str], load: Callable[[], Awaitable[None]], pid: int) -> float:
    """The polling peers: each token runs ``poll`` once a second (spread over the second) while
    ``load`` runs; answers the server's CPU share meanwhile."""
    stop = asyncio.Event()

    async def every_second(http: aiohttp.ClientSession, token: str, offset: float) -> None:
        await asyncio.sleep(offset)
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            began = loop.time()
            await poll(http, token)
            await asyncio.sleep(max(0.0, 1.0 - (loop.time() - began)))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(tokens))) as http:
        pollers = [asyncio.create_task(every_second(http, token, i / len(tokens))) for i, token in enumerate(tokens)]
        await asyncio.sleep(1.5)
        meter = CpuMeter(pid)
        await load()
        cpu = meter.percent()
        stop.set()
        await asyncio.gather(*pollers)
    return cpu
