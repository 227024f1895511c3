"""Notes on a customer, one entry per note with its author and time. A private note is its author's
alone: no other agent's card shows it, whatever their role (crm.access.customer_notes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.access import customer_notes
from crm.db import utcnow
from crm.models import CustomerNote
from crm.users import display_names

MAX_TEXT = 5000


def add_note(session: AsyncSession, customer_id: int, author_id: int, text: str, private: bool) -> CustomerNote:
    note = CustomerNote(customer_id=customer_id, author_id=author_id, text=text, private=private, created_at=utcnow())
    session.add(note)
    return note


async def visible_notes(session: AsyncSession, customer_id: int, reader_id: int | None, *, limit: int, before_id: int | None = None) -> list[CustomerNote]:
    """The newest notes on the customer that ``reader_id`` may see."""
    query = select(CustomerNote).where(CustomerNote.customer_id == customer_id, customer_notes(reader_id))
    if before_id is not None:
        query = query.where(CustomerNote.id < before_id)
    return list(await session.scalars(query.order_by(CustomerNote.id.desc()).limit(limit)))


async def note_fields(session: AsyncSession, notes: list[CustomerNote]) -> list[dict[str, Any]]:
    names = await display_names(session, {n.author_id for n in notes})
    return [
        {"id": n.id, "text": n.text, "private": n.private, "author_id": n.author_id, "author": names.get(n.author_id) if n.author_id else None,
         "at": n.created_at.isoformat()}
        for n in notes
    ]  # fmt: skip
