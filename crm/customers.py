"""Finding customers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from crm.models import Customer, CustomerPhone
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
