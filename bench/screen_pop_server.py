"""The server side of the screen-pop benchmark, in its own process as in production: the telephony
service (AMI bridge, call logger, FastAGI) and the web app with socket.io, against the fake AMI.

    python -m bench.screen_pop_server DATABASE_URL AMI_PORT WEB_PORT AGI_PORT DATA_DIR [REDIS_URL [web-only]]

With REDIS_URL, socket.io's pushes cross workers through Redis; with ``web-only`` as well, the
process is a second worker without telephony (its agents' pops come from the first, over Redis).
Prints "ready" once serving; stops when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from agent_ui.app import create_app
from config import load_settings
from crm.db import create_engine
from telephony.service import TelephonyService


async def serve(database_url: str, ami_port: int, web_port: int, agi_port: int, data_dir: str, redis_url: str | None, web_only: bool) -> None:
    settings = load_settings(
        data_dir=data_dir,
        database={"url": database_url},
        asterisk=[{"name": "default", "ami_port": ami_port, "ami_username": "bench", "ami_secret": "bench"}],
        agi={"port": agi_port},
        agents={"disposition_required": False},
        redis={"url": redis_url, "prefix": "bench"} if redis_url else None,
    )
    telephony = None if web_only else TelephonyService(settings)
    engine = telephony.engine if telephony is not None else create_engine(settings.database_url, settings.database)
    if telephony is not None:
        await telephony.start()
    runner = web.AppRunner(create_app(settings, engine, telephony), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", web_port).start()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    if telephony is not None:
        await telephony.close()
    else:
        await engine.dispose()


if __name__ == "__main__":
    url, ami, web_port, agi, folder = sys.argv[1:6]
    redis_url = sys.argv[6] if len(sys.argv) > 6 else None
    asyncio.run(serve(url, int(ami), int(web_port), int(agi), folder, redis_url, sys.argv[7:8] == ["web-only"]))
