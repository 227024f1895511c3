"""The customer card an agent sees when a call rings (the screen pop): who, how valuable, what happened before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from crm.customers import find_by_phone
from crm.db import utcnow
from crm import dnc
from crm.customer_notes import note_fields, visible_notes
from crm.models import Call, CallRecord, Customer, CustomerContact, Ticket, User
from crm.privacy import Disclosure
from crm.tickets.lifecycle import deadline_state

RECENT_CALLS = 5
OPEN_TICKETS = 5
NOTES = 5
# The registration fields (客户信息登记表) shown as they are stored.
REGISTRATION = (
    "customer_type", "industry", "ownership", "address", "postcode", "email", "website", "fax", "tax_id", "annual_sales",
    "registered_capital", "credit_grade", "credit_limit", "credit_term_days", "payment_terms", "tags",
)  # fmt: skip


def customer_fields(customer: Customer, disclosure: Disclosure) -> dict[str, Any]:
    """A customer as JSON (its phones must be loaded), numbers as ``disclosure`` shows them: a
    masked one is still dialled by its id."""
    return {
        "id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "grade": customer.grade.value,
        "region": customer.region,
        "key_account": customer.key_account,
        "at_risk": customer.at_risk,
        "notes": customer.notes,
        "preferred_queue": customer.preferred_queue,
        "phones": [{"id": p.id, "number": disclosure.phone(p.number), "masked": not disclosure.full} for p in customer.phones],
        **{field: getattr(customer, field) for field in REGISTRATION},
        "owner_id": customer.owner_id,
        "registered_by": customer.registered_by,
        "registered_at": customer.created_at.isoformat() if customer.created_at else None,
        "reviewed_by": customer.reviewed_by,
        "reviewed_at": customer.reviewed_at.isoformat() if customer.reviewed_at else None,
        "risk": None if not customer.at_risk else {
            "type": customer.risk_type, "level": customer.risk_level, "action": customer.risk_action,
            "since": customer.risk_since.isoformat() if customer.risk_since else None,
        },
    }


def contact_fields(contacts: list[CustomerContact], disclosure: Disclosure) -> list[dict[str, Any]]:
    """A customer's contact people, their numbers as ``disclosure`` shows them."""
    return [
        {"id": c.id, "name": c.name, "title": c.title, "phone": disclosure.phone(c.phone) if c.phone else "", "email": c.email,
         "birthday": c.birthday.isoformat() if c.birthday else None, "hobbies": c.hobbies, "decision_role": c.decision_role}
        for c in contacts
    ]  # fmt: skip


async def contacts_of(session: AsyncSession, customer_id: int) -> list[CustomerContact]:
    return list(await session.scalars(select(CustomerContact).where(CustomerContact.customer_id == customer_id).order_by(CustomerContact.id)))


def unknown_caller(number: str | None) -> list[dict[str, Any]]:
    """The phones of a new-customer card: the number of the call being taken, whole."""
    return [{"id": None, "number": number, "masked": False}] if number else []


async def customer_card(
    session: AsyncSession, *, customer_id: int | None, caller_number: str | None, disclosure: Disclosure,
    default_region: str = "CN", near_due_h: float = 2.0,
) -> dict[str, Any]:
    """The card of the customer (by id, else by the caller's number), or a new-customer card,
    with the last calls and the open tickets (a confidential complaint's title is left out: the
    card goes to whoever the call rings)."""
    customer = None
    if customer_id is not None:
        customer = await session.get(Customer, customer_id, options=[joinedload(Customer.phones)])
    if customer is None and caller_number:
        found = await find_by_phone(session, caller_number, default_region)
        customer = found[0] if found else None
    if customer is None:
        return {"new": True, "phones": unknown_caller(caller_number)}
    # Only the columns shown, not whole rows: this runs on every ring (the screen pop).
    rows = await session.execute(
        select(
            Call.id, Call.started_at, Call.direction, Call.disposition, Call.disposition_code, Call.notes, Call.satisfaction,
            User.extension, CallRecord.summary,
        )
        .outerjoin(User, User.id == Call.agent_id)
        .outerjoin(CallRecord, CallRecord.call_id == Call.id)
        .where(Call.customer_id == customer.id)
        .order_by(Call.started_at.desc())
        .limit(RECENT_CALLS)
    )
    tickets = await session.execute(
        select(Ticket.id, Ticket.number, Ticket.type, Ticket.status, Ticket.title, Ticket.confidential, Ticket.major, Ticket.due_at, Ticket.responded_at)
        .where(Ticket.customer_id == customer.id, Ticket.closed_at.is_(None))
        .order_by(Ticket.due_at)
        .limit(OPEN_TICKETS)
    )
    now = utcnow()
    notes = await visible_notes(session, customer.id, disclosure.user_id, limit=NOTES)
    fields = customer_fields(customer, disclosure)
    do_not_call = await dnc.listed(session, [p.normalized for p in customer.phones])
    for shown, phone in zip(fields["phones"], customer.phones, strict=True):
        shown["do_not_call"] = phone.normalized in do_not_call
    return {
        "new": False,
        **fields,
        "contacts": contact_fields(await contacts_of(session, customer.id), disclosure),
        "note_entries": await note_fields(session, notes),
        "open_tickets": [
            {
                "id": t.id,
                "number": t.number,
                "type": t.type,
                "status": t.status,
                "title": None if t.confidential else t.title,
                "major": t.major,
                "due_at": t.due_at.isoformat(),
                "deadline": deadline_state(closed=False, responded_at=t.responded_at, due_at=t.due_at, now=now, near_due_h=near_due_h),
            }
            for t in tickets
        ],
        "recent_calls": [
            {
                "id": call.id,
                "started_at": call.started_at.isoformat(),
                "direction": call.direction.value,
                "disposition": call.disposition,
                "disposition_code": call.disposition_code,
                "agent": call.extension,
                "notes": call.notes,
                "summary": call.summary or "",
                "satisfaction": call.satisfaction,
            }
            for call in rows
        ],
    }
