"""/api/customer-import and /api/customer-export: customers in and out as CSV (crm.customer_csv),
for the roles the settings name (privacy.import_customers / export_customers), each audited."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, STAFF, actor, disclosure, endpoint
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from agent_ui.i18n import rejections_said
from config import Settings
from crm import audit
from crm.access import moves_customer_data
from crm.customer_csv import exporter
from crm.csv_files import ImportFileError
from crm.customer_csv.importer import import_customers
from crm.db import utcnow
from crm.models import CUSTOMER_TYPES, CustomerGrade, User

READ_CHUNK = 1 << 16


def _allowed(request: web.Request, user: User, act: Literal["import_customers", "export_customers"]) -> Settings:
    """The settings, once the user's role is one the settings let ``act`` (crm.access decides)."""
    settings = request.app[SETTINGS]
    if not moves_customer_data(user.role, getattr(settings.privacy, act)):
        raise json_error(403, f"{act.replace('_', ' ')} is for the roles in privacy.{act}")
    return settings


class ImportQuery(BaseModel):
    dry_run: bool = Field(default=False, description="check every row and answer the report; write nothing")


async def read_upload(request: web.Request, limit_mb: int) -> bytes:
    """The request body, refused past ``limit_mb`` without reading it all."""
    limit = limit_mb * 1024 * 1024
    if request.content_length is not None and request.content_length > limit:
        raise json_error(413, f"the file is over crm.import_max_mb ({limit_mb} MB); import it with the callcenter customers import command")
    parts, size = [], 0
    while chunk := await request.content.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise json_error(413, f"the file is over crm.import_max_mb ({limit_mb} MB); import it with the callcenter customers import command")
        parts.append(chunk)
    return b"".join(parts)


@endpoint(*STAFF, summary="Import customers from a CSV file, or check it (dry_run)", query=ImportQuery, upload="text/csv",
          answer=answers.ImportReport, errors={413: "the file is over crm.import_max_mb", 422: "rows were rejected: nothing was imported (the report says which and why)"},
          notes="Roles: those in privacy.import_customers (supervisors and admins by default). The body is the CSV file: UTF-8 (with or "
                "without BOM) or GB18030; the first line names the columns by their key or Chinese label (name/客户名称 and "
                "phones/电话 are needed; several numbers in one cell separated by ;). Every row is checked first; then all are "
                "imported in one transaction, or, if any row is rejected, none. Audited.")  # fmt: skip
async def import_csv(request: web.Request, user: User, query: ImportQuery) -> web.Response:
    settings = _allowed(request, user, "import_customers")
    data = await read_upload(request, settings.crm.import_max_mb)
    async with request.app[SESSIONS]() as session, session.begin():
        try:
            report = await import_customers(session, data, dry_run=query.dry_run, default_region=settings.crm.default_region,
                                            queues={q.name for q in settings.queues}, registered_by=user.id)  # fmt: skip
        except ImportFileError as error:
            raise json_error(400, str(error)) from None
        if report.imported:
            audit.record(session, actor(request, user), "customer.imported", "customers", None, rows=report.rows, imported=report.imported)
    status = 422 if report.rejected_rows and not query.dry_run else 200
    return web.json_response(rejections_said(request, report.as_dict()), status=status)


class ExportQuery(BaseModel):
    grade: CustomerGrade | None = None
    region: str | None = Field(default=None, max_length=100)
    customer_type: Literal[CUSTOMER_TYPES] | None = None  # type: ignore[valid-type]
    tag: str | None = Field(default=None, max_length=32)


@endpoint(*STAFF, summary="Export customers as a CSV file", query=ExportQuery, media="text/csv",
          notes="Roles: those in privacy.export_customers (supervisors and admins by default; handbook §6, no copying without "
                "approval). Numbers as the exporter's role sees them. The columns are the import's. Audited with the filter and "
                "how many customers it picked, before the file is sent.")  # fmt: skip
async def export_csv(request: web.Request, user: User, query: ExportQuery) -> web.StreamResponse:
    _allowed(request, user, "export_customers")
    chosen = exporter.ExportFilter(query.grade.value if query.grade else None, query.region, query.customer_type, query.tag)
    async with request.app[SESSIONS]() as session, session.begin():
        picked = await exporter.count(session, chosen)
        audit.record(session, actor(request, user), "customer.exported", "customers", None, filter=chosen.as_dict(), customers=picked)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="customers-{utcnow():%Y%m%d}.csv"',
    })  # fmt: skip
    await response.prepare(request)
    await response.write(exporter.header().encode())
    shown = disclosure(request, user)
    async with request.app[SESSIONS]() as session:
        async for text, _ in exporter.rows(session, chosen, shown):
            await response.write(text.encode())
    await response.write_eof()
    return response


def routes(app: web.Application) -> None:
    app.router.add_post("/api/customer-import", import_csv)
    app.router.add_get("/api/customer-export", export_csv)
