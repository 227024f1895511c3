"""/api/reports/queues and /api/reports/agents: figures by interval over any range, as JSON or CSV
(``format=csv``). Team leaders get their team's agents and the queues their team works (crm.access).
/api/reports/tickets: the complaints and after-sales tickets opened over a range, by category."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from agent_ui.api import answers
from agent_ui.api.agents import LEADERS
from agent_ui.api.common import SESSIONS, RowId, endpoint
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm.agent_scores import agent_scores
from crm.campaigns.figures import agent_rows, campaign_rows
from crm.customer_reports import at_risk_report, region_report
from crm.kpis import thresholds_by_queue
from crm.access import Scope
from crm.models import Campaign, User
from crm.users import ids_where
from crm.reports import Period, ReportError, agent_report, csv_rows, queue_report
from crm.spreadsheet import spreadsheet_safe
from crm.teams import load_directory
from crm.tickets.report import ticket_report


class ReportQuery(BaseModel):
    start: str = Field(default="", alias="from", max_length=40, description="a date (2026-11-27, from its midnight in crm.timezone) or an ISO date-time; default today")
    end: str = Field(default="", alias="to", max_length=40, description="a date (to the end of that day) or an ISO date-time; default a day after from")
    interval: str = Field(default="1h", max_length=8, description="15m, 30m, 1h or 1d")
    format: Literal["json", "csv"] = "json"


def _moment(raw: str, name: str, zone: zoneinfo.ZoneInfo, default: datetime, end: bool) -> datetime:
    """A date (the whole day, in the call center's zone) or an ISO date-time."""
    if not raw:
        return default
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise json_error(400, f"{name} must be a date (2026-11-27) or an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _period(request: web.Request, query: ReportQuery) -> Period:
    zone = zoneinfo.ZoneInfo(request.app[SETTINGS].crm.timezone)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = _moment(query.start, "from", zone, today, end=False)
    end = _moment(query.end, "to", zone, start + timedelta(days=1), end=True)
    try:
        return Period(start, end, query.interval, zone)
    except ReportError as error:
        raise json_error(400, str(error)) from None


def table_response(fmt: Literal["json", "csv"], name: str, about: dict[str, str], rows: list[dict]) -> web.Response:  # type: ignore[type-arg]
    """A report's rows as JSON (``about`` and ``rows``) or, with ``format=csv`` (checked by the query model), as a CSV download."""
    if fmt == "json":
        return web.json_response({**about, "rows": rows})
    header, table = csv_rows(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in table)
    filename = f"{name}-{(about.get('from') or about.get('at', ''))[:10].replace('-', '')}.csv"
    return web.Response(
        text="\ufeff" + out.getvalue(),  # the BOM makes spreadsheet programs read Chinese names as UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _about(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "interval": period.interval}


async def _agents_seen(session, user: User) -> tuple[set[str] | None, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The extensions of the agents ``user`` may report on (None: all of them), and every agent's name."""
    directory = await load_directory(session)
    scope = Scope.of(user)
    return (None if scope.whole_center else directory.agents_seen_by(scope)), {e: a.name for e, a in directory.agents.items()}


REPORT_NOTE = "Team leaders: their team's agents and the queues their team works. Rows only for intervals with activity."


@endpoint(*LEADERS, summary="Queue figures by interval", query=ReportQuery, answer=answers.Report, also=("text/csv",), notes=REPORT_NOTE)
async def queues(request: web.Request, user: User, query: ReportQuery) -> web.Response:
    period = _period(request, query)
    limits = thresholds_by_queue(request.app[SETTINGS].queues)
    async with request.app[SESSIONS]() as session:
        allowed = (await load_directory(session)).queues_seen_by(Scope.of(user))
        rows = await queue_report(session, period, limits, allowed)
    return table_response(query.format, "queues", _about(period), rows)


@endpoint(*LEADERS, summary="Agent figures by interval: calls, login, pause by reason, occupancy", query=ReportQuery, answer=answers.Report, also=("text/csv",), notes=REPORT_NOTE)
async def agents(request: web.Request, user: User, query: ReportQuery) -> web.Response:
    period = _period(request, query)
    async with request.app[SESSIONS]() as session:
        allowed, names = await _agents_seen(session, user)
        rows = await agent_report(session, period, datetime.now(UTC), allowed, names)
    return table_response(query.format, "agents", _about(period), rows)


class ScoreQuery(BaseModel):
    month: str = Field(default="", max_length=7, pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM in crm.timezone; default this month")
    format: Literal["json", "csv"] = "json"


@endpoint(*LEADERS, summary="The monthly agent score: QA with the other KPIs as a weighted formula (agent_score settings)", query=ScoreQuery,
          answer=answers.Report, also=("text/csv",),
          notes="Per agent: handled, aht_s, occupancy, qa_average, each part's 0–100 score, the weighted score and the share of the "
                "weights it covers (parts without data are left out). Team leaders: their team's agents.")  # fmt: skip
async def agent_scores_report(request: web.Request, user: User, query: ScoreQuery) -> web.Response:
    settings = request.app[SETTINGS]
    zone = zoneinfo.ZoneInfo(settings.crm.timezone)
    now = datetime.now(zone)
    try:
        year, month = (int(part) for part in query.month.split("-")) if query.month else (now.year, now.month)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    except ValueError:  # month 13, year 0, or a month after 9999-12
        raise json_error(400, "month must be YYYY-MM, e.g. 2026-12") from None
    async with request.app[SESSIONS]() as session:
        allowed, names = await _agents_seen(session, user)
        rows = await agent_scores(session, Period(start, end, "1d", zone), datetime.now(UTC), settings.agent_score, allowed, names)
    return table_response(query.format, "agent-scores", {"month": f"{year:04d}-{month:02d}", "from": start.isoformat(), "to": end.isoformat()}, rows)


class TicketReportQuery(BaseModel):
    start: str = Field(default="", alias="from", max_length=40, description="a date or an ISO date-time; default 30 days before to")
    end: str = Field(default="", alias="to", max_length=40, description="a date (to the end of that day) or an ISO date-time; default now")
    format: Literal["json", "csv"] = "json"


def _flat_steps(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """For CSV: each step's open count as an ``open_at_<step>`` column, the same columns on every row."""
    steps = sorted({step for row in rows for step in row["open_by_step"]})
    return [{**{k: v for k, v in row.items() if k != "open_by_step"}, **{f"open_at_{s}": row["open_by_step"].get(s, 0) for s in steps}} for row in rows]


@endpoint(*LEADERS, summary="Tickets opened over a range by type and category: open by step, closed, overdue, replied late, hours to close",
          query=TicketReportQuery, answer=answers.Report, also=("text/csv",),
          notes="Team leaders: the tickets of their team (docs/security.md). overdue: open, not replied to, past the promise now.")  # fmt: skip
async def tickets(request: web.Request, user: User, query: TicketReportQuery) -> web.Response:
    zone = zoneinfo.ZoneInfo(request.app[SETTINGS].crm.timezone)
    now = datetime.now(UTC)
    end = _moment(query.end, "to", zone, now, end=True)
    start = _moment(query.start, "from", zone, end - timedelta(days=30), end=False)
    if not start < end:
        raise json_error(400, "from must be before to")
    async with request.app[SESSIONS]() as session:
        rows = await ticket_report(session, request.app[SETTINGS].tickets, start, end, now, Scope.of(user).tickets())
    about = {"from": start.isoformat(), "to": end.isoformat()}
    return table_response(query.format, "tickets", about, rows if query.format == "json" else _flat_steps(rows))


class SnapshotQuery(BaseModel):
    format: Literal["json", "csv"] = "json"


@endpoint(*LEADERS, summary="Customers by region (客户区域分类表): how many of each grade, key accounts, at risk, annual sales and its share",
          query=SnapshotQuery, answer=answers.Report, also=("text/csv",), notes="The customer base as it is now, every region.")  # fmt: skip
async def customer_regions(request: web.Request, user: User, query: SnapshotQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await region_report(session)
    return table_response(query.format, "customer-regions", {"at": datetime.now(UTC).isoformat()}, rows)


@endpoint(*LEADERS, summary="Customers marked at risk (危险客户统计表): the risk's type, level, action, since when, found and approved by whom, amount owed",
          query=SnapshotQuery, answer=answers.Report, also=("text/csv",))  # fmt: skip
async def at_risk_customers(request: web.Request, user: User, query: SnapshotQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await at_risk_report(session)
    return table_response(query.format, "at-risk-customers", {"at": datetime.now(UTC).isoformat()}, rows)


@endpoint(*LEADERS, summary="Outbound campaigns' figures: records, dialled, connected, 接通率 against the 60% standard, outcomes, reached, "
          "attempts per contact, talk time", query=SnapshotQuery, answer=answers.Report, also=("text/csv",),
          notes="A row per campaign, newest first. connect_rate: connected attempts over dialled ones (docs/kpis.md).")  # fmt: skip
async def campaigns(request: web.Request, user: User, query: SnapshotQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await campaign_rows(session)
    return table_response(query.format, "campaigns", {"at": datetime.now(UTC).isoformat()}, rows)


class CampaignAgentsQuery(BaseModel):
    campaign: RowId = Field(description="the campaign's id")
    format: Literal["json", "csv"] = "json"


@endpoint(*LEADERS, summary="One campaign's figures by agent: calls, connected, talk time, and how many of each result code",
          query=CampaignAgentsQuery, answer=answers.Report, also=("text/csv",), errors={404: "no such campaign"},
          notes="Team leaders: their team's agents. A code:<code> column per result code the agents gave.")  # fmt: skip
async def campaign_agents(request: web.Request, user: User, query: CampaignAgentsQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        if await session.get(Campaign, query.campaign) is None:
            raise json_error(404, "no such campaign")
        scope = Scope.of(user)
        allowed = None if scope.whole_center else await ids_where(session, scope.campaign_agents())
        rows = await agent_rows(session, query.campaign, allowed)
    return table_response(query.format, f"campaign-{query.campaign}-agents", {"at": datetime.now(UTC).isoformat()}, rows)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/reports/campaigns", campaigns)
    app.router.add_get("/api/reports/campaign-agents", campaign_agents)
    app.router.add_get("/api/reports/queues", queues)
    app.router.add_get("/api/reports/agents", agents)
    app.router.add_get("/api/reports/agent-scores", agent_scores_report)
    app.router.add_get("/api/reports/tickets", tickets)
    app.router.add_get("/api/reports/customer-regions", customer_regions)
    app.router.add_get("/api/reports/at-risk-customers", at_risk_customers)
