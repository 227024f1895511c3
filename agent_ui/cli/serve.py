"""`callcenter serve`: the web application, the telephony service (AMI bridge, FastAGI routing,
call log) and the auto-QA worker, on an up-to-date database."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from agent_ui.app import create_app
from crm.recordings import recordings_dir
from agent_ui.cli.errors import CommandError
from config import Settings, local_asterisk
from crm import schema
from crm.db import open_engine, session_factory
from qa.worker import QaWorker
from telephony.service import TelephonyService


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run the web application", description=__doc__)
    parser.add_argument("--host", help="listening address (default: web.host setting, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listening port (default: web.port setting, 8080)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.web.host
    port = args.port or settings.web.port
    if not 1 <= port <= 65535:
        raise CommandError(f"--port {port} is not a port number (1-65535)")
    asyncio.run(serve(settings, host, port))
    return 0


async def serve(settings: Settings, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    """Run until cancelled. Refuses to start on a database whose schema is out of date."""
    async with open_engine(settings.database_url, settings.database) as engine:
        try:
            await schema.check_up_to_date(engine)
        except schema.SchemaOutOfDate as error:
            raise CommandError(str(error)) from None
        # A server configured without secrets is this data folder's own Asterisk (the sandbox's).
        telephony = TelephonyService(
            settings, secret_for=lambda server: local_asterisk.secret(settings, "ami_secret"),
            ari_secret_for=lambda server: local_asterisk.secret(settings, "ari_secret"),
        )  # fmt: skip
        try:
            await telephony.start(wait_for_asterisk=False)
        except OSError as error:
            await telephony.close()
            raise CommandError(
                f"cannot listen for FastAGI on {settings.agi.host}:{settings.agi.port}: {error.strerror}"
            ) from None
        runner = web.AppRunner(create_app(settings, engine, telephony))
        await runner.setup()
        qa = QaWorker(session_factory(engine), settings.qa, lambda server: recordings_dir(settings, server))
        await qa.start()
        try:
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as error:
                raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
            servers = ", ".join(f"{s.name} {s.ami_host}:{s.ami_port}" for s in settings.asterisk)
            print(f"FastAGI on agi://{settings.agi.host}:{settings.agi.port}; AMI bridge to {servers}", flush=True)
            print(f"serving on http://{host}:{port}/ (agents: /desktop, team leaders: /wallboard)", flush=True)
            if ready is not None:
                ready.set()
            await asyncio.Event().wait()
        finally:
            await qa.stop()
            await runner.cleanup()
            await telephony.close()
