"""/api/dnc: the do-not-call list (crm.dnc). Staff list a number (a customer's opt-out from the card);
leaders and supervisors read the list; supervisors and admins take a number off it. Each act is audited."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, STAFF, AwareIsoDateTime, RowId, actor, disclosure, endpoint, path_id
from agent_ui.api.customer_csv import read_upload
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from agent_ui.i18n import rejections_said
from crm import audit, dnc
from crm.csv_files import ImportFileError
from crm.models import CustomerPhone, DncEntry, Role, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from crm.privacy import Disclosure
from crm.users import display_names

LEADERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
Reason = Literal[dnc.REASONS]  # type: ignore[valid-type]


class NewEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str | None = Field(default=None, min_length=1, max_length=40, description="any format")
    phone_id: RowId | None = Field(default=None, description="or a customer's phone by its id (a masked number is listed whole)")
    reason: Reason = Field(default="opt_out", description="opt_out 客户拒绝, complaint 投诉, regulator 监管名单, wrong_number 号码错误, other")
    note: str = Field(default="", max_length=500)
    expires_at: AwareIsoDateTime | None = Field(default=None, description="when the number may be called again; none: never")

    @model_validator(mode="after")
    def _one(self) -> NewEntry:
        if (self.number is None) == (self.phone_id is None):
            raise ValueError("give one of number, phone_id")
        return self


class DncQuery(BaseModel):
    number: str = Field(default="", max_length=40, description="is this number on the list (any format)")
    before_id: RowId | None = Field(default=None, description="paging: the entries older than this one")
    limit: int = Field(default=50, ge=1, le=200)


async def entry_json(session, entries: list[DncEntry], shown: Disclosure) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    names = await display_names(session, {e.added_by for e in entries})
    return [
        {"id": e.id, "number": shown.phone(e.number), "reason": e.reason, "note": e.note, "customer_id": e.customer_id, "source": e.source,
         "added_by": names.get(e.added_by) if e.added_by else None, "added_at": e.added_at.isoformat(),
         "expires_at": e.expires_at.isoformat() if e.expires_at else None}
        for e in entries
    ]  # fmt: skip


@endpoint(*STAFF, summary="Put a number on the do-not-call list (a customer's opt-out)", body=NewEntry, answer=answers.DncEntries, status=201,
          errors={404: "no such customer phone"}, notes="Listing a number that is listed already updates its reason and expiry. Audited.")  # fmt: skip
async def add_entry(request: web.Request, user: User, body: NewEntry) -> web.Response:
    region = request.app[SETTINGS].crm.default_region
    async with request.app[SESSIONS]() as session, session.begin():
        number, customer_id = body.number, None
        if body.phone_id is not None:
            phone = await session.get(CustomerPhone, body.phone_id)
            if phone is None:
                raise json_error(404, "no such customer phone")
            number, customer_id = phone.number, phone.customer_id
        try:
            entry = await dnc.add(session, number or "", region=region, reason=body.reason, source="card" if body.phone_id else "api",
                                  added_by=user.id, note=body.note, customer_id=customer_id, expires_at=body.expires_at)  # fmt: skip
        except dnc.DncError as error:
            raise json_error(400, str(error)) from None
        audit.record(session, actor(request, user), "dnc.added", "customer" if customer_id else "dnc", customer_id, entry_id=entry.id,
                     reason=entry.reason)  # fmt: skip
        result = {"entries": await entry_json(session, [entry], disclosure(request, user))}
    return web.json_response(result, status=201)


@endpoint(*LEADERS, summary="The do-not-call list, newest first, or whether one number is on it", query=DncQuery, answer=answers.DncEntries,
          notes="Numbers as the reader's role sees them.")  # fmt: skip
async def list_entries(request: web.Request, user: User, query: DncQuery) -> web.Response:
    normalized = None
    if query.number:
        try:
            normalized = normalize_phone(query.number, request.app[SETTINGS].crm.default_region)
        except InvalidPhoneNumber:
            raise json_error(400, f"number: {query.number!r} is not a phone number") from None
    async with request.app[SESSIONS]() as session:
        entries = await dnc.entries(session, normalized=normalized, before_id=query.before_id, limit=query.limit)
        return web.json_response({"entries": await entry_json(session, entries, disclosure(request, user))})


@endpoint(Role.SUPERVISOR, Role.ADMIN, summary="Take a number off the do-not-call list", answer=answers.DncEntries,
          path={"id": "the entry's id"}, notes="Audited, with the entry as it was.")  # fmt: skip
async def remove_entry(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        entry = await session.get(DncEntry, path_id(request))
        if entry is None:
            raise json_error(404, "no such entry")
        result = {"entries": await entry_json(session, [entry], disclosure(request, user))}
        audit.record(session, actor(request, user), "dnc.removed", "customer" if entry.customer_id else "dnc", entry.customer_id,
                     entry_id=entry.id, reason=entry.reason, added_at=entry.added_at.isoformat())  # fmt: skip
        await session.delete(entry)
    return web.json_response(result)


class DncImportQuery(BaseModel):
    dry_run: bool = Field(default=False, description="check every row and answer the report; list nothing")


@endpoint(Role.SUPERVISOR, Role.ADMIN, summary="List numbers from a CSV file (a regulator's or a partner's list), or check it (dry_run)",
          query=DncImportQuery, upload="text/csv", answer=answers.ImportReport,
          errors={413: "the file is over crm.import_max_mb", 422: "rows were rejected: nothing was listed (the report says which and why)"},
          notes="Columns number, reason (default regulator), expires_at (a date or date-time; none: no end), note, or 电话, 原因, 到期, "
                "备注. All rows are listed, or none. Audited.")  # fmt: skip
async def import_entries(request: web.Request, user: User, query: DncImportQuery) -> web.Response:
    settings = request.app[SETTINGS]
    data = await read_upload(request, settings.crm.import_max_mb)
    async with request.app[SESSIONS]() as session, session.begin():
        try:
            report = await dnc.import_list(session, data, region=settings.crm.default_region, added_by=user.id, dry_run=query.dry_run)
        except ImportFileError as error:
            raise json_error(400, str(error)) from None
        if report.imported:
            audit.record(session, actor(request, user), "dnc.imported", "dnc", None, rows=report.rows, imported=report.imported)
    return web.json_response(rejections_said(request, report.as_dict()), status=422 if report.rejected_rows and not query.dry_run else 200)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/dnc", list_entries)
    app.router.add_post("/api/dnc", add_entry)
    app.router.add_delete("/api/dnc/{id}", remove_entry)
    app.router.add_post("/api/dnc-import", import_entries)
