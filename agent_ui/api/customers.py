"""/api/customers: search by phone or text, read, create, update, reveal a number.

Numbers are shown as the reader's role may see them (crm.privacy); reads outside the reader's own
calls, searches, reveals and changes go to the audit log (crm.audit)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, AwareIsoDateTime, RowId, actor, disclosure, endpoint, path_id
from agent_ui.api.tickets import Reader as TicketReader
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm import audit, grading
from crm import customer_form as crm_form
from crm.access import Scope
from crm.cards import contact_fields, contacts_of, customer_card, customer_fields
from crm.customer_form import Contact, Registration, Risk
from crm.customer_notes import MAX_TEXT as MAX_NOTE
from crm.customer_notes import add_note, note_fields, visible_notes
from crm.customers import find_by_phone, holders_of, search_text, with_phones
from crm.customers import merge as merge_customers
from crm.models import Customer, CustomerContact, CustomerPhone, Role, User
from crm.tickets import queries as ticket_queries
from crm.phones import InvalidPhoneNumber, normalize_phone
from crm.db import utcnow
from crm.privacy import Disclosure
from crm.timeline import timeline


class ContactForm(Contact):
    id: RowId | None = Field(default=None, description="an existing contact's id (kept, its masked number unchanged); none: a new contact")


class NewCustomer(crm_form.NewCustomer):
    risk: Risk | None = Field(default=None, description="with at_risk true: the risk's type, level, action and amount owed")
    contacts: list[ContactForm] = Field(default=[], max_length=crm_form.MAX_CONTACTS)
    owner_id: RowId | None = Field(default=None, description="负责业务员: the user who owns the account")
    allow_duplicate: bool = Field(default=False, description="create it even though another customer has one of these numbers")


def _optional(model: type[BaseModel], name: str, **more: Any) -> type[BaseModel]:
    """``model``'s fields, each optional and null when not given: an edit's body."""
    fields = {key: (field.annotation | None, FieldInfo.merge_field_infos(field, default=None)) for key, field in model.model_fields.items()}
    return create_model(name, __config__=model.model_config, **fields, **more)


CustomerChanges = _optional(
    crm_form.NewCustomer,
    "CustomerChanges",
    risk=(Risk | None, Field(default=None, description="with at_risk true (team leaders, supervisors, admins): the risk's type, level, action")),
    contacts=(list[ContactForm] | None, Field(default=None, max_length=crm_form.MAX_CONTACTS, description="the whole list: contacts left out are removed")),
    owner_id=(RowId | None, Field(default=None, description="负责业务员")),
    reason=(str, Field(default="", max_length=2000, description="why the grade or risk flag changes (kept in its history)")),
)


summary = customer_fields  # the API shows a customer as the screen pop does


def whole(customer: Customer, contacts: list[CustomerContact], shown: Disclosure) -> dict[str, Any]:
    """A customer with their contact people: what a create, an edit and a read answer."""
    return {**summary(customer, shown), "contacts": contact_fields(contacts, shown)}


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
            found = await search_text(session, text, in_numbers=shown.full, offset=query.offset, limit=limit)
        found = found[:limit]
        audit.record(session, actor(request, user), "customer.search", "customers", None, phone=phone, q=text, ticket=number,
                     found=len(found), ids=[c.id for c in found])  # fmt: skip
        result = [summary(c, shown) for c in found]
    return web.json_response({"customers": result})


async def _customer_of_ticket(request: web.Request, user: User, session, number: str) -> list[Customer]:  # type: ignore[no-untyped-def]
    """The customer of a ticket the reader may see, unless it is confidential and theirs to hide."""
    tickets = TicketReader(request, user)
    ticket = await ticket_queries.visible_ticket(session, tickets.scope.tickets(), number=number)
    if ticket is None or ticket.customer_id is None or (ticket.confidential and not await tickets.handles(session, ticket)):
        return []
    customer = await with_phones(session, ticket.customer_id)
    return [customer] if customer is not None else []


@endpoint(*EVERYONE, summary="A customer's card with the last calls", answer=answers.CustomerCard, path=CUSTOMER_PATH,
          notes="A read of a customer who is on none of the reader's own (or, for a leader, team's) calls is in the audit log.")  # fmt: skip
async def read(request: web.Request, user: User) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await with_phones(session, path_id(request))
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
        await _check_owner(session, new.owner_id)
        phones = _phone_rows(new.phones, region)
        if not new.allow_duplicate and (found := await holders_of(session, {p.normalized for p in phones})):
            raise _duplicates(found, shown)
        fields = new.model_dump(exclude={"phones", "allow_duplicate", "contacts", "risk"})
        contacts = [CustomerContact(**c.model_dump(exclude={"id"})) for c in new.contacts]
        customer = Customer(**fields, phones=phones, contacts=contacts, registered_by=user.id)
        try:
            risk = grading.risk_detail({"at_risk": new.at_risk}, new.risk.model_dump() if new.risk else None)
        except grading.ChangeError as error:
            raise json_error(400, str(error)) from None
        if risk:
            customer.risk_type, customer.risk_level, customer.risk_action, customer.risk_since = risk["type"], risk["level"], risk["action"], utcnow()
        session.add(customer)
        await session.flush()
        audit.record(session, actor(request, user), "customer.created", "customer", customer.id)
        result = whole(customer, contacts, shown)
    return web.json_response(result, status=201)


async def _check_owner(session, owner_id: int | None) -> None:  # type: ignore[no-untyped-def]
    """An account's owner (负责业务员) is an active user who works customers (not QA)."""
    if owner_id is None:
        return
    owner = await session.get(User, owner_id)
    if owner is None or not owner.active or owner.role == Role.QA_INSPECTOR:
        raise json_error(400, f"owner_id: no active staff user {owner_id}")


def _contact_rows(forms: list[ContactForm], kept: list[CustomerContact], shown: Disclosure) -> list[CustomerContact]:
    """The contacts an edit gives: one with the id of a kept contact updates it (a number sent back
    as it was shown, masked, stays the stored one); one without an id is new; the rest go."""
    by_id = {c.id: c for c in kept}
    rows = []
    for form in forms:
        values = form.model_dump(exclude={"id"})
        row = by_id.pop(form.id, None) if form.id is not None else None
        if form.id is not None and row is None:
            raise json_error(400, f"contacts: no contact {form.id} of this customer")
        if row is not None and row.phone and shown.matches_shown(values["phone"], row.phone):
            values["phone"] = row.phone
        if row is None:
            row = CustomerContact()
        for field, value in values.items():
            setattr(row, field, value)
        rows.append(row)
    return rows


@endpoint(*STAFF, summary="Change a customer", body=CustomerChanges, answer=answers.Customer, path=CUSTOMER_PATH,
          notes="A new grade or risk flag is set by team leaders, supervisors and admins (kept in the customer's changes with "
          "the reason); agents propose one instead (403 here).")  # fmt: skip
async def update(request: web.Request, user: User, body: CustomerChanges) -> web.Response:  # type: ignore[valid-type]
    changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    _check_queue(request, changes.get("preferred_queue"))
    region = request.app[SETTINGS].crm.default_region
    shown = disclosure(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await with_phones(session, path_id(request), contacts=True)
        if customer is None:
            raise json_error(404, "no such customer")
        if "owner_id" in changes:
            await _check_owner(session, changes["owner_id"])
        fields = {k: v for k, v in changes.items() if k in Registration.model_fields or k in ("name", "owner_id")}
        _check_whole(customer, fields)
        changed = []
        if "risk" in changes and changes.get("at_risk") is not True:
            raise json_error(400, "risk: send it with at_risk true")
        for field, value in fields.items():
            if getattr(customer, field) == value and not (field == "at_risk" and changes.get("risk")):
                continue
            changed.append(field)
            if field in grading.FIELDS:  # handbook §1.4: agents propose these, leaders and supervisors set them
                if not Scope.of(user).sets_grades():
                    raise json_error(403, f"{field}: agents propose a grade or risk change (POST /api/customers/{customer.id}/changes)")
                try:
                    grading.set_directly(session, customer, field, value, changes.get("reason", ""), actor=user, risk=changes.get("risk"))
                except grading.ChangeError as error:
                    raise json_error(400, str(error)) from None
            else:
                setattr(customer, field, value)
        if changes.get("phones") is not None:
            before = {p.normalized for p in customer.phones}
            kept = {p.normalized: p for p in customer.phones}
            rows = _phone_rows(changes["phones"], region, customer.phones, shown)
            customer.phones = [kept.get(row.normalized, row) for row in rows]
            if {p.normalized for p in customer.phones} != before:
                changed.append("phones")
        if body.contacts is not None:  # type: ignore[attr-defined]
            customer.contacts = _contact_rows(body.contacts, customer.contacts, shown)  # type: ignore[attr-defined]
            changed.append("contacts")
        await session.flush()
        audit.record(session, actor(request, user), "customer.changed", "customer", customer.id, fields=changed)
        result = whole(customer, customer.contacts, shown)
    return web.json_response(result)


def _check_whole(customer: Customer, fields: dict[str, Any]) -> None:
    """The customer as the edit leaves it must be a valid registration (no null where a value is due)."""
    if "name" in fields and fields["name"] is None:
        raise json_error(400, "name: may not be null")
    merged = {field: getattr(customer, field) for field in Registration.model_fields} | {k: v for k, v in fields.items() if k in Registration.model_fields}
    try:
        Registration.model_validate(merged)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        message = "may not be null" if problem["input"] is None else problem["msg"]
        raise json_error(400, f"{where}: {message}") from None


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
        keep = await with_phones(session, keep_id)
        gone = await with_phones(session, body.from_id)
        if keep is None or gone is None:
            raise json_error(404, f"no such customer {keep_id if keep is None else body.from_id}")
        name = gone.name
        moved = await merge_customers(session, keep, gone)
        audit.record(session, actor(request, user), "customer.merged", "customer", keep.id, from_id=body.from_id, from_name=name, moved=moved)
        result = {**whole(keep, await contacts_of(session, keep.id), disclosure(request, user)), "moved": moved}
    return web.json_response(result)


async def _customer(session, request: web.Request) -> Customer:  # type: ignore[no-untyped-def]
    customer = await session.get(Customer, path_id(request))
    if customer is None:
        raise json_error(404, "no such customer")
    return customer


@endpoint(*STAFF, summary="Sign a customer's registration as reviewed (审核人)", answer=answers.Reviewed, path=CUSTOMER_PATH,
          errors={403: "agents register customers; leaders, supervisors and admins review them"})  # fmt: skip
async def review(request: web.Request, user: User) -> web.Response:
    if not Scope.of(user).reviews_customers():
        raise json_error(403, "a team leader, supervisor or admin reviews a registration")
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await _customer(session, request)
        customer.reviewed_by, customer.reviewed_at = user.id, utcnow()
        audit.record(session, actor(request, user), "customer.reviewed", "customer", customer.id)
        result = {"id": customer.id, "reviewed_by": user.id, "reviewed_at": customer.reviewed_at.isoformat()}
    return web.json_response(result)


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_NOTE)
    private: bool = Field(default=False, description="seen by its author alone: no other user's card or timeline shows it")


class NotesQuery(BaseModel):
    before_id: RowId | None = Field(default=None, description="paging: the notes older than this one")
    limit: int = Field(default=20, ge=1, le=100)


@endpoint(*STAFF, summary="Add a note to a customer", body=NewNote, answer=answers.CustomerNote, status=201, path=CUSTOMER_PATH)
async def add_customer_note(request: web.Request, user: User, body: NewNote) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await _customer(session, request)
        note = add_note(session, customer.id, user.id, body.text, body.private)
        await session.flush()
        audit.record(session, actor(request, user), "customer.noted", "customer", customer.id, note_id=note.id, private=note.private)
        (result,) = await note_fields(session, [note])
    return web.json_response(result, status=201)


@endpoint(*EVERYONE, summary="A customer's notes, newest first", query=NotesQuery, answer=answers.CustomerNotes, path=CUSTOMER_PATH,
          notes="Shared notes and the reader's own private ones; nobody sees another user's private note.")  # fmt: skip
async def list_notes(request: web.Request, user: User, query: NotesQuery) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await _customer(session, request)
        notes = await visible_notes(session, customer.id, user.id, limit=query.limit, before_id=query.before_id)
        result = {"notes": await note_fields(session, notes)}
    return web.json_response(result)


class TimelineQuery(BaseModel):
    before: AwareIsoDateTime | None = Field(default=None, description="paging: what happened before this time (the last item's at)")
    limit: int = Field(default=50, ge=1, le=200)


@endpoint(*EVERYONE, summary="A customer's interactions, newest first: calls, tickets, tasks, grade changes, notes",
          query=TimelineQuery, answer=answers.Timeline, path=CUSTOMER_PATH,
          notes="Numbers masked as on the card; a confidential complaint's title left out; private notes only the reader's own. "
                "A read outside the reader's own calls is in the audit log, as for the card.")  # fmt: skip
async def customer_timeline(request: web.Request, user: User, query: TimelineQuery) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await _customer(session, request)
        if not await audit.on_their_calls(session, Scope.of(user), customer.id):
            audit.record(session, actor(request, user), "customer.read", "customer", customer.id, what="timeline")
        items = await timeline(session, customer.id, disclosure(request, user), before=query.before or utcnow(), limit=query.limit)
    return web.json_response({"items": items})


def routes(app: web.Application) -> None:
    app.router.add_get("/api/customers", search)
    app.router.add_post("/api/customers", create)
    app.router.add_get("/api/customers/{id}", read)
    app.router.add_patch("/api/customers/{id}", update)
    app.router.add_post("/api/customers/{id}/reveal", reveal)
    app.router.add_post("/api/customers/{id}/merge", merge)
    app.router.add_post("/api/customers/{id}/review", review)
    app.router.add_get("/api/customers/{id}/notes", list_notes)
    app.router.add_post("/api/customers/{id}/notes", add_customer_note)
    app.router.add_get("/api/customers/{id}/timeline", customer_timeline)
