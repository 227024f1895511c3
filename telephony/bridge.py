"""The AMI bridge: for every configured Asterisk, one connection whose events, in wire order, feed
the call tracker of that server and the shared agent tracker; what they produce goes on the bus.

On every (re)login it takes a snapshot (``CoreShowChannels``, ``QueueStatus``, ``QueueSummary``)
and applies it in the event order, so calls that ended and pauses that changed while we were
disconnected are right again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from panoramisk.message import Message

from config.settings import Settings
from telephony.agents.control import AgentControl, AgentControlError
from telephony.agents.interfaces import AgentInterfaces
from telephony.agents.tracker import AgentTracker
from telephony.ami import AmiClient, AmiError
from telephony.ami.client import EventStream
from telephony.asterisks import Asterisks
from telephony.calls.control import CallControl
from telephony.calls.state import CallSnapshot
from telephony.calls.tracker import CallTracker
from telephony.events import CallEvent, DomainEvent, EventBus
from telephony.outbound.dialer import Dialer
from telephony.phones.presence import GRACE_S

log = logging.getLogger(__name__)

RESYNC_START = "CCResyncStart"
RESYNC_EVENT = "CCResync"
WRAPUP_TICK_S = 0.25


class Bridge:
    def __init__(
        self,
        settings: Settings,
        bus: EventBus,
        *,
        secret_for: Callable[[str], str | None] = lambda server: None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self._secret_for = secret_for
        self.patterns = {s.name: AgentInterfaces(s.agent_interface) for s in settings.asterisk}
        self.calls = {name: CallTracker(name, pattern) for name, pattern in self.patterns.items()}
        wrapups = {q.name: q.wrapup_s for q in settings.queues}
        self.agents = AgentTracker(
            self.patterns,
            wrapup_s=lambda queue: wrapups.get(queue or "", settings.agents.outbound_wrapup_s),
        )
        self.asterisks = Asterisks(settings, self.patterns, self.calls, self.agents)
        self.clients: dict[str, AmiClient] = self.asterisks.clients
        self.queue_summary: dict[str, dict[str, dict[str, str]]] = {}
        self._streams: dict[str, EventStream] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._actions: set[asyncio.Task[None]] = set()
        self.resyncs = 0
        self._snapshot_marks: dict[str, dict[str, set[str]]] = {}
        self._events_in: dict[str, int] = dict.fromkeys(self.patterns, 0)
        self._lag_s: dict[str, float] = dict.fromkeys(self.patterns, 0.0)
        self.control = AgentControl(self.asterisks)
        self.phones = self.asterisks.phones
        self.dialer = Dialer(self.asterisks, publish=self._publish)
        self.call_control = CallControl(self.asterisks)

    # Lifecycle -------------------------------------------------------------------------------------

    async def start(self, timeout: float | None = 10.0) -> None:
        """Connect to every server. With ``timeout=None`` do not wait: each connection comes up in
        the background whenever its Asterisk does (``callcenter serve``)."""
        for server in self.settings.asterisk:
            secret = server.ami_secret or self._secret_for(server.name)
            if not secret:
                raise AmiError(f"no AMI secret for server {server.name} (asterisk.ami_secret)")
            client = AmiClient(
                server.ami_host, server.ami_port, server.ami_username, secret, server=server.name, on_login=self._resync
            )
            self.clients[server.name] = client
            self._streams[server.name] = client.events()
            self._tasks.append(asyncio.create_task(self._pump(server.name), name=f"bridge-{server.name}"))
        for client in self.clients.values():
            if timeout is None:
                client.start()
            else:
                await client.connect(timeout=timeout)
        self._tasks.append(asyncio.create_task(self._wrapups(), name="bridge-wrapups"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for action in list(self._actions):
            action.cancel()
        for client in self.clients.values():
            await client.close()
        for server, stream in self._streams.items():  # what was received is still handled
            while stream.pending():
                self._handle(server, stream.get_nowait())

    def client(self, server: str | None = None) -> AmiClient:
        return self.asterisks.client(server)

    def restore(self, calls: list[CallSnapshot]) -> None:
        """Before start, on a take-over: the calls the previous owner was following. The first
        resync of each server closes those gone (their call-log rows complete) and fills in those
        still up (telephony/calls/resync.py)."""
        for tracker in self.calls.values():
            tracker.restore(calls)

    # Reading ---------------------------------------------------------------------------------------

    def live_calls(self) -> list[CallSnapshot]:
        return self.asterisks.live_calls()

    def find_call(self, linkedid: str) -> CallSnapshot | None:
        return self.asterisks.find_call(linkedid)

    async def calls_gone(self, linkedids: list[str]) -> list[str]:
        """Of these calls, those neither followed here nor up in any Asterisk (``CoreShowChannels``):
        what the dialler and the callbacks settle from the call log when they did not see the end.
        Raises AmiError or TimeoutError when Asterisk cannot be asked."""
        unfollowed = [linkedid for linkedid in linkedids if self.find_call(linkedid) is None]
        if not unfollowed:
            return []
        up: set[str] = set()
        for client in self.clients.values():
            up |= {channel.get("Linkedid", "") for channel in await client.collect("CoreShowChannels")}
        return [linkedid for linkedid in unfollowed if linkedid not in up]

    # The pipeline ----------------------------------------------------------------------------------

    async def _pump(self, server: str) -> None:
        stream = self._streams[server]
        while True:
            self._handle(server, await stream.get())

    def status(self) -> dict[str, dict[str, object]]:
        """Per server: connected, AMI events taken in, and how late the last one was handled (from
        its own Timestamp), for /readyz and /metrics."""
        return {
            server: {"connected": server in self.clients and self.clients[server].connected, "events": self._events_in[server],
                     "lag_s": self._lag_s[server]}
            for server in self.patterns
        }  # fmt: skip

    def _handle(self, server: str, event: Message) -> None:
        tracker = self.calls[server]
        self._events_in[server] += 1
        if (stamp := event.get("Timestamp")) is not None:
            with contextlib.suppress(ValueError):
                self._lag_s[server] = max(0.0, datetime.now(UTC).timestamp() - float(stamp))
        try:
            if event.get("Event") == RESYNC_START:
                self._snapshot_marks[server] = tracker.mark_snapshot()
            elif event.get("Event") == RESYNC_EVENT:
                self._apply_resync(server, event)
            else:
                for domain_event in tracker.handle(event):
                    self._publish(domain_event)
                    if isinstance(domain_event, CallEvent):
                        for change in self.agents.handle_call(domain_event):
                            self._publish(change)
                for change in self.agents.handle_ami(event):
                    self._publish(change)
                for change in self.dialer.monitors.handle(server, event):
                    self._publish(change)
                if (extension := self.phones.handle(server, event)) is not None:
                    self._spawn(self._pause_if_phone_gone(extension, server), f"pause {extension}: browser phone gone")
                for channel in tracker.take_hang_ups():
                    self._spawn(self.client(server).action("Hangup", Channel=channel, Cause="16"), f"hangup {channel}")
        except Exception:  # noqa: BLE001 - one odd event never stops the bridge
            log.exception("bridge %s: event %s not understood", server, event.get("Event"))
        self.asterisks.applied()

    def _spawn(self, action: Awaitable[object], what: str) -> None:
        """An AMI action sent from the pipeline without waiting for it (the pump never blocks)."""

        async def run() -> None:
            try:
                await action
            except (AmiError, TimeoutError) as error:
                log.warning("bridge: %s failed: %s", what, error)

        task = asyncio.create_task(run())
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)

    async def _pause_if_phone_gone(self, extension: str, server: str) -> None:
        await asyncio.sleep(GRACE_S)
        if self.phones.gone(extension):
            log.warning("bridge %s: the browser phone of %s is gone; pausing the agent", server, extension)
            try:
                await self.control.pause_for_phone(extension, server=server)
            except AgentControlError as error:  # logged out meanwhile
                log.info("bridge %s: %s", server, error)

    def _publish(self, event: DomainEvent) -> None:
        self.bus.publish(event)

    async def _resync(self, client: AmiClient) -> None:
        """on_login: take the snapshot now, apply it in event order (see module doc)."""
        backoff = 0.2
        while True:
            # Everything before this marker happened before the snapshot; see CallTracker.resync.
            self._streams[client.server].inject(Message({"Event": RESYNC_START, "Server": client.server}))
            try:
                channels = await client.collect("CoreShowChannels")
                status = await client.collect("QueueStatus")
                summary = await client.collect("QueueSummary")
                break
            except (AmiError, TimeoutError) as error:
                if not client.connected:  # the next login resyncs
                    log.warning("bridge %s: resync failed (%s); the connection is gone", client.server, error)
                    return
                log.warning("bridge %s: resync failed (%s); again in %.1f s", client.server, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        marker = Message({"Event": RESYNC_EVENT, "Server": client.server})
        marker.snapshot = (channels, status, summary)  # type: ignore[attr-defined]
        self._streams[client.server].inject(marker)

    def _apply_resync(self, server: str, marker: Message) -> None:
        channels, status, summary = marker.snapshot  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        before = self._snapshot_marks.pop(server, None)
        for call_event in self.calls[server].resync(channels, before, now):
            self._publish(call_event)
            for change in self.agents.handle_call(call_event):
                self._publish(change)
        members = [m for m in status if m.get("Event") == "QueueMember"]
        for change in self.agents.resync(server, members, now):
            self._publish(change)
        self.queue_summary[server] = {s.get("Queue", ""): dict(s) for s in summary}
        self.resyncs += 1
        log.info("bridge %s: resynced (%d channels, %d queue members)", server, len(channels), len(members))

    async def _wrapups(self) -> None:
        while True:
            await asyncio.sleep(WRAPUP_TICK_S)
            for change in self.agents.expire():
                self._publish(change)
            self.asterisks.applied()
