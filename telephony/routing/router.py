"""The routing decision for one inbound call, from the CRM and the settings.

Order: the DID's default queue; the customer's own queue if set; the risk queue for customers at
risk; priority for key accounts and grade-A customers; the agent who last served the customer
(within ``routing.preferred_agent_days``) rung first when available now; the final queue's
opening hours. A CRM that is down or slower than ``routing.lookup_timeout_ms`` leaves the DID's
default: the call is routed, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, null, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from crm.models import Call, Customer, CustomerGrade, CustomerPhone, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from telephony.agents.interfaces import InterfacePattern
from telephony.routing.hours import is_open

log = logging.getLogger(__name__)


@dataclass
class RouteDecision:
    route: str  # queue | preferred | closed | fallback
    queue: str
    queue_timeout_s: int | None = None
    priority: int = 0
    customer_id: int | None = None
    preferred_agent: str | None = None
    preferred_interface: str | None = None
    preferred_ring_s: int | None = None
    risk: bool = False
    closed_action: str = ""  # message | voicemail, when closed
    elapsed_ms: float = 0.0

    def variables(self) -> dict[str, str]:
        """The channel variables of docs/agi.md."""
        return {
            "CC_ROUTE": self.route,
            "CC_QUEUE": self.queue,
            "CC_QUEUE_TIMEOUT": str(self.queue_timeout_s or ""),
            "CC_PRIORITY": str(self.priority),
            "CC_CUSTOMER_ID": str(self.customer_id or ""),
            "CC_RISK": "1" if self.risk else "0",
            "CC_PREFERRED_AGENT": self.preferred_agent or "",
            "CC_PREFERRED_INTERFACE": self.preferred_interface or "",
            "CC_PREFERRED_RING_S": str(self.preferred_ring_s or ""),
            "CC_CLOSED_ACTION": self.closed_action,
        }


class Router:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        agent_available: Callable[[str], bool] = lambda extension: False,
        interfaces: InterfacePattern | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._agent_available = agent_available
        self._interfaces = interfaces or InterfacePattern(settings.asterisk[0].agent_interface)
        self._clock = clock
        self._queue_by_did = {did: q.name for q in settings.queues for did in q.dids}
        self._queues = {q.name: q for q in settings.queues}
        self._engine = sessions.kw["bind"]
        self._lookup = self._lookup_statement()

    def default_queue(self, did: str, given: str | None) -> str | None:
        if given and given in self._queues:
            return given
        return self._queue_by_did.get(did)

    async def route(self, *, did: str, caller: str, default_queue: str | None = None) -> RouteDecision | None:
        """The decision, or None when the DID leads to no queue at all (the dialplan says so)."""
        started = time.perf_counter()
        queue = self.default_queue(did, default_queue)
        if queue is None:
            return None
        decision = RouteDecision(route="queue", queue=queue)
        routing = self._settings.routing
        try:
            async with asyncio.timeout(routing.lookup_timeout_ms / 1000):
                await self._apply_customer(decision, caller)
        except Exception as error:  # noqa: BLE001 - any CRM failure must still route the call
            log.warning("routing %s from %r: CRM unavailable (%s); DID default %s", did, caller, error or type(error).__name__, queue)
            decision = RouteDecision(route="fallback", queue=queue)
        settings = self._queues[decision.queue]
        decision.queue_timeout_s = settings.max_wait_s or None
        schedule = routing.schedules.get(settings.schedule) if settings.schedule else None
        if not is_open(schedule, self._clock()):
            decision.route = "closed"
            decision.closed_action = settings.out_of_hours
            decision.preferred_agent = decision.preferred_interface = None
        decision.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        return decision

    async def _apply_customer(self, decision: RouteDecision, caller: str) -> None:
        routing = self._settings.routing
        try:
            key = normalize_phone(caller, self._settings.crm.default_region)
        except InvalidPhoneNumber:
            return
        days = self._settings.routing.preferred_agent_days
        values = {"key": key, **({"since": self._clock() - timedelta(days=days)} if days > 0 else {})}
        # One statement, built once, on a bare connection rather than an ORM session: this runs for
        # every inbound call, and each round trip and layer is most of its cost (bench/caller_lookup.py).
        async with self._engine.connect() as connection:
            customer = (await connection.execute(self._lookup, values)).first()
        if customer is None:
            return
        decision.customer_id = customer.id
        if customer.preferred_queue in self._queues:
            decision.queue = customer.preferred_queue
        if customer.at_risk:
            decision.risk = True
            if routing.risk_queue:
                decision.queue = routing.risk_queue
        if customer.key_account or customer.grade == CustomerGrade.A:
            decision.priority = routing.vip_priority
        extension = customer.last_agent
        if extension and self._agent_available(extension):
            decision.route = "preferred"
            decision.preferred_agent = extension
            decision.preferred_interface = self._interfaces.interface(extension)
            decision.preferred_ring_s = routing.preferred_ring_s

    def _lookup_statement(self):  # type: ignore[no-untyped-def]
        """The customer with the number :key, and the extension of the agent who last answered them
        since :since (a correlated subquery; none when routing.preferred_agent_days is 0)."""
        last_agent = null() if self._settings.routing.preferred_agent_days <= 0 else (
            select(User.extension)
            .join(Call, Call.agent_id == User.id)
            .where(Call.customer_id == Customer.id, Call.answered_at.is_not(None), Call.started_at >= bindparam("since"), User.active)
            .order_by(Call.started_at.desc())
            .limit(1)
            .correlate(Customer)
            .scalar_subquery()
        )  # fmt: skip
        return (
            select(Customer.id, Customer.preferred_queue, Customer.at_risk, Customer.key_account, Customer.grade, last_agent.label("last_agent"))
            .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
            .where(CustomerPhone.normalized == bindparam("key"))
            .order_by(Customer.id)
            .limit(1)
        )
