"""Finding customers, the duplicates a new one would make, and merging two into one."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from crm.models import Call, CallRecord, Customer, CustomerChange, CustomerContact, CustomerNote, CustomerPhone, Task, Ticket
from crm.phones import InvalidPhoneNumber, normalize_phone


async def find_by_phone(session: AsyncSession, number: str, default_region: str = "CN") -> list[Customer]:
    """Customers having ``number`` however it is written; none for text that is no phone number."""
    try:
        key = normalize_phone(number, default_region)
    except InvalidPhoneNumber:
        return []
    rows = await session.scalars(
        select(Customer)
        .join(CustomerPhone)
        .where(CustomerPhone.normalized == key)
        .options(joinedload(Customer.phones))
        .order_by(Customer.id)
    )
    return list(rows.unique())


async def holders_of(session: AsyncSession, keys: set[str], *, besides: int | None = None) -> list[tuple[Customer, CustomerPhone]]:
    """The customers who already have one of the normalised numbers ``keys`` (a duplicate about to be
    made), with the phone that matched."""
    if not keys:
        return []
    rows = await session.execute(
        select(Customer, CustomerPhone).join(CustomerPhone)
        .where(CustomerPhone.normalized.in_(keys), Customer.id != (besides or 0)).order_by(Customer.id, CustomerPhone.id)
    )  # fmt: skip
    return [(customer, phone) for customer, phone in rows.all()]


BEST_GRADE_FIRST = ("A", "B", "C", "D")
FILLED_ON_MERGE = (
    "industry", "ownership", "address", "postcode", "email", "website", "fax", "tax_id", "annual_sales", "registered_capital",
    "credit_grade", "credit_limit", "credit_term_days", "payment_terms", "owner_id", "risk_type", "risk_level", "risk_action", "risk_since",
)  # fmt: skip


async def merge(session: AsyncSession, keep: Customer, gone: Customer) -> dict[str, int]:
    """Fold ``gone`` into ``keep``: every call, record form, ticket, task, contact, note and grade
    change moves over, the numbers ``keep`` lacks with them; flags, tags and the better grade are
    kept, empty fields filled, notes joined; then ``gone`` is deleted. How many of each moved."""
    moved: dict[str, int] = {}
    moving = (("calls", Call), ("records", CallRecord), ("tickets", Ticket), ("tasks", Task), ("contacts", CustomerContact),
              ("notes", CustomerNote), ("grade_changes", CustomerChange))  # fmt: skip
    for name, table in moving:
        result = await session.execute(update(table).where(table.customer_id == gone.id).values(customer_id=keep.id))
        moved[name] = result.rowcount or 0
    kept_numbers = {p.normalized for p in keep.phones}
    result = await session.execute(
        update(CustomerPhone).where(CustomerPhone.customer_id == gone.id, CustomerPhone.normalized.not_in(kept_numbers or {""}))
        .values(customer_id=keep.id)
    )  # fmt: skip
    moved["phones"] = result.rowcount or 0
    keep.key_account = keep.key_account or gone.key_account
    keep.at_risk = keep.at_risk or gone.at_risk
    keep.grade = min(keep.grade, gone.grade, key=lambda g: BEST_GRADE_FIRST.index(g.value))
    for field in ("company", "region", "preferred_queue", *FILLED_ON_MERGE):
        if not getattr(keep, field) and getattr(gone, field):
            setattr(keep, field, getattr(gone, field))
    keep.tags = list(dict.fromkeys([*keep.tags, *gone.tags]))
    if gone.notes.strip() and gone.notes.strip() not in keep.notes:
        keep.notes = "\n\n".join(part for part in (keep.notes.strip(), gone.notes.strip()) if part)
    await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == gone.id))
    await session.execute(delete(Customer).where(Customer.id == gone.id))
    session.expunge(gone)
    await session.flush()
    await session.refresh(keep, ["phones"])
    return moved


async def names_of(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    """Customer id → name, for lists that show whose a row is."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict((await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted)))).all())  # type: ignore[arg-type]


async def with_phones(session: AsyncSession, customer_id: int, *, contacts: bool = False) -> Customer | None:
    """The customer with their numbers loaded (and their contact people, with ``contacts``)."""
    options = [selectinload(Customer.phones), *([selectinload(Customer.contacts)] if contacts else [])]
    return await session.get(Customer, customer_id, options=options)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_text(session: AsyncSession, text: str, *, in_numbers: bool, offset: int, limit: int) -> list[Customer]:
    """Customers whose name or company contains ``text`` (and, with ``in_numbers``, a number: never for
    a reader who sees numbers masked, who could uncover them digit by digit), by name."""
    pattern = _like(text)
    matches = [Customer.name.ilike(pattern, escape="\\"), Customer.company.ilike(pattern, escape="\\")]
    if in_numbers:
        matches.append(Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.number.ilike(pattern, escape="\\"))))
    rows = await session.scalars(
        select(Customer).where(or_(*matches)).options(selectinload(Customer.phones)).order_by(Customer.name, Customer.id).offset(offset).limit(limit)
    )
    return list(rows)


async def phone_number(session: AsyncSession, phone_id: int) -> str | None:
    """A customer's number by its id, whole (what a masked role dials without seeing)."""
    return await session.scalar(select(CustomerPhone.number).where(CustomerPhone.id == phone_id))
