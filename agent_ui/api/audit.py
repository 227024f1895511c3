"""/api/audit: the audit log of customer data (crm.audit), for supervisors and admins."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, AwareIsoDateTime, RowId, endpoint
from crm import audit
from crm.models import Role, User


class AuditFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(default=None, max_length=32, description="customer.read, customer.search, phone.revealed, customer.created, customer.changed")
    user_id: RowId | None = Field(default=None, description="who did it")
    customer_id: RowId | None = Field(default=None, description="what was read or changed")
    since: AwareIsoDateTime | None = None
    until: AwareIsoDateTime | None = None
    before_id: RowId | None = Field(default=None, description="the next page: entries older than this one")
    limit: int = Field(default=100, ge=1, le=500)


@endpoint(Role.SUPERVISOR, Role.ADMIN, summary="The audit log of customer data, newest first", query=AuditFilter,
          answer=answers.AuditEntries, notes="Who read, searched, revealed, created or changed what, when and from where. "
          "Nobody can change or delete an entry: the database refuses it.")  # fmt: skip
async def list_entries(request: web.Request, user: User, query: AuditFilter) -> web.Response:
    wanted = audit.AuditQuery(
        action=query.action, user_id=query.user_id, resource="customer" if query.customer_id is not None else None,
        resource_id=query.customer_id, since=query.since, until=query.until, before_id=query.before_id, limit=query.limit,
    )  # fmt: skip
    async with request.app[SESSIONS]() as session:
        found = await audit.entries(session, wanted)
    return web.json_response({"entries": [audit.entry_json(e) for e in found]})


def routes(app: web.Application) -> None:
    app.router.add_get("/api/audit", list_entries)
