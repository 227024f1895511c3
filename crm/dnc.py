"""The do-not-call list (勿扰名单): numbers the center must not dial, whoever asks. A number is on it
however it is written (by its normalised form); an entry may expire. Dialling checks it at the
moment of the call (click-to-dial, and campaigns after it); an agent may dial a listed number only
by an explicit override with a reason, which the audit log keeps."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.csv_files import ImportFileError, Report, decode
from crm.db import utcnow
from crm.models import DncEntry
from crm.phones import InvalidPhoneNumber, normalize_phone

REASONS = ("opt_out", "complaint", "regulator", "wrong_number", "other")  # 客户拒绝, 投诉, 监管名单, 号码错误, 其他
SOURCES = ("card", "record_form", "import", "api")


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


HEADERS = {"number": "number", "电话": "number", "号码": "number", "reason": "reason", "原因": "reason", "note": "note", "备注": "note",
           "expires_at": "expires_at", "到期": "expires_at"}  # fmt: skip


async def import_list(session: AsyncSession, data: bytes, *, region: str, added_by: int | None, dry_run: bool) -> Report:
    """A CSV of numbers to list (number, reason, expires_at, note; English or Chinese headers): every
    row checked (off the event loop), then all listed or, when a row is rejected, none. A row's reason
    defaults to regulator (a list from outside), its expiry to none."""
    report = Report(dry_run=dry_run)
    wanted = await asyncio.to_thread(_read_list, data, region, report)
    if not dry_run and report.rejected_rows == 0:
        for values in wanted:
            await add(session, values["number"], region=region, reason=values.get("reason") or "regulator", source="import", added_by=added_by,
                      note=values.get("note", "")[:500], expires_at=_when(values.get("expires_at", "")))  # fmt: skip
        report.imported = len(wanted)
    return report


def _read_list(data: bytes, region: str, report: Report) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(decode(data), newline="")))
    if not rows:
        raise ImportFileError("the file is empty: the first line names the columns (number, reason, expires_at, note)")
    fields = [HEADERS.get(cell.strip().lstrip("\ufeff").lower()) or HEADERS.get(cell.strip()) for cell in rows[0]]
    if "number" not in fields or None in fields:
        raise ImportFileError("the header: the columns are number, reason, expires_at, note (or 电话, 原因, 到期, 备注); number is needed")
    wanted = []
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        values = {field: cell.strip() for field, cell in zip(fields, cells, strict=False) if field}
        problem = _row_problem(values, region)
        if problem:
            report.rejected_rows += 1
            report.reject(line, *problem)
        else:
            wanted.append(values)
    return wanted


def _when(text: str) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row_problem(values: dict[str, str], region: str) -> tuple[str, str] | None:
    try:
        _key(values.get("number", ""), region)
    except DncError:
        return "number", f"{values.get('number', '')[:40]!r} is not a phone number"
    if values.get("reason") and values["reason"] not in REASONS:
        return "reason", f"one of {', '.join(REASONS)}"
    try:
        expires = _when(values.get("expires_at", ""))
    except ValueError:
        return "expires_at", f"{values['expires_at'][:30]!r} is not a date (2027-01-31 or 2027-01-31T18:00+08:00)"
    if expires is not None and expires <= utcnow():
        return "expires_at", "in the past"
    return None


async def entries(session: AsyncSession, *, normalized: str | None = None, before_id: int | None = None, limit: int = 50) -> list[DncEntry]:
    """The list, newest first: one number's entries (its normalised key), or a page before an entry id."""
    rows = select(DncEntry).order_by(DncEntry.id.desc()).limit(limit)
    if normalized is not None:
        rows = rows.where(DncEntry.normalized == normalized)
    if before_id is not None:
        rows = rows.where(DncEntry.id < before_id)
    return list(await session.scalars(rows))
