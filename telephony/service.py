"""Everything telephony in one object: the bus, the AMI bridge, the FastAGI routing server and the
call logger, started and stopped together (``callcenter serve`` and the tests use this).

Alone (no Redis configured) it owns all of it from the start. With Redis it is one worker of several
(telephony/cluster/): it follows the owner until it wins the lock, then owns."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import Settings
from crm.db import create_engine, session_factory
from crm.models import User
from telephony.agents.disposition import DispositionGuard
from telephony.agents.state import AgentState
from telephony.bridge import Bridge
from telephony.callbacks.service import CallbackService
from telephony.calllog.writer import CallLogWriter
from telephony.cluster.member import ClusterMember
from telephony.campaigns.dialler import CampaignDialler
from telephony.commands import TelephonyCommands
from telephony.events import EventBus
from telephony.phones.provision import Provisioner
from telephony.routing.fastagi import FastAgiServer
from telephony.routing.router import Router

log = logging.getLogger(__name__)


class TelephonyService:
    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        secret_for: Callable[[str], str | None] = lambda server: None,
        ari_secret_for: Callable[[str], str | None] = lambda server: None,
        calllog_engine: AsyncEngine | None = None,
    ) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.engine = create_engine(database_url or settings.database_url, settings.database)
        sessions = session_factory(self.engine)
        self.bridge = Bridge(settings, self.bus, secret_for=secret_for)
        # Browser phones' credentials go to each server's ARI (telephony/phones/provision.py).
        self.phones = {
            server.name: Provisioner(f"http://{server.ami_host}:{server.http_port}/ari", server.ari_username, server.ari_secret or ari_secret_for(server.name) or "")
            for server in settings.asterisk
        }  # fmt: skip
        self._sessions = sessions
        first = settings.asterisk[0].name
        self.router = Router(settings, sessions, agent_available=self._available, interfaces=self.bridge.patterns[first])
        self.campaigns = CampaignDialler(self.bridge, sessions)
        self.callbacks = CallbackService(self.bridge, sessions, settings.queues)
        self.agi = FastAgiServer(self.router, scripts={"callback": self.callbacks.agi_request})
        # The call log writes through its own engine: on SQLite a pooled connection shared with the
        # readers (web app, wallboard) could carry a read snapshot made stale by the writer's last
        # commit, and SQLite refuses a write from a stale snapshot ("database is locked").
        self._own_calllog_engine = calllog_engine is None
        self.calllog_engine = calllog_engine or create_engine(database_url or settings.database_url, settings.database)
        self.calllog = CallLogWriter(
            session_factory(self.calllog_engine),
            settings.spool_dir,
            batch_ms=settings.calllog.batch_ms,
            spool_max_bytes=int(settings.calllog.spool_max_mb * 2**20),
        )
        self.owner_commands = TelephonyCommands(
            self.bus, self.bridge.asterisks, self.bridge.control, self.bridge.call_control, self.bridge.dialer, self.phones, self.bridge.status
        )
        self.cluster = (
            ClusterMember(settings.redis.url, settings.redis.prefix, database_url or settings.database_url, self.bus)
            if settings.redis.url else None
        )  # fmt: skip
        self.dispositions = (
            DispositionGuard(self.bus, self.calllog, self.bridge.agents, self.bridge.control, sessions)
            if settings.agents.disposition_required else None
        )  # fmt: skip
        self._owning = False

    @property
    def commands(self) -> Any:
        """TelephonyCommands: this worker's own while it owns the telephony, else the owner's over
        Redis (telephony.cluster.remote.RemoteCommands: the same methods)."""
        if self.cluster is None or self.cluster.owner:
            return self.owner_commands
        return self.cluster.remote

    @property
    def owner(self) -> bool:
        """Whether this worker drives Asterisk and writes the call log."""
        return self._owning

    async def start(self, *, wait_for_asterisk: bool = True, on_lost: Callable[[], None] | None = None) -> None:
        """Alone: own now. In a cluster: follow, and own once the lock is ours (``on_lost`` is
        called if it is taken from us; by default the telephony stops here)."""
        # Every worker routes (FastAGI reads the CRM, and the agents' states from the commands'
        # reads: the owner's own, or the mirror of them); only the owner drives Asterisk.
        await self.agi.start(self.settings.agi.host, self.settings.agi.port, reuse_port=self.cluster is not None)
        if self.cluster is None:
            await self._own(wait_for_asterisk)
            return
        await self.cluster.start(
            self.bridge.restore, lambda: self._own(False), lambda: (self.bridge.live_calls(), self.bridge.agents.agents()),
            self.owner_commands, on_lost or self._step_down,
        )  # fmt: skip

    async def _own(self, wait_for_asterisk: bool) -> None:
        self._owning = True
        await self.load_browser_phones()
        self.calllog.start(self.bus)
        await self.bridge.start(timeout=10.0 if wait_for_asterisk else None)
        self.campaigns.start()
        self.callbacks.start()
        if self.cluster is not None and self.dispositions is not None:  # alone, the web app starts it
            await self.dispositions.start()
            self.owner_commands.dispositions = self.dispositions

    def _available(self, extension: str) -> bool:
        agent = self.commands.agent(extension)
        return agent is not None and agent.state == AgentState.AVAILABLE

    def _step_down(self) -> None:
        task = asyncio.create_task(self._close_owned(), name="telephony-step-down")
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def calllog_health(self) -> dict[str, Any] | None:
        """The call log's health where this worker writes it; None where another worker does."""
        return self.calllog.health() if self._owning or self.cluster is None else None

    async def load_browser_phones(self) -> None:
        """Which agents' phone is the browser: their queue interface is PJSIP/<extension>."""
        try:
            async with self._sessions() as session:
                extensions = set(await session.scalars(select(User.extension).where(User.phone_type == "webrtc", User.extension.is_not(None))))
        except Exception as error:  # noqa: BLE001 - telephony starts without the CRM; a phone's login marks it again
            log.warning("browser phones not known at start (%s): they are marked as their agents log in", type(error).__name__)
            return
        for pattern in self.bridge.patterns.values():
            for extension in extensions:
                pattern.use_browser_phone(extension)

    async def close(self) -> None:
        if self.cluster is not None:
            await self.cluster.close()
        await self._close_owned()
        await self.agi.close()
        await self.engine.dispose()
        if self._own_calllog_engine:
            await self.calllog_engine.dispose()

    async def _close_owned(self) -> None:
        if not self._owning:
            return
        self._owning = False
        if self.cluster is not None and self.dispositions is not None:
            await self.dispositions.stop()
        await self.campaigns.close()
        await self.callbacks.close()
        await self.bridge.close()
        await self.calllog.close()
