"""/api/customers: search by phone or text, read, create, update, reveal a number.

Numbers are shown as the reader's role may see them (crm.privacy); reads outside the reader's own
calls, searches, reveals and changes go to the audit log (crm.audit)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, RowId, actor, disclosure, endpoint, path_id
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm import audit
from crm.access import Scope
from crm.cards import customer_card, customer_fields
from crm.customers import find_by_phone
from crm.models import Customer, CustomerGrade, CustomerPhone, User
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
    limit: int = Field(default=20, ge=1, le=100)


@endpoint(*EVERYONE, summary="Search customers by phone number (any format) or by text in name, company or number",
          query=CustomerQuery, answer=answers.Customers, errors={400: "neither phone nor q, or q shorter than this role may search by"},
          notes="Give phone or q. Roles that see masked numbers (privacy.full_phones) search by at least privacy.search_min_chars "
                "characters, in names and companies only, and get at most privacy.search_page customers. Every search is in the audit log.")  # fmt: skip
async def search(request: web.Request, user: User, query: CustomerQuery) -> web.Response:
    phone, text, limit = query.phone.strip(), query.q.strip(), query.limit
    if not phone and not text:
        raise json_error(400, "give ?phone= or ?q=")
    shown, privacy = disclosure(request, user), request.app[SETTINGS].privacy
    if not shown.full:  # a desktop must not be able to page through the whole CRM
        if not phone and len(text) < privacy.search_min_chars:
            raise json_error(400, f"q: search by at least {privacy.search_min_chars} characters")
        limit = min(limit, privacy.search_page)
    async with request.app[SESSIONS]() as session, session.begin():
        if phone:
            found = await find_by_phone(session, phone, request.app[SETTINGS].crm.default_region)
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
                    .order_by(Customer.name)
                    .distinct()
                    .limit(limit)
                )
            )
        found = found[:limit]
        audit.record(session, actor(request, user), "customer.search", "customers", None, phone=phone, q=text,
                     found=len(found), ids=[c.id for c in found])  # fmt: skip
        result = [summary(c, shown) for c in found]
    return web.json_response({"customers": result})


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


@endpoint(*STAFF, summary="Create a customer", body=NewCustomer, answer=answers.Customer, status=201)
async def create(request: web.Request, user: User, body: NewCustomer) -> web.Response:
    new = body
    _check_queue(request, new.preferred_queue)
    region = request.app[SETTINGS].crm.default_region
    async with request.app[SESSIONS]() as session, session.begin():
        customer = Customer(**new.model_dump(exclude={"phones"}), phones=_phone_rows(new.phones, region))
        session.add(customer)
        await session.flush()
        audit.record(session, actor(request, user), "customer.created", "customer", customer.id)
        result = summary(customer, disclosure(request, user))
    return web.json_response(result, status=201)


@endpoint(*STAFF, summary="Change a customer", body=CustomerChanges, answer=answers.Customer, path=CUSTOMER_PATH)
async def update(request: web.Request, user: User, body: CustomerChanges) -> web.Response:
    changes = body
    _check_queue(request, changes.preferred_queue)
    region = request.app[SETTINGS].crm.default_region
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await session.get(Customer, path_id(request), options=[selectinload(Customer.phones)])
        if customer is None:
            raise json_error(404, "no such customer")
        changed = []
        for field, value in changes.model_dump(exclude_unset=True, exclude={"phones"}).items():
            if value is None and field != "preferred_queue":
                raise json_error(400, f"{field}: may not be null")
            if getattr(customer, field) != value:
                changed.append(field)
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


def routes(app: web.Application) -> None:
    app.router.add_get("/api/customers", search)
    app.router.add_post("/api/customers", create)
    app.router.add_get("/api/customers/{id}", read)
    app.router.add_patch("/api/customers/{id}", update)
    app.router.add_post("/api/customers/{id}/reveal", reveal)
