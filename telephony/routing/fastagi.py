"""A FastAGI server: Asterisk's ``AGI(agi://host:port/route,<DID>,<queue>)`` lands here, and the
other scripts it is given (``/callback``: docs/callbacks.md).

The protocol is small: Asterisk sends ``agi_*: value`` lines and a blank line; we answer with
``SET VARIABLE`` commands, reading Asterisk's ``200 result=1`` after each, then close. Anything
wrong (garbage, a slow peer, a routing error) closes the connection without variables, and the
dialplan continues with the DID's default queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telephony.routing.router import RouteDecision, Router

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 2.0
MAX_HEADER_LINES = 200


# Another AGI script: the request's ``agi_*`` environment in, the channel variables to set out.
AgiScript = Callable[[dict[str, str]], Awaitable[dict[str, str]]]


class FastAgiServer:
    def __init__(
        self, router: Router, *, on_decision: Callable[[dict[str, str], RouteDecision | None], Awaitable[None] | None] | None = None,
        scripts: dict[str, AgiScript] | None = None,
    ) -> None:
        self._router = router
        self._on_decision = on_decision
        self._scripts = dict(scripts or {})
        self._server: asyncio.Server | None = None
        self.requests = 0

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> None:
        """``reuse_port``: several workers on one machine listen on the one port (the kernel
        spreads Asterisk's connections)."""
        self._server = await asyncio.start_server(self._serve, host, port, reuse_port=reuse_port or None)

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        try:
            headers = await asyncio.wait_for(read_headers(reader), HEADER_TIMEOUT_S)
            script = headers.get("agi_network_script", "").strip("/")
            if script in self._scripts:
                for name, value in (await self._scripts[script](headers)).items():
                    await set_variable(reader, writer, name, value)
                return
            if script != "route":
                log.warning("FastAGI: unknown script %r", script[:40])
                return
            decision = await self._router.route(
                did=headers.get("agi_arg_1", "") or headers.get("agi_dnid", ""),
                caller=headers.get("agi_callerid", ""),
                default_queue=headers.get("agi_arg_2") or None,
            )
            if decision is not None:
                for name, value in decision.variables().items():
                    await set_variable(reader, writer, name, value)
            if self._on_decision is not None:
                result = self._on_decision(headers, decision)
                if result is not None:
                    await result
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
            log.warning("FastAGI request dropped: %s", error or type(error).__name__)
        except Exception:  # noqa: BLE001 - one bad request never stops the service
            log.exception("FastAGI request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """The ``agi_*`` environment: ``key: value`` lines up to a blank line, read in one go."""
    try:
        block = await reader.readuntil(b"\n\n")
    except asyncio.LimitOverrunError:
        raise ValueError("AGI environment too long") from None
    except asyncio.IncompleteReadError:
        raise ConnectionError("closed before the end of the AGI environment") from None
    lines = block.decode("utf-8", errors="replace").splitlines()
    if len(lines) > MAX_HEADER_LINES:
        raise ValueError("AGI environment too long")
    headers: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip():
            headers[key.strip()] = value.strip()
    return headers


async def set_variable(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str, value: str) -> None:
    if any(c in value for c in '"\\\r\n') or not name.isidentifier():
        raise ValueError(f"refusing to send AGI variable {name}={value!r}")
    writer.write(f'SET VARIABLE {name} "{value}"\n'.encode())
    await writer.drain()
    reply = await asyncio.wait_for(reader.readline(), HEADER_TIMEOUT_S)
    if not reply.startswith(b"200"):
        raise ConnectionError(f"Asterisk answered {reply!r} to SET VARIABLE {name}")
