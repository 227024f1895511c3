"""`callcenter demo`: the sandbox Asterisk, demo data, the web app and a stream of simulated calls.

The simulated agents code each call they answered a few seconds after it ends, through the API as
the desktop would; someone logged in at /desktop as one of them can code it first."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random

import aiohttp

from agent_ui.cli.db import upgrade_database
from agent_ui.cli.errors import CommandError
from agent_ui.cli.serve import serve, until_stopped
from config import Settings
from crm.db import open_engine, session_factory
from crm.demo_data import CUSTOMERS, DEMO_PASSWORD, load_demo_data, load_demo_headset, load_demo_history
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
    settings = calls_language(settings)
    """Run until Ctrl-C or SIGTERM, then stop everything the demo started: the simulated calls, the
    web app with its auto-QA processes, and the sandbox Asterisk if it was not running before."""
    sandbox = Sandbox(settings, log=lambda line: print(line, flush=True))
    started_here = not sandbox.status().running
    try:
        try:
            status = asyncio.run(sandbox.up())
        except SandboxUnavailable as error:
            raise CommandError(str(error)) from None
        upgrade_database(settings)
        users = asyncio.run(_seed(settings))
        print("demo users (password " + DEMO_PASSWORD + "): " + ", ".join(f"{u} ({r})" for u, r in users))
        server = settings.asterisk[0]
        print(
            f"with a headset: accept the phone server's certificate once at https://{server.ami_host}:{server.wss_port}/httpstatus, "
            f"then log in as headset at http://127.0.0.1:{args.port or settings.web.port}/desktop and click Available"
        )
        asyncio.run(until_stopped(_run(args, settings, status)))
    except KeyboardInterrupt:
        print("\nstopping the demo", flush=True)  # Ctrl-C before the web app ran, or during its own clean stop
    finally:
        if started_here and sandbox.down():
            print("sandbox Asterisk stopped", flush=True)
        elif not started_here:
            print(f"the sandbox Asterisk was running before the demo and is left running: callcenter --data-dir {settings.data_dir} sandbox down",
                  flush=True)  # fmt: skip
    print("demo stopped", flush=True)
    return 0


async def _seed(settings: Settings) -> list[tuple[str, str]]:
    async with open_engine(settings.database_url) as engine, session_factory(engine)() as session, session.begin():
        users = await load_demo_data(session, settings.crm.default_region)
        users.append((await load_demo_headset(session), "agent, browser phone"))
        await load_demo_history(session)
        return users


async def _run(args: argparse.Namespace, settings: Settings, status) -> None:
    ready = asyncio.Event()
    server = asyncio.create_task(serve(settings, args.host or settings.web.host, args.port or settings.web.port, ready))
    await asyncio.wait([server, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        server.result()  # raises the reason it stopped
    client = AmiClient(status.ami_host, status.ami_port, status.ami_admin_username, status.ami_admin_secret)
    base = f"http://127.0.0.1:{args.port or settings.web.port}"
    try:
        await client.connect()
        for agent in settings.sandbox.agents:  # a previous run may have left them paused for a code
            interface = settings.asterisk[0].agent_interface.format(extension=agent.extension)
            with contextlib.suppress(AmiError):
                await client.action("QueuePause", Interface=interface, Paused="false")
        async with aiohttp.ClientSession(base_url=base) as http:
            await _call_stream(client, settings, args.calls, args.interval, SimulatedDesks(http, settings))
        await asyncio.sleep(1)  # the calls' last hang-ups reach the bridge and the call log
    except AmiError as error:
        raise CommandError(str(error)) from None
    finally:
        await client.close()
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


class SimulatedDesks:
    """What the simulated agents do at their desktops: give each call they took a disposition code."""

    CODING_DELAY_S = 3.0

    def __init__(self, http: aiohttp.ClientSession, settings: Settings) -> None:
        self._http = http
        self._codes = [c.code for c in settings.agents.dispositions_for("inbound")]
        self._tokens: dict[str, str] = {}

    async def code(self, linkedid: str) -> None:
        await asyncio.sleep(self.CODING_DELAY_S)
        async with self._http.get(f"/api/calls/{linkedid}", headers=await self._headers("supervisor")) as response:
            call = await response.json() if response.status == 200 else {}
        agent = call.get("agent_extension")
        if not agent or call.get("disposition_code"):
            return
        async with self._http.patch(
            f"/api/calls/{linkedid}", json={"disposition_code": random.choice(self._codes)}, headers=await self._headers(f"agent{agent}")
        ) as response:
            await response.read()

    async def _headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            async with self._http.post("/api/login", json={"username": username, "password": DEMO_PASSWORD}) as response:
                self._tokens[username] = (await response.json()).get("token", "")
        return {"Authorization": f"Bearer {self._tokens[username]}"}


async def _call_stream(client: AmiClient, settings: Settings, count: int, interval: float, desks: SimulatedDesks) -> None:
    dids = [did for queue in settings.queues for did in queue.dids]
    callers = [(phones[0], name) for name, *_rest, phones in CUSTOMERS] + [("13512345678", "")]
    running: set[asyncio.Task] = set()
    placed = 0
    try:
        while count == 0 or placed < count:
            number, name = random.choice(callers)
            did = random.choice(dids)
            task = asyncio.create_task(_one_call(client, did, number, name, desks))
            running.add(task)
            task.add_done_callback(running.discard)
            placed += 1
            await asyncio.sleep(interval)
        if running:
            await asyncio.wait(running)
    finally:  # stopped: the calls under way end with the stream, before the session they use is closed
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def _one_call(client: AmiClient, did: str, number: str, name: str, desks: SimulatedDesks) -> None:
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    abandon = random.random() < 0.2
    result = await place_call(
        client, did=did, caller=digits, caller_name=name, talk_seconds=random.uniform(4, 10),
        hangup_after_wait=1.5 if abandon else None, language="zh" if name and not name.isascii() else "en",
    )
    who = f" by {result.agent}" if result.agent else ""
    print(f"call from {number} to {did}: {result.outcome}{who}", flush=True)
    if result.outcome == "answered":
        await desks.code(result.linkedid)


def calls_language(settings: Settings) -> Settings:
    """The demo's agents speak Chinese and English: unless the settings name the calls' language,
    auto-QA hears each call in its own."""
    spoken = {agent.language for agent in settings.sandbox.agents}
    if len(spoken) > 1 and "language" not in settings.qa.model_fields_set:
        return settings.model_copy(update={"qa": settings.qa.model_copy(update={"language": "auto"})})
    return settings
