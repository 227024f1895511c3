"""`callcenter serve`: the web application, the telephony service (AMI bridge, FastAGI routing,
call log) and the auto-QA worker, on an up-to-date database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from agent_ui.app import create_app
from crm.recordings import recordings_dir
from agent_ui.cli.errors import CommandError
from agent_ui.cli.workers import supervise
from config import Settings, local_asterisk
from crm import schema
from crm.db import open_engine, session_factory
from qa.worker import QaWorker
from telephony.service import TelephonyService

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run the web application", description=__doc__)
    parser.add_argument("--host", help="listening address (default: web.host setting, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listening port (default: web.port setting, 8080)")
    parser.add_argument("--workers", type=int, default=1, help="run this many worker processes on the port (needs redis.url and PostgreSQL)")
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # one of --workers' processes
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.web.host
    port = args.port or settings.web.port
    if not 1 <= port <= 65535:
        raise CommandError(f"--port {port} is not a port number (1-65535)")
    if args.workers != 1:
        if not 2 <= args.workers <= 64:
            raise CommandError(f"--workers {args.workers}: from 1 to 64")
        if settings.redis.url is None or not settings.database_url.startswith("postgresql"):
            raise CommandError("several workers share Redis and PostgreSQL: set redis.url and a postgresql database.url (docs/deploy.md)")
        asyncio.run(supervise(sys.argv[1:], args.workers))
        return 0
    asyncio.run(until_stopped(serve(settings, host, port, reuse_port=args.reuse_port)))
    return 0


async def until_stopped(running: Awaitable[None]) -> None:
    """Ctrl-C and SIGTERM (systemd, the --workers supervisor) stop ``running`` the same way: its task
    is cancelled and everything it started stops on the way out (the call log flushed, the auto-QA
    processes ended), with no traceback."""
    task = asyncio.ensure_future(running)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def serve(settings: Settings, host: str, port: int, ready: asyncio.Event | None = None, *, reuse_port: bool = False) -> None:
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
        lost = asyncio.Event()  # another worker took the telephony from us (after a database restart)
        try:
            await telephony.start(wait_for_asterisk=False, on_lost=lost.set)
        except OSError as error:
            await telephony.close()
            raise CommandError(
                f"cannot listen for FastAGI on {settings.agi.host}:{settings.agi.port}: {error.strerror}"
            ) from None
        runner = web.AppRunner(create_app(settings, engine, telephony))
        await runner.setup()
        qa = QaWorker(session_factory(engine), settings.qa, lambda server: recordings_dir(settings, server))
        qa_started = asyncio.create_task(_when_owning(telephony, qa.start), name="qa-when-owning")
        try:
            site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
            try:
                await site.start()
            except OSError as error:
                raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
            servers = ", ".join(f"{s.name} {s.ami_host}:{s.ami_port}" for s in settings.asterisk)
            if telephony.cluster is None:
                print(f"FastAGI on agi://{settings.agi.host}:{settings.agi.port}; AMI bridge to {servers}", flush=True)
            else:
                print(f"one of several workers: FastAGI on agi://{settings.agi.host}:{settings.agi.port}; the one holding the lock "
                      f"runs the AMI bridge to {servers}", flush=True)  # fmt: skip
            base = f"http://{host}:{port}"
            print(f"serving on {base}/ — agents: {base}/desktop, team leaders: {base}/wallboard, QA: {base}/qa, the API: {base}/api/docs",
                  flush=True)  # fmt: skip
            if ready is not None:
                ready.set()
            await lost.wait()
            raise CommandError("another worker took over the telephony while this one could not reach the database; "
                               "start this worker again: it follows the new owner")  # fmt: skip
        finally:
            qa_started.cancel()
            await qa.stop()
            await runner.cleanup()
            await telephony.close()


async def _when_owning(telephony: TelephonyService, start: Callable[[], Awaitable[None]]) -> None:
    """Alone, at once; in a cluster, once this worker owns the telephony (one QA pass per center)."""
    if telephony.cluster is not None:
        await telephony.cluster.owning.wait()
    try:
        await start()
    except Exception:  # noqa: BLE001 - the web app and the telephony go on; the reason is in the log
        log.exception("auto-QA did not start")
