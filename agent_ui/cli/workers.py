"""`callcenter serve --workers N`: N `serve` processes on one port (SO_REUSEPORT: the kernel spreads
the connections), each started again when it exits, all stopped on SIGTERM or Ctrl-C. One of them
owns the telephony (telephony/cluster/); the others follow it. In production, systemd or any
supervisor can run the workers instead (docs/deploy.md)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence

RESTART_DELAY_S = 1.0


def worker_argv(argv: Sequence[str]) -> list[str]:
    """This command line for one worker: ``--workers N`` becomes ``--reuse-port``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return [sys.executable, "-m", "agent_ui.cli", *out, "--reuse-port"]


async def supervise(argv: Sequence[str], count: int) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    command = worker_argv(argv)
    await asyncio.gather(*(_keep(number, command, stopping) for number in range(1, count + 1)))


async def _keep(number: int, command: list[str], stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        process = await asyncio.create_subprocess_exec(*command)
        print(f"worker {number}: pid {process.pid}", flush=True)
        exited, stop = asyncio.create_task(process.wait()), asyncio.create_task(stopping.wait())
        await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if stopping.is_set():
            if process.returncode is None:
                process.terminate()
                await process.wait()
            return
        print(f"worker {number} exited ({process.returncode}); starting it again", file=sys.stderr, flush=True)
        await asyncio.sleep(RESTART_DELAY_S)
