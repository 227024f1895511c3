"""An AMI client for one Asterisk server: login, actions, ordered events, reconnection.

Built on panoramisk's codec (see :mod:`telephony.ami.protocol`) but not on its ``Manager``, whose
callbacks run fire-and-forget and so lose event order. Here every event is put, in wire order and
without ever blocking the socket reader, on the queue of each :class:`EventStream` opened with
:meth:`AmiClient.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from panoramisk import actions
from panoramisk.message import Message

from telephony.ami.protocol import AmiError, AmiProtocol
from telephony.inbox import Inbox

log = logging.getLogger(__name__)

# Events we never use: Asterisk filters them too (manager.conf eventfilter), this is the second net.
CHATTY_EVENTS = frozenset(
    {
        "VarSet", "Newexten", "AGIExecStart", "AGIExecEnd", "RTCPSent", "RTCPReceived", "DeviceStateChange",
        "TestEvent", "NewConnectedLine", "DialState", "Cdr", "Cel", "ExtensionStatus", "PresenceStatus", "Registry",
        "DTMFBegin", "DTMFEnd",
    }
)  # fmt: skip


def _refuse_line_breaks(fields: dict[str, Any]) -> None:
    """A CR or LF in a value would end the header and let the rest be read as more AMI headers
    (another action, even): untrusted text such as a caller name must never do that."""
    for key, value in fields.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if "\r" in str(item) or "\n" in str(item) or "\r" in key or "\n" in key:
                raise AmiError(f"AMI field {key!r} contains a line break; refused")


EventStream = Inbox[Message]
"""Events of one subscriber of :meth:`AmiClient.events`, in the order Asterisk sent them."""


class AmiClient:
    """One logged-in AMI connection that comes back by itself when Asterisk restarts."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        server: str = "default",
        reconnect: bool = True,
        max_backoff_s: float = 5.0,
        on_login: Callable[[AmiClient], Awaitable[None]] | None = None,
        ignored: frozenset[str] = CHATTY_EVENTS,
    ) -> None:
        self.host, self.port, self.server = host, port, server
        self._ignored = ignored
        self._username, self._secret = username, secret
        self._reconnect = reconnect
        self._max_backoff_s = max_backoff_s
        self._on_login = on_login
        self._protocol: AmiProtocol | None = None
        self._streams: set[EventStream] = set()
        self._logged_in = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._lost: asyncio.Event = asyncio.Event()
        # Attributes panoramisk's protocol expects of its "factory".
        self.forgetable_actions = ("ping", "login")
        self.awaiting_actions: deque[Any] = deque()

    # Connection ----------------------------------------------------------------------------------

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect and log in; raise AmiError if that fails within ``timeout``."""
        await asyncio.wait_for(self._login_once(), timeout)
        await self._logged_in_hook()
        if self._reconnect:
            self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-{self.server}")

    def start(self) -> None:
        """Connect in the background, retrying with backoff until Asterisk answers (for services
        that must come up even while Asterisk is down)."""
        self._lost.set()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-{self.server}")

    async def _login_once(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(AmiProtocol, self.host, self.port)
        except OSError as error:
            raise AmiError(f"cannot reach AMI at {self.host}:{self.port}: {error.strerror or error}") from None
        protocol.factory = self
        protocol.log = log
        self._protocol = protocol
        self._lost.clear()
        reply = await self._send_now(
            {"Action": "Login", "Username": self._username, "Secret": self._secret, "Events": "on"}
        )
        if not reply.success:
            protocol.close()
            raise AmiError(f"AMI login as {self._username!r} refused: {reply.message or reply}")
        self._logged_in.set()
        log.info("AMI %s logged in at %s:%s", self.server, self.host, self.port)

    async def _logged_in_hook(self) -> None:
        """on_login (the bridge's resync) runs after the login, not inside its timeout: a freshly
        started Asterisk may take a while to answer the snapshot, and that is no failed login."""
        if self._on_login is not None:
            try:
                await self._on_login(self)
            except Exception:  # noqa: BLE001 - the hook's failure must not end the supervisor
                log.exception("AMI %s: after-login hook failed", self.server)

    async def _supervise(self) -> None:
        while not self._closing:
            await self._lost.wait()
            backoff = 0.2
            while not self._closing:
                try:
                    await asyncio.wait_for(self._login_once(), 10)
                    await self._logged_in_hook()
                    break
                except (AmiError, TimeoutError, OSError) as error:
                    log.warning("AMI %s reconnect failed (%s); next try in %.1fs", self.server, error, backoff)
                    if self._protocol is not None:
                        self._protocol.close()
                        self._protocol = None
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)

    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._logged_in.wait(), timeout)

    async def close(self) -> None:
        self._closing = True
        self._lost.set()
        if self._protocol is not None and not self._protocol.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._send_now({"Action": "Logoff"}), 1)
            self._protocol.close()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor

    # Called by the protocol ----------------------------------------------------------------------

    def dispatch(self, event: Message) -> None:
        if event.event in self._ignored:
            return
        event["Server"] = self.server
        for stream in tuple(self._streams):
            stream.offer(event)

    def connection_lost(self, exc: object, protocol: AmiProtocol | None = None) -> None:
        if protocol is not None and protocol is not self._protocol:
            return  # an earlier connection's late goodbye: the current one is alive
        self._logged_in.clear()
        self._protocol = None
        while self.awaiting_actions:  # actions in flight fail now; they are not replayed on another login
            pending = self.awaiting_actions.popleft()
            if not pending.future.done():
                pending.future.set_exception(AmiError(f"AMI {self.server} connection lost"))
        if not self._closing:
            log.warning("AMI %s connection lost", self.server)
        self._lost.set()

    # Actions -------------------------------------------------------------------------------------

    def events(self, names: Iterable[str] | None = None) -> EventStream:
        """Open a stream of events (all of them, or only those named)."""
        wanted = frozenset(names) if names is not None else None
        stream: EventStream = Inbox(lambda event: wanted is None or event.event in wanted, self._streams.discard)
        self._streams.add(stream)
        return stream

    def _send_now(self, fields: dict[str, Any], as_list: bool | None = None) -> asyncio.Future[Any]:
        if self._protocol is None or self._protocol.closed:
            raise AmiError(f"AMI {self.server} is not connected")
        _refuse_line_breaks(fields)
        action = actions.Action(fields, as_list=as_list)
        return self._protocol.send(action, as_list=as_list)

    async def send(self, fields: dict[str, Any], *, timeout: float = 10.0, as_list: bool | None = None) -> Any:
        """Send one action; return its response (or list of messages for list actions)."""
        if not self._logged_in.is_set():
            raise AmiError(f"AMI {self.server} is not logged in")
        return await asyncio.wait_for(self._send_now(fields, as_list), timeout)

    async def action(self, name: str, *, timeout: float = 10.0, **fields: Any) -> Message:
        """Send an action that answers with one response; raise AmiError when it is not a success."""
        reply = await self.send({"Action": name, **fields}, timeout=timeout, as_list=False)
        if not reply.success:
            raise AmiError(f"{name} failed: {reply.message or reply}")
        return reply

    async def collect(self, name: str, *, timeout: float = 10.0, **fields: Any) -> list[Message]:
        """Send a list action (QueueStatus, CoreShowChannels...) and return its events, the final one dropped."""
        # as_list=None: panoramisk sees the list from "EventList: start", and an error reply ends it.
        replies = await self.send({"Action": name, **fields}, timeout=timeout, as_list=None)
        if isinstance(replies, Message):
            replies = [replies]
        if replies and not replies[0].success:
            raise AmiError(f"{name} failed: {replies[0].message}")
        return [m for m in replies[1:] if not str(m.event).endswith("Complete")]

    async def originate(self, *, timeout: float = 10.0, **fields: Any) -> Message:
        """Originate a call. Always asynchronous: panoramisk's Action.multi raises KeyError on a reply
        to an Originate that has no Async key, which kills the connection's reader."""
        fields["Async"] = "true"
        return await self.action("Originate", timeout=timeout, **fields)

    async def command(self, command: str, *, timeout: float = 10.0) -> str:
        """Run a CLI command and return its output."""
        reply = await self.action("Command", timeout=timeout, Command=command)
        output = reply.get("Output", "")
        return "\n".join(output) if isinstance(output, list) else str(output)
