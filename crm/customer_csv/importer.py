"""Import customers from CSV: every row checked first, then all of them written in one transaction,
or none. A dry run stops after the checks and says what an import would do.

A row is checked alone with the registration's own rules (crm.customer_form), its numbers
normalised; then against the rows before it (the same number twice) and the CRM (a number a
customer already has, an owner who is no staff user). Each problem is reported with its line and
column, and one bad row never stops the checks of the rows behind it. The reading and checking is
plain CPU work: callers in an event loop run ``read_rows`` in a thread (``import_customers`` does).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer_csv.columns import Column, HeaderError, cell_value, map_header
from crm.csv_files import ImportFileError, Report, decode
from crm.customer_form import NewCustomer
from crm.models import Customer, CustomerPhone, Role, User
from crm.phones import InvalidPhoneNumber, normalize_phone

CHUNK = 1000  # rows per INSERT and per look-up of numbers in the CRM
MAX_COLUMNS = 64
MAX_CELL = 10_000  # characters; the longest field (notes) takes 5,000

Progress = Callable[[str, int], None]  # (phase: read | compared | written, how many more rows)


@dataclass
class Candidate:
    """A row that passed its own checks: the customer's fields, its numbers and its owner's name."""

    line: int
    fields: dict[str, Any]
    phones: list[tuple[str, str]]  # (as written, normalised)
    owner: str


def read_rows(data: bytes, *, default_region: str, queues: set[str], report: Report, progress: Progress | None = None) -> list[Candidate]:
    """Each row's own checks and the numbers repeated within the file; the rows that pass them."""
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("the file is empty: the first line names the columns")
        if len(header) > MAX_COLUMNS:
            raise ImportFileError(f"{len(header)} columns: a customers file has at most {MAX_COLUMNS}")
        columns = map_header(header)
        candidates: list[Candidate] = []
        first_line_of: dict[str, int] = {}
        seen = 0
        for cells in reader:
            seen += 1
            if progress is not None and seen % CHUNK == 0:
                progress("read", CHUNK)
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            candidate = _check_row(reader.line_num, cells, columns, default_region, queues, report)
            if candidate is None:
                continue
            repeated = [(n, first_line_of[key]) for n, key in candidate.phones if key in first_line_of]
            for number, line in repeated:
                report.reject(candidate.line, "phones", f"{number} is also on line {line}")
            if repeated:
                report.rejected_rows += 1
                continue
            first_line_of.update({key: candidate.line for _, key in candidate.phones})
            candidates.append(candidate)
        if progress is not None:
            progress("read", seen % CHUNK)
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    except HeaderError as error:
        raise ImportFileError(f"the header: {error}") from None
    return candidates


def _check_row(line: int, cells: list[str], columns: list[Column | None], region: str, queues: set[str], report: Report) -> Candidate | None:
    problems: list[tuple[str, str]] = []
    if len(cells) > len(columns):
        problems.append(("", f"{len(cells)} cells for {len(columns)} columns"))
    values: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        if column is None:
            continue
        if len(cell) > MAX_CELL:
            problems.append((column.key, f"longer than {MAX_CELL} characters"))
            continue
        try:
            values[column.field] = cell_value(column, cell)
        except ValueError as error:
            problems.append((column.key, str(error)))
    owner = str(values.pop("owner", "") or "")
    phones: list[tuple[str, str]] = []
    for number in values.get("phones", []):  # every problem of the row at once: the numbers too
        try:
            key = normalize_phone(number, region)
        except InvalidPhoneNumber:
            problems.append(("phones", f"{number[:40]!r} is not a phone number"))
            continue
        if key not in {k for _, k in phones}:
            phones.append((number, key))
    try:
        form = NewCustomer.model_validate(values)
    except ValidationError as error:
        problems += [(".".join(str(p) for p in e["loc"]) or "row", e["msg"]) for e in error.errors()]
    else:
        if form.preferred_queue and form.preferred_queue not in queues:
            problems.append(("preferred_queue", f"unknown queue {form.preferred_queue!r}"))
        values = form.model_dump(exclude={"phones"})
    if problems:
        report.rejected_rows += 1
        for column, reason in problems:
            report.reject(line, column, reason)
        return None
    return Candidate(line, values, phones, owner)


async def check_against_crm(session: AsyncSession, candidates: list[Candidate], report: Report, progress: Progress | None = None) -> list[Candidate]:
    """The candidates whose numbers no customer has yet and whose owner is a staff user."""
    taken: dict[str, int] = {}
    for start in range(0, len(candidates), CHUNK):
        keys = {key for c in candidates[start : start + CHUNK] for _, key in c.phones}
        rows = await session.execute(select(CustomerPhone.normalized, CustomerPhone.customer_id).where(CustomerPhone.normalized.in_(keys)))
        taken.update({normalized: customer for normalized, customer in rows})
        if progress is not None:
            progress("compared", min(CHUNK, len(candidates) - start))
    names = {c.owner for c in candidates if c.owner}
    owners = {}
    if names:
        rows = await session.execute(select(User.username, User.id).where(User.username.in_(names), User.active, User.role != Role.QA_INSPECTOR))
        owners = {username: user_id for username, user_id in rows}
    kept = []
    for candidate in candidates:
        problems = [("phones", f"{number} is already customer {taken[key]}") for number, key in candidate.phones if key in taken]
        candidate.fields["owner_id"] = owners.get(candidate.owner)  # every row has the same keys: one batched INSERT
        if candidate.owner and candidate.owner not in owners:
            problems.append(("owner", f"no active staff user {candidate.owner[:64]!r}"))
        if problems:
            report.rejected_rows += 1
            for column, reason in problems:
                report.reject(candidate.line, column, reason)
        else:
            kept.append(candidate)
    return kept


async def _insert_customers(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the customers; their new ids, in the rows' order."""
    table = Customer.__table__
    if session.bind.dialect.name != "sqlite":  # PostgreSQL returns the ids of one batched INSERT in order
        return list(await session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    # SQLite would insert one row per statement to promise that order. The first row's INSERT takes
    # the database's single write lock, held to the commit: no one else inserts before this
    # transaction ends, so the rows after it take the next ids as SQLite itself would give them.
    first = await session.scalar(insert(table).returning(table.c.id), rows[0])
    ids = list(range(first, first + len(rows)))
    if len(rows) > 1:
        await session.execute(insert(table), [{**row, "id": row_id} for row, row_id in zip(rows[1:], ids[1:], strict=True)])
    return ids


async def write(session: AsyncSession, candidates: list[Candidate], registered_by: int | None, progress: Progress | None = None) -> int:
    """Insert the customers and their numbers, a chunk at a time, in the session's transaction."""
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        ids = await _insert_customers(session, [{**c.fields, "registered_by": registered_by} for c in chunk])
        phones = [
            {"customer_id": customer_id, "number": number, "normalized": key}
            for customer_id, candidate in zip(ids, chunk, strict=True)
            for number, key in candidate.phones
        ]
        await session.execute(insert(CustomerPhone.__table__), phones)
        if progress is not None:
            progress("written", len(chunk))
    return len(candidates)


async def import_customers(
    session: AsyncSession, data: bytes, *, dry_run: bool, default_region: str, queues: set[str], registered_by: int | None,
    progress: Progress | None = None,
) -> Report:
    """Check every row and, unless this is a dry run or a row was rejected, write them all (in the
    session's transaction: the caller commits). ImportFileError for a file that cannot be read."""
    report = Report(dry_run=dry_run)
    candidates = await asyncio.to_thread(read_rows, data, default_region=default_region, queues=queues, report=report, progress=progress)
    candidates = await check_against_crm(session, candidates, report, progress)
    if not dry_run and report.rejected_rows == 0:
        report.imported = await write(session, candidates, registered_by, progress)
    return report
