"""Everything telephony in one object: the bus, the AMI bridge, the FastAGI routing server and the
call logger, started and stopped together (``callcenter serve`` and the tests use this)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import Settings
from crm.db import create_engine, session_factory
from crm.models import User
from telephony.agents.disposition import DispositionGuard
from telephony.bridge import Bridge
from telephony.callbacks.service import CallbackService
from telephony.calllog.writer import CallLogWriter
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
        self.router = Router(settings, sessions, agent_available=self.bridge.agents.is_available, interfaces=self.bridge.patterns[first])
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
        self.commands = TelephonyCommands(
            self.bus, self.bridge.asterisks, self.bridge.control, self.bridge.call_control, self.bridge.dialer, self.phones, self.bridge.status
        )
        self.dispositions = (
            DispositionGuard(self.bus, self.calllog, self.bridge.agents, self.bridge.control, sessions)
            if settings.agents.disposition_required else None
        )  # fmt: skip

    async def start(self, *, wait_for_asterisk: bool = True) -> None:
        await self.load_browser_phones()
        self.calllog.start(self.bus)
        await self.agi.start(self.settings.agi.host, self.settings.agi.port)
        await self.bridge.start(timeout=10.0 if wait_for_asterisk else None)
        self.campaigns.start()
        self.callbacks.start()

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
        await self.campaigns.close()
        await self.callbacks.close()
        await self.bridge.close()
        await self.agi.close()
        await self.calllog.close()
        await self.engine.dispose()
        if self._own_calllog_engine:
            await self.calllog_engine.dispose()
