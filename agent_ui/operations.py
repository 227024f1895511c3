"""For the load balancer and the monitoring: ``/healthz`` (the process answers), ``/readyz`` (it can
do its work: database, Redis and the shared push, Asterisk, the call log keeping up) and
``/metrics`` (Prometheus text, from prometheus_client with one registry per application — no global
state — read only from the addresses in ``web.metrics_from``)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from config import Settings
from crm.db import ping
from qa.review import backlog

CHECK_TIMEOUT_S = 2.0
POP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class PopMetrics:
    """Screen pops sent by this worker and how long after Asterisk's event each reached socket.io."""

    def __init__(self) -> None:
        self.sent = Counter("callcenter_pops", "Screen pops sent to agents' desktops", registry=None)
        self.latency = Histogram(
            "callcenter_pop_latency_seconds", "From Asterisk's event to the pop's emit", buckets=POP_BUCKETS, registry=None
        )

    def observe(self, since: datetime) -> None:
        self.sent.inc()
        self.latency.observe(max(0.0, (datetime.now(UTC) - since).total_seconds()))


class Operations:
    def __init__(self, settings: Settings, engine: Any, sessions: Any, realtime: Any, telephony: Any | None, shared: redis.Redis | None) -> None:
        self._settings = settings
        self._engine = engine
        self._sessions = sessions
        self._realtime = realtime  # agent_ui.realtime.Realtime
        self._telephony = telephony  # telephony.service.TelephonyService
        self._redis = shared  # the app's Redis client (closed by the app)
        self._metrics_from = [ipaddress.ip_network(a, strict=False) for a in settings.web.metrics_from]
        self.registry = CollectorRegistry()
        self.registry.register(realtime.pops.sent)
        self.registry.register(realtime.pops.latency)
        self.registry.register(_Live(self))
        self._db_seconds = Gauge("callcenter_db_ping_seconds", "One database round trip, at the last scrape", registry=self.registry)
        self._qa_backlog = Gauge("callcenter_qa_backlog", "Calls waiting for auto-QA", registry=self.registry)

    def attach(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(self, request: web.Request) -> web.Response:
        checks = await self.checks()
        ready = all(check["ok"] for check in checks.values())
        # Which process answered: behind a balancer (or `serve --workers`) each check is one worker's.
        return web.json_response({"ready": ready, "worker": os.getpid(), "checks": checks}, status=200 if ready else 503)

    async def checks(self) -> dict[str, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {"database": await self._timed(ping(self._engine))}
        if self._redis is not None:
            checks["redis"] = await self._timed(self._redis.ping())
            listening = self._realtime.shared_push_alive()
            checks["shared_push"] = {"ok": bool(listening), **({} if listening else {"error": "not subscribed to the other workers' pushes"})}
        if self._telephony is not None:
            for server, status in self._telephony.commands.status().items():
                checks[f"asterisk:{server}"] = {"ok": bool(status["connected"]), **({} if status["connected"] else {"error": "AMI not connected"})}
            if (cluster := self._telephony.cluster) is not None:
                role = "owner" if self._telephony.owner else "follower"
                checks["cluster"] = {"ok": cluster.ready(), "role": role, **({} if cluster.ready() else {"error": "not following the owner's events"})}
            if (health := self._telephony.calllog_health()) is not None:
                bound = self._settings.calllog.spool_max_mb * 2**20 / 2  # past half its cap the spool is about to drop records
                ok = health["state"] != "stopped" and health["spool_bytes"] <= bound
                checks["calllog"] = {"ok": ok, "state": health["state"], "spooled": health["spooled"], "spool_bytes": health["spool_bytes"]}
        return checks

    @staticmethod
    async def _timed(probe: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - whatever the failure, the check says not ready and why
            return {"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}
        return {"ok": True, "seconds": round(time.perf_counter() - started, 4)}

    async def metrics(self, request: web.Request) -> web.Response:
        peer = request.remote or ""
        try:
            allowed = any(ipaddress.ip_address(peer) in network for network in self._metrics_from)
        except ValueError:
            allowed = False
        if not allowed:
            raise web.HTTPForbidden(text='{"error": "metrics are read from web.metrics_from only"}', content_type="application/json")
        database = await self._timed(ping(self._engine))
        self._db_seconds.set(database.get("seconds", float("nan")))
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                async with self._sessions() as session:
                    self._qa_backlog.set(await backlog(session))
        except Exception:  # noqa: BLE001 - the database is away: the gauge keeps its last value
            pass
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def live_families(self) -> list[Any]:
        """The figures read from the running objects at each scrape."""
        sockets = GaugeMetricFamily("callcenter_socketio_connections", "Browser sockets connected to this worker")
        sockets.add_metric([], self._realtime.connections())
        families: list[Any] = [sockets]
        if self._telephony is not None:
            events = CounterMetricFamily("callcenter_ami_events", "AMI events taken in", labels=["server"])
            lag = GaugeMetricFamily("callcenter_ami_event_lag_seconds", "How late the last AMI event was handled", labels=["server"])
            connected = GaugeMetricFamily("callcenter_ami_connected", "1 while the AMI connection is up", labels=["server"])
            for server, status in self._telephony.commands.status().items():
                events.add_metric([server], float(status["events"]))  # type: ignore[arg-type]
                lag.add_metric([server], float(status["lag_s"]))  # type: ignore[arg-type]
                connected.add_metric([server], 1.0 if status["connected"] else 0.0)
            owner = GaugeMetricFamily("callcenter_telephony_owner", "1 while this worker drives Asterisk and writes the call log")
            owner.add_metric([], 1.0 if self._telephony.owner else 0.0)
            families += [events, lag, connected, owner]
            if (health := self._telephony.calllog_health()) is None:
                return families
            queued = GaugeMetricFamily("callcenter_calllog_queued", "Call-log records waiting for the next batch")
            queued.add_metric([], health["queued"])
            spooled = GaugeMetricFamily("callcenter_calllog_spooled", "Call-log batches waiting in the disk spool")
            spooled.add_metric([], health["spooled"])
            spool_bytes = GaugeMetricFamily("callcenter_calllog_spool_bytes", "Size of the call-log spool on disk")
            spool_bytes.add_metric([], health["spool_bytes"])
            written = CounterMetricFamily("callcenter_calllog_written", "Call-log records written to the database")
            written.add_metric([], health["written"])
            dead = GaugeMetricFamily("callcenter_calllog_dead_letters", "Call-log records the database refused")
            dead.add_metric([], health["dead_letters"])
            families += [queued, spooled, spool_bytes, written, dead]
        return families


class _Live:
    """A prometheus_client collector over the running objects (read at scrape time, never stored)."""

    def __init__(self, operations: Operations) -> None:
        self._operations = operations

    def collect(self):  # type: ignore[no-untyped-def]
        yield from self._operations.live_families()
