"""The peer of the idle-sockets benchmark: python-socketio's own aiohttp server with nothing of ours
(any token accepted, one room per connection), so our cost per connection can be told from the library's.

    python -m bench.bare_socketio_server WEB_PORT

Prints "ready" once serving; stops when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys

import socketio
from aiohttp import web


async def serve(port: int) -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)

    @sio.on("connect")
    async def connect(sid: str, environ: dict, auth: object = None) -> None:  # type: ignore[type-arg]
        await sio.enter_room(sid, f"agent:{sid}")

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
