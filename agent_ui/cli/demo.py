"""`callcenter demo`: the sandbox Asterisk, demo data, the web app and a stream of simulated calls."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random

from agent_ui.cli.db import upgrade_database
from agent_ui.cli.errors import CommandError
from agent_ui.cli.serve import serve
from config import Settings
from crm.db import open_engine, session_factory
from crm.demo_data import CUSTOMERS, DEMO_PASSWORD, load_demo_data, load_demo_history
from telephony.ami import AmiClient, AmiError
from telephony.sandbox import Sandbox, SandboxUnavailable
from telephony.sandbox.calls import place_call


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="sandbox + demo data + web app + simulated calls", description=__doc__)
    parser.add_argument("--host", help="listening address (default: web.host setting)")
    parser.add_argument("--port", type=int, help="listening port (default: web.port setting)")
    parser.add_argument("--calls", type=int, default=0, help="stop after this many calls (default: run until Ctrl-C)")
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between new calls")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    try:
        status = asyncio.run(Sandbox(settings, log=lambda line: print(line, flush=True)).up())
    except SandboxUnavailable as error:
        raise CommandError(str(error)) from None
    upgrade_database(settings)
    users = asyncio.run(_seed(settings))
    print("demo users (password " + DEMO_PASSWORD + "): " + ", ".join(f"{u} ({r})" for u, r in users))
    asyncio.run(_run(args, settings, status))
    return 0


async def _seed(settings: Settings) -> list[tuple[str, str]]:
    async with open_engine(settings.database_url) as engine, session_factory(engine)() as session, session.begin():
        users = await load_demo_data(session, settings.crm.default_region)
        await load_demo_history(session)
        return users


async def _run(args: argparse.Namespace, settings: Settings, status) -> None:
    ready = asyncio.Event()
    server = asyncio.create_task(serve(settings, args.host or settings.web.host, args.port or settings.web.port, ready))
    await asyncio.wait([server, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        server.result()  # raises the reason it stopped
    client = AmiClient(status.ami_host, status.ami_port, status.ami_username, status.ami_secret)
    try:
        await client.connect()
        await _call_stream(client, settings, args.calls, args.interval)
        await asyncio.sleep(1)  # the calls' last hang-ups reach the bridge and the call log
    except AmiError as error:
        raise CommandError(str(error)) from None
    finally:
        await client.close()
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


async def _call_stream(client: AmiClient, settings: Settings, count: int, interval: float) -> None:
    dids = [did for queue in settings.queues for did in queue.dids]
    callers = [(phones[0], name) for name, *_rest, phones in CUSTOMERS] + [("13512345678", "")]
    running: set[asyncio.Task] = set()
    placed = 0
    while count == 0 or placed < count:
        number, name = random.choice(callers)
        did = random.choice(dids)
        task = asyncio.create_task(_one_call(client, did, number, name))
        running.add(task)
        task.add_done_callback(running.discard)
        placed += 1
        await asyncio.sleep(interval)
    if running:
        await asyncio.wait(running)


async def _one_call(client: AmiClient, did: str, number: str, name: str) -> None:
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    abandon = random.random() < 0.2
    result = await place_call(
        client, did=did, caller=digits, caller_name=name, talk_seconds=random.uniform(4, 10),
        hangup_after_wait=1.5 if abandon else None, language="zh" if name and not name.isascii() else "en",
    )
    who = f" by {result.agent}" if result.agent else ""
    print(f"call from {number} to {did}: {result.outcome}{who}", flush=True)
