"""/api/customers: search by phone or text, read, create, update."""

from __future__ import annotations


from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, endpoint, path_id
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm.cards import customer_card, customer_fields
from crm.customers import find_by_phone
from crm.models import Customer, CustomerGrade, CustomerPhone, User
from crm.phones import InvalidPhoneNumber, normalize_phone


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


def _phone_rows(numbers: list[str], region: str) -> list[CustomerPhone]:
    rows, seen = [], set()
    for number in numbers:
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
          query=CustomerQuery, answer=answers.Customers, notes="Give phone or q.")  # fmt: skip
async def search(request: web.Request, user: User, query: CustomerQuery) -> web.Response:
    phone, text, limit = query.phone.strip(), query.q.strip(), query.limit
    if not phone and not text:
        raise json_error(400, "give ?phone= or ?q=")
    async with request.app[SESSIONS]() as session:
        if phone:
            found = await find_by_phone(session, phone, request.app[SETTINGS].crm.default_region)
        else:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found = list(
                await session.scalars(
                    select(Customer)
                    .outerjoin(CustomerPhone)
                    .where(or_(Customer.name.ilike(pattern, escape="\\"), Customer.company.ilike(pattern, escape="\\"), CustomerPhone.number.ilike(pattern, escape="\\")))
                    .options(selectinload(Customer.phones))
                    .order_by(Customer.name)
                    .distinct()
                    .limit(limit)
                )
            )
    return web.json_response({"customers": [summary(c) for c in found[:limit]]})


@endpoint(*EVERYONE, summary="A customer's card with the last calls", answer=answers.CustomerCard, path=CUSTOMER_PATH)
async def read(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        customer = await session.get(Customer, path_id(request), options=[selectinload(Customer.phones)])
        if customer is None:
            raise json_error(404, "no such customer")
        card = await customer_card(session, customer_id=customer.id, caller_number=None)
    return web.json_response(card)


@endpoint(*STAFF, summary="Create a customer", body=NewCustomer, answer=answers.Customer, status=201)
async def create(request: web.Request, user: User, body: NewCustomer) -> web.Response:
    new = body
    _check_queue(request, new.preferred_queue)
    region = request.app[SETTINGS].crm.default_region
    async with request.app[SESSIONS]() as session, session.begin():
        customer = Customer(**new.model_dump(exclude={"phones"}), phones=_phone_rows(new.phones, region))
        session.add(customer)
        await session.flush()
        result = summary(customer)
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
        for field, value in changes.model_dump(exclude_unset=True, exclude={"phones"}).items():
            if value is None and field != "preferred_queue":
                raise json_error(400, f"{field}: may not be null")
            setattr(customer, field, value)
        if changes.phones is not None:
            kept = {p.normalized: p for p in customer.phones}
            customer.phones = [kept.get(row.normalized, row) for row in _phone_rows(changes.phones, region)]
        await session.flush()
        result = summary(customer)
    return web.json_response(result)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/customers", search)
    app.router.add_post("/api/customers", create)
    app.router.add_get("/api/customers/{id}", read)
    app.router.add_patch("/api/customers/{id}", update)
