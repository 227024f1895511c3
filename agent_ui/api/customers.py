"""/api/customers: search by phone or text, read, create, update, reveal a number.

Numbers are shown as the reader's role may see them (crm.privacy); reads outside the reader's own
calls, searches, reveals and changes go to the audit log (crm.audit)."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, RowId, actor, disclosure, endpoint, path_id
from agent_ui.api.tickets import Reader as TicketReader
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm import audit, grading
from crm.access import Scope
from crm.cards import customer_card, customer_fields
from crm.customers import find_by_phone, holders_of
from crm.customers import merge as merge_customers
from crm.models import Customer, CustomerGrade, CustomerPhone, Role, Ticket, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from crm.privacy import Disclosure


class CustomerFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    company: str = Field(default="", max_length=200)
    grade: CustomerGrade = CustomerGrade.C
    region: str = Field(default="", max_length=100)
    key_account: bool = False
    at_risk: bool = False
    notes: str = Field(default="", max_length=5000)
    preferred_queue: str | None = Field(default=None, max_length=64)


class NewCustomer(CustomerFields):
    name: str = Field(min_length=1, max_length=200)
    phones: list[str] = Field(min_length=1, max_length=10)
    allow_duplicate: bool = Field(default=False, description="create it even though another customer has one of these numbers")

    @field_validator("phones")
    @classmethod
    def _numbers(cls, phones: list[str]) -> list[str]:
        cleaned = [p.strip() for p in phones if p and p.strip()]
        if not cleaned:
            raise ValueError("at least one phone number")
        return cleaned


class CustomerChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    grade: CustomerGrade | None = None
    region: str | None = Field(default=None, max_length=100)
    key_account: bool | None = None
    at_risk: bool | None = None
    notes: str | None = Field(default=None, max_length=5000)
    preferred_queue: str | None = Field(default=None, max_length=64)
    phones: list[str] | None = Field(default=None, min_length=1, max_length=10)
    reason: str = Field(default="", max_length=2000, description="why the grade or risk flag changes (kept in its history)")


summary = customer_fields  # the API shows a customer as the screen pop does


CUSTOMER_PATH = {"id": "the customer's id"}


def _phone_rows(numbers: list[str], region: str, kept: list[CustomerPhone] = (), shown: Disclosure | None = None) -> list[CustomerPhone]:
    """The phones ``numbers`` give; a number written as ``shown`` showed it (masked) keeps that stored phone."""
    rows, seen, unused = [], set(), list(kept)
    for number in numbers:
        same = next((p for p in unused if shown is not None and shown.matches_shown(number, p.number)), None)
        if same is not None:
            unused.remove(same)
            if same.normalized not in seen:
                seen.add(same.normalized)
                rows.append(same)
            continue
        try:
            key = normalize_phone(number, region)
        except InvalidPhoneNumber:
            raise json_error(400, f"phones: {number!r} is not a phone number") from None
        if key not in seen:
            seen.add(key)
            rows.append(CustomerPhone(number=number, normalized=key))
    return rows


def _check_queue(request: web.Request, queue: str | None) -> None:
    if queue and queue not in {q.name for q in request.app[SETTINGS].queues}:
        raise json_error(400, f"preferred_queue: unknown queue {queue!r}")


class CustomerQuery(BaseModel):
    phone: str = Field(default="", max_length=40, description="a phone number in any format")
    q: str = Field(default="", max_length=200, description="text in the name, company or a number")
    ticket: str = Field(default="", max_length=32, description="a ticket number (TS-20261204-000012): its customer")
    offset: int = Field(default=0, ge=0, le=100_000, description="paging, for the roles that see numbers in full")
    limit: int = Field(default=20, ge=1, le=100)


@endpoint(*EVERYONE, summary="Search customers by phone number (any format), by text in name, company or number, or by ticket number",
          query=CustomerQuery, answer=answers.Customers, errors={400: "not one of phone, q, ticket; q shorter than this role may search by; offset for a masked role"},
          notes="Give phone or q. Roles that see masked numbers (privacy.full_phones) search by at least privacy.search_min_chars "
                "characters, in names and companies only, and get at most privacy.search_page customers. Every search is in the audit log.")  # fmt: skip
async def search(request: web.Request, user: User, query: CustomerQuery) -> web.Response:
    phone, text, number, limit = query.phone.strip(), query.q.strip(), query.ticket.strip().upper(), query.limit
    if sum(bool(v) for v in (phone, text, number)) != 1:
        raise json_error(400, "give one of ?phone=, ?q=, ?ticket=")
    shown, privacy = disclosure(request, user), request.app[SETTINGS].privacy
    if not shown.full:  # a desktop must not be able to page through the whole CRM
        if text and len(text) < privacy.search_min_chars:
            raise json_error(400, f"q: search by at least {privacy.search_min_chars} characters")
        if query.offset:
            raise json_error(400, "offset: paging is for the roles that see numbers in full; search more precisely")
        limit = min(limit, privacy.search_page)
    async with request.app[SESSIONS]() as session, session.begin():
        if phone:
            found = (await find_by_phone(session, phone, request.app[SETTINGS].crm.default_region))[query.offset:]
        elif number:
            found = await _customer_of_ticket(request, user, session, number)
        else:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            matches = [Customer.name.ilike(pattern, escape="\\"), Customer.company.ilike(pattern, escape="\\")]
            if shown.full:  # digits searched in masked numbers would uncover them one by one
                matches.append(CustomerPhone.number.ilike(pattern, escape="\\"))
            found = list(
                await session.scalars(
                    select(Customer)
                    .outerjoin(CustomerPhone)
                    .where(or_(*matches))
                    .options(selectinload(Customer.phones))
                    .order_by(Customer.name, Customer.id)
                    .distinct()
                    .offset(query.offset)
                    .limit(limit)
                )
            )
        found = found[:limit]
        audit.record(session, actor(request, user), "customer.search", "customers", None, phone=phone, q=text, ticket=number,
                     found=len(found), ids=[c.id for c in found])  # fmt: skip
        result = [summary(c, shown) for c in found]
    return web.json_response({"customers": result})


async def _customer_of_ticket(request: web.Request, user: User, session, number: str) -> list[Customer]:  # type: ignore[no-untyped-def]
    """The customer of a ticket the reader may see, unless it is confidential and theirs to hide."""
    tickets = TicketReader(request, user)
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number, tickets.scope.tickets()))
    if ticket is None or ticket.customer_id is None or (ticket.confidential and not await tickets.handles(session, ticket)):
        return []
    customer = await session.get(Customer, ticket.customer_id, options=[selectinload(Customer.phones)])
    return [customer] if customer is not None else []


@endpoint(*EVERYONE, summary="A customer's card with the last calls", answer=answers.CustomerCard, path=CUSTOMER_PATH,
          notes="A read of a customer who is on none of the reader's own (or, for a leader, team's) calls is in the audit log.")  # fmt: skip
async def read(request: web.Request, user: User) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await session.get(Customer, path_id(request), options=[selectinload(Customer.phones)])
        if customer is None:
            raise json_error(404, "no such customer")
        if not await audit.on_their_calls(session, Scope.of(user), customer.id):
            audit.record(session, actor(request, user), "customer.read", "customer", customer.id)
        card = await customer_card(session, customer_id=customer.id, caller_number=None, disclosure=disclosure(request, user),
                                   default_region=settings.crm.default_region, near_due_h=settings.tickets.near_due_h)  # fmt: skip
    return web.json_response(card)


class Reveal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_id: RowId = Field(description="the id of one of the customer's phones (phones[].id)")


@endpoint(*EVERYONE, summary="Reveal one of a customer's phone numbers in full", body=Reveal, answer=answers.RevealedPhone,
          path=CUSTOMER_PATH, errors={403: "this role may not reveal numbers (privacy.reveal_phones)", 404: "no such customer or phone"},
          notes="A deliberate act, written to the audit log. Dialling a masked number needs no reveal: POST /api/me/dial takes its phone_id.")  # fmt: skip
async def reveal(request: web.Request, user: User, body: Reveal) -> web.Response:
    shown = disclosure(request, user)
    if not shown.full and not shown.may_reveal:
        raise json_error(403, f"the role {user.role.value} may not reveal phone numbers")
    async with request.app[SESSIONS]() as session, session.begin():
        phone = await session.get(CustomerPhone, body.phone_id)
        if phone is None or phone.customer_id != path_id(request):
            raise json_error(404, "no such phone of this customer")
        audit.record(session, actor(request, user), "phone.revealed", "customer", phone.customer_id, phone_id=phone.id)
        result = {"id": phone.id, "number": phone.number}
    return web.json_response(result)


def _duplicates(found: list[tuple[Customer, CustomerPhone]], shown: Disclosure) -> web.HTTPException:
    first, phone = found[0]
    message = (f"phones: {shown.phone(phone.number)} is already customer {first.id} ({first.name}); "
               "merge into that one, or send allow_duplicate: true")  # fmt: skip
    duplicates = [{"id": c.id, "name": c.name, "company": c.company, "phone": shown.phone(p.number)} for c, p in found]
    return web.HTTPConflict(text=json.dumps({"error": message, "duplicates": duplicates}, ensure_ascii=False), content_type="application/json")


@endpoint(*STAFF, summary="Create a customer", body=NewCustomer, answer=answers.Customer, status=201,
          errors={409: "another customer has one of these numbers (duplicates lists them); allow_duplicate creates it anyway"})  # fmt: skip
async def create(request: web.Request, user: User, body: NewCustomer) -> web.Response:
    new = body
    _check_queue(request, new.preferred_queue)
    region = request.app[SETTINGS].crm.default_region
    shown = disclosure(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        phones = _phone_rows(new.phones, region)
        if not new.allow_duplicate and (found := await holders_of(session, {p.normalized for p in phones})):
            raise _duplicates(found, shown)
        customer = Customer(**new.model_dump(exclude={"phones", "allow_duplicate"}), phones=phones)
        session.add(customer)
        await session.flush()
        audit.record(session, actor(request, user), "customer.created", "customer", customer.id)
        result = summary(customer, shown)
    return web.json_response(result, status=201)


@endpoint(*STAFF, summary="Change a customer", body=CustomerChanges, answer=answers.Customer, path=CUSTOMER_PATH,
          notes="A new grade or risk flag is set by team leaders, supervisors and admins (kept in the customer's changes with "
          "the reason); agents propose one instead (403 here).")  # fmt: skip
async def update(request: web.Request, user: User, body: CustomerChanges) -> web.Response:
    changes = body
    _check_queue(request, changes.preferred_queue)
    region = request.app[SETTINGS].crm.default_region
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await session.get(Customer, path_id(request), options=[selectinload(Customer.phones)])
        if customer is None:
            raise json_error(404, "no such customer")
        changed = []
        for field, value in changes.model_dump(exclude_unset=True, exclude={"phones", "reason"}).items():
            if value is None and field != "preferred_queue":
                raise json_error(400, f"{field}: may not be null")
            if getattr(customer, field) == value:
                continue
            changed.append(field)
            if field in grading.FIELDS:  # handbook §1.4: agents propose these, leaders and supervisors set them
                if not Scope.of(user).sets_grades():
                    raise json_error(403, f"{field}: agents propose a grade or risk change (POST /api/customers/{customer.id}/changes)")
                grading.set_directly(session, customer, field, value, changes.reason, actor=user)
            else:
                setattr(customer, field, value)
        shown = disclosure(request, user)
        if changes.phones is not None:
            before = {p.normalized for p in customer.phones}
            kept = {p.normalized: p for p in customer.phones}
            rows = _phone_rows(changes.phones, region, customer.phones, shown)
            customer.phones = [kept.get(row.normalized, row) for row in rows]
            if {p.normalized for p in customer.phones} != before:
                changed.append("phones")
        await session.flush()
        audit.record(session, actor(request, user), "customer.changed", "customer", customer.id, fields=changed)
        result = summary(customer, shown)
    return web.json_response(result)


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_id: RowId = Field(description="the duplicate, folded into this customer and deleted")


@endpoint(Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN, summary="Merge a duplicate customer into this one", body=Merge,
          answer=answers.MergedCustomer, path=CUSTOMER_PATH, errors={404: "no such customer"},
          notes="Every call, record form, ticket and follow-up task of from_id moves to this customer, with the numbers it "
          "lacks; key account and risk flags and the better grade are kept, empty fields filled, notes joined; from_id is "
          "deleted. Written to the audit log.")  # fmt: skip
async def merge(request: web.Request, user: User, body: Merge) -> web.Response:
    keep_id = path_id(request)
    if body.from_id == keep_id:
        raise json_error(400, "from_id: a customer is not merged into itself")
    async with request.app[SESSIONS]() as session, session.begin():
        keep = await session.get(Customer, keep_id, options=[selectinload(Customer.phones)])
        gone = await session.get(Customer, body.from_id, options=[selectinload(Customer.phones)])
        if keep is None or gone is None:
            raise json_error(404, f"no such customer {keep_id if keep is None else body.from_id}")
        name = gone.name
        moved = await merge_customers(session, keep, gone)
        audit.record(session, actor(request, user), "customer.merged", "customer", keep.id, from_id=body.from_id, from_name=name, moved=moved)
        result = {**summary(keep, disclosure(request, user)), "moved": moved}
    return web.json_response(result)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/customers", search)
    app.router.add_post("/api/customers", create)
    app.router.add_get("/api/customers/{id}", read)
    app.router.add_patch("/api/customers/{id}", update)
    app.router.add_post("/api/customers/{id}/reveal", reveal)
    app.router.add_post("/api/customers/{id}/merge", merge)
