"""/api/tickets: complaints and after-sales requests (crm.tickets): open, list, read, move through
their steps, reassign, reopen, link calls. Who may see, handle and close which is crm.access's."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, RowId, disclosure, endpoint, path_id
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from config.tickets import TicketType
from crm.access import Scope
from crm.calls import visible_call
from crm.customers import names_of
from crm.db import utcnow
from crm.models import Call, Role, Ticket, User
from crm.tickets import queries, store
from crm.users import display_names
from crm.tickets.lifecycle import TicketError
from crm.tickets.views import event_json, ticket_detail, ticket_summary

OPENERS = (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
TICKET_PATH = {"id": "the ticket's row id"}
SCOPE_NOTE = "Only tickets you may see (agents those they opened or own, leaders their team's; docs/security.md)."
Severity = Literal["severe", "ordinary", "minor"]


class TicketDetails(BaseModel):
    """What a record form adds to the ticket it opens (投诉 → a complaint, 报修 → an after-sales request)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str | None = Field(default=None, max_length=32)
    severity: Severity | None = None
    major: bool = False
    confidential: bool = False


class NewTicket(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1, max_length=32, description="a tickets.types code: complaint, after_sales")
    category: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    severity: Severity = "ordinary"
    major: bool = Field(default=False, description="重大投诉: escalated to the supervisors")
    confidential: bool = Field(default=False, description="客户保密: who complained is seen by its handlers only")
    fields: dict[str, Any] = Field(default={}, description="the type's registration fields", max_length=50)
    customer_id: RowId | None = None
    call_id: str | None = Field(default=None, max_length=64, description="the call it comes from (row id or Linkedid): linked, its customer taken")
    contact: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40)
    owner_id: RowId | None = Field(default=None, description="who handles it; empty: whoever opens it")


class TicketQuery(BaseModel):
    state: Literal["open", "overdue", "due_soon", "closed", "all"] = "open"
    type: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=32)
    customer_id: RowId | None = None
    mine: bool = Field(default=False, description="only the tickets you own")
    number: str | None = Field(default=None, max_length=32, description="a ticket number, or its start")
    offset: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=50, ge=1, le=200)


class StepForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    step: str = Field(min_length=1, max_length=32)
    values: dict[str, Any] = Field(default={}, max_length=50, description="the step's form (see ticket_types in /api/meta)")
    note: str = Field(default="", max_length=5000)


class Reopening(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=5000)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    owner_id: RowId
    note: str = Field(default="", max_length=5000)


class CallLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=64, description="row id or Linkedid of a call you may see")


def _error(error: TicketError) -> web.HTTPException:
    return json_error(400, str(error))


class Reader:
    """One request's view of tickets: the scope, the types, the clock."""

    def __init__(self, request: web.Request, user: User) -> None:
        settings = request.app[SETTINGS]
        self.kinds, self.timezone = settings.tickets, settings.crm.timezone
        self.user, self.scope, self.now = user, Scope.of(user), utcnow()
        self.shown = disclosure(request, user)

    def kind(self, ticket: Ticket) -> TicketType:
        kind = self.kinds.type(ticket.type)
        if kind is None:  # a type removed from the settings: its tickets stay readable, not movable
            raise json_error(409, f"ticket type {ticket.type!r} is no longer configured")
        return kind

    async def handles(self, session: AsyncSession, ticket: Ticket) -> bool:
        owner_team, opener_team = await queries.teams_of(session, ticket)
        escalated = ticket.major and self.kind(ticket).escalates
        return self.scope.handles_ticket(ticket, escalated=escalated, owner_team=owner_team, opener_team=opener_team)

    async def summaries(self, session: AsyncSession, tickets: list[Ticket]) -> list[dict[str, Any]]:
        names = await display_names(session, {t.owner_id for t in tickets})
        customers = await names_of(session, {t.customer_id for t in tickets})
        out = []
        for ticket in tickets:
            kind = self.kinds.type(ticket.type)
            if kind is None:
                continue
            shows = not ticket.confidential or await self.handles(session, ticket)
            out.append(ticket_summary(ticket, kind, now=self.now, near_due_h=self.kinds.near_due_h, shows_complainant=shows,
                                      customer_name=customers.get(ticket.customer_id), owner=names.get(ticket.owner_id)))  # fmt: skip
        return out

    async def detail(self, session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
        handles = await self.handles(session, ticket)
        kind = self.kind(ticket)
        [summary] = await self.summaries(session, [ticket])
        events = await queries.events_of(session, ticket.id)
        names = await display_names(session, {e.actor_id for e in events})
        detail = ticket_detail(
            summary, ticket,
            events=[event_json(e, names.get(e.actor_id)) for e in events],
            calls=await queries.linked_calls(session, ticket.id, self.scope.calls()),
            handles=handles, closes=self.scope.closes_ticket(handles, kind.closed_by),
        )  # fmt: skip
        if not handles:  # its handlers call the customer back; the other readers see the number masked
            detail["contact_phone"] = self.shown.phone(detail["contact_phone"])
        return detail

    async def load(self, request: web.Request, session: AsyncSession) -> Ticket:
        ticket = await queries.visible_ticket(session, self.scope.tickets(), ticket_id=path_id(request))
        if ticket is None:
            raise json_error(404, "no such ticket")
        return ticket

    async def load_to_handle(self, request: web.Request, session: AsyncSession) -> Ticket:
        ticket = await self.load(request, session)
        if not await self.handles(session, ticket):
            raise json_error(403, "this ticket is handled by its owner, their team leader or the supervisors" +
                             (" (a major complaint: the supervisors)" if ticket.major else ""))  # fmt: skip
        return ticket


async def _call(session: AsyncSession, scope: Scope, key: str) -> Call:
    number = int(key) if key.isascii() and key.isdigit() and 0 < int(key) < 2**31 else None
    call = await visible_call(session, scope, row_id=number, linkedid=None if number else key)
    if call is None:
        raise json_error(400, f"call_id: no call {key!r} of yours")
    return call


@endpoint(*OPENERS, summary="Open a complaint or after-sales ticket", body=NewTicket, answer=answers.TicketDetail, status=201,
          notes="From a call (call_id) the ticket takes the call's customer and links the call. The promised response "
          "(due_at) is the category's respond_h from now.")  # fmt: skip
async def create(request: web.Request, user: User, body: NewTicket) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        call = await _call(session, reader.scope, body.call_id) if body.call_id else None
        opening = store.Opening(**body.model_dump(exclude={"call_id"}), call=call)
        try:
            ticket = await store.open_ticket(session, reader.kinds, opening, actor=user, timezone=reader.timezone)
        except TicketError as error:
            raise _error(error) from None
        payload = await reader.detail(session, ticket)
    return web.json_response(payload, status=201)


@endpoint(*EVERYONE, summary="Tickets, the nearest promised response first", query=TicketQuery, answer=answers.Tickets, notes=SCOPE_NOTE)
async def search(request: web.Request, user: User, query: TicketQuery) -> web.Response:
    reader = Reader(request, user)
    wanted = queries.TicketFilter(
        state=query.state, type=query.type, category=query.category, customer_id=query.customer_id, owner_id=user.id if query.mine else None,
        number=query.number, offset=query.offset, limit=query.limit,
    )  # fmt: skip
    async with request.app[SESSIONS]() as session:
        total, rows = await queries.search(session, reader.scope.tickets(), wanted, now=reader.now, near_due_h=reader.kinds.near_due_h)
        summaries = await reader.summaries(session, rows)
        if query.customer_id is not None:  # a confidential complainant is not found by their customer id either
            summaries = [s for s in summaries if not s["complainant_hidden"]]
    return web.json_response({"tickets": summaries, "total": total, "offset": query.offset})


@endpoint(*EVERYONE, summary="One ticket with its history and calls", answer=answers.TicketDetail, path=TICKET_PATH, notes=SCOPE_NOTE)
async def read(request: web.Request, user: User) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session:
        return web.json_response(await reader.detail(session, await reader.load(request, session)))


@endpoint(*OPENERS, summary="Move a ticket to its next step (with that step's form) or back to an earlier one",
          body=StepForm, answer=answers.TicketDetail, path=TICKET_PATH,
          notes="Forward: the next step, or past optional ones; the step's required fields must be given. Back (rework): a "
          "note says why. The last step closes it: for complaints, only a team leader, supervisor or admin.")  # fmt: skip
async def step(request: web.Request, user: User, body: StepForm) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        ticket = await reader.load_to_handle(request, session)
        kind = reader.kind(ticket)
        if body.step == kind.steps[-1].code and not reader.scope.closes_ticket(True, kind.closed_by):
            raise json_error(403, f"a {kind.code} ticket is closed by a team leader, supervisor or admin")
        try:
            await store.move(session, kind, ticket, body.step, body.values, body.note, actor=user)
        except TicketError as error:
            raise _error(error) from None
        payload = await reader.detail(session, ticket)
    return web.json_response(payload)


@endpoint(*OPENERS, summary="Reopen a closed ticket (重开): it goes back to the step after the first", body=Reopening,
          answer=answers.TicketDetail, path=TICKET_PATH)  # fmt: skip
async def reopen(request: web.Request, user: User, body: Reopening) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        ticket = await reader.load_to_handle(request, session)
        try:
            await store.reopen(session, reader.kind(ticket), ticket, body.note, actor=user)
        except TicketError as error:
            raise json_error(409, str(error)) from None
        payload = await reader.detail(session, ticket)
    return web.json_response(payload)


@endpoint(Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN, summary="Give a ticket to another owner", body=Assignment,
          answer=answers.TicketDetail, path=TICKET_PATH,
          notes="A team leader gives their team's tickets to someone in the team; supervisors to anyone.")  # fmt: skip
async def assign(request: web.Request, user: User, body: Assignment) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        ticket = await reader.load_to_handle(request, session)
        owner = await session.get(User, body.owner_id)
        if owner is not None and not reader.scope.whole_center and owner.team_id != user.team_id:
            raise json_error(403, "a team leader gives tickets to their own team")
        try:
            await store.assign(session, ticket, body.owner_id, body.note, actor=user)
        except TicketError as error:
            raise _error(error) from None
        payload = await reader.detail(session, ticket)
    return web.json_response(payload)


@endpoint(*OPENERS, summary="Attach a call to a ticket (a callback, the customer calling again)", body=CallLink,
          answer=answers.TicketDetail, path=TICKET_PATH)  # fmt: skip
async def link(request: web.Request, user: User, body: CallLink) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        ticket = await reader.load_to_handle(request, session)
        call = await _call(session, reader.scope, body.call_id)
        await store.link_call(session, ticket, call, actor=user)
        payload = await reader.detail(session, ticket)
    return web.json_response(payload)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/tickets", search)
    app.router.add_post("/api/tickets", create)
    app.router.add_get("/api/tickets/{id}", read)
    app.router.add_post("/api/tickets/{id}/steps", step)
    app.router.add_post("/api/tickets/{id}/reopen", reopen)
    app.router.add_put("/api/tickets/{id}/owner", assign)
    app.router.add_post("/api/tickets/{id}/calls", link)
