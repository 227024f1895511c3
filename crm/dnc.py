"""The do-not-call list (勿扰名单): numbers the center must not dial, whoever asks. A number is on it
however it is written (by its normalised form); an entry may expire. Dialling checks it at the
moment of the call (click-to-dial, and campaigns after it); an agent may dial a listed number only
by an explicit override with a reason, which the audit log keeps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.models import DncEntry
from crm.phones import InvalidPhoneNumber, normalize_phone

REASONS = ("opt_out", "complaint", "regulator", "wrong_number", "other")  # 客户拒绝, 投诉, 监管名单, 号码错误, 其他
SOURCES = ("card", "import", "api")


class DncError(ValueError):
    """A number that cannot be listed as asked."""


def _key(number: str, region: str) -> str:
    try:
        return normalize_phone(number, region)
    except InvalidPhoneNumber:
        raise DncError(f"number: {number[:40]!r} is not a phone number") from None


def in_force(now: datetime):  # type: ignore[no-untyped-def]
    return or_(DncEntry.expires_at.is_(None), DncEntry.expires_at > now)


async def blocking(session: AsyncSession, number: str, region: str) -> DncEntry | None:
    """The entry that forbids dialling ``number`` now, if any (a number that is no phone number is
    not on the list: the dialler refuses it for that)."""
    try:
        key = normalize_phone(number, region)
    except InvalidPhoneNumber:
        return None
    return await session.scalar(select(DncEntry).where(DncEntry.normalized == key, in_force(utcnow())))


async def listed(session: AsyncSession, numbers: list[str]) -> set[str]:
    """Which of these normalised numbers are on the list now."""
    if not numbers:
        return set()
    return set(await session.scalars(select(DncEntry.normalized).where(DncEntry.normalized.in_(numbers), in_force(utcnow()))))


async def add(
    session: AsyncSession, number: str, *, region: str, reason: str, source: str, added_by: int | None, note: str = "",
    customer_id: int | None = None, expires_at: datetime | None = None,
) -> DncEntry:
    """List ``number`` (or update the entry it already has: the newest reason and expiry count)."""
    if reason not in REASONS:
        raise DncError(f"reason: one of {', '.join(REASONS)}")
    if expires_at is not None and expires_at <= utcnow():
        raise DncError("expires_at: in the future, or none for no end")
    key = _key(number, region)
    entry = await session.scalar(select(DncEntry).where(DncEntry.normalized == key))
    if entry is None:
        entry = DncEntry(normalized=key, number=number.strip()[:40])
        session.add(entry)
    entry.reason, entry.note, entry.source, entry.added_by, entry.added_at = reason, note, source, added_by, utcnow()
    entry.customer_id = customer_id if customer_id is not None else entry.customer_id
    entry.expires_at = expires_at
    await session.flush()
    return entry
