"""CSV import of 100,000 customers (issue 14), on SQLite and PostgreSQL: our import
(crm.customer_csv.importer: every row checked with the registration's rules, numbers normalised and
compared with the file and the CRM, then all written in one transaction) and its dry run, against
two peers on the same file in the same run: the raw driver loading the already-split rows with no
checks at all (sqlite3 executemany / asyncpg COPY: the floor the database sets), and the naive ORM
import (one validated Customer added and flushed per row, as a loop over POST /api/customers
would), timed on the first 5,000 rows and reported per row."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import sqlite3
import time
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.databases import on_both
from bench.report import Section
from crm.customer_csv.importer import import_customers
from crm.customer_form import NewCustomer
from crm.db import create_engine, session_factory
from crm.models import Customer, CustomerPhone
from crm.phones import normalize_phone

ROWS = 100_000
QUICK_ROWS = 10_000
NAIVE_ROWS = 5_000
HEADER = ["客户名称", "电话", "公司", "客户等级", "客户类型", "区域", "年销售额", "标签"]


def make_file(count: int) -> bytes:
    """``count`` customers as a center's spreadsheet would give them: Chinese headers, numbers written
    several ways, one customer in five with a second number."""
    rng = random.Random(14)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(count):
        digits = f"13{i:09d}"
        number = rng.choice([digits, f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"0086{digits}"])
        phones = number + (f"; 0755-{2000_0000 + i}" if i % 5 == 0 else "")
        writer.writerow([f"客户{i}", phones, f"公司{i % 997}", "ABCD"[i % 4], "existing", ["北京", "上海", "广州", "深圳"][i % 4],
                         f"{rng.randrange(10**7):,}", "批量;导入"])  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode()


def _split(data: bytes) -> tuple[list[tuple], list[tuple]]:
    """The peer's rows: split as they stand, nothing checked or normalised beyond the one key the table needs."""
    now = datetime.now(UTC)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    customers, phones, phone_id = [], [], 0
    for i, row in enumerate(rows, start=1):
        customers.append((i, row[0], row[2], row[3], row[5], row[4], int(row[6].replace(",", "")), False, False, "", "[]", now, now))
        for number in row[1].split(";"):
            phone_id += 1
            phones.append((phone_id, i, number.strip(), "+86" + "".join(c for c in number if c.isdigit())[-11:], ""))
    return customers, phones


CUSTOMER_COLUMNS = ["id", "name", "company", "grade", "region", "customer_type", "annual_sales", "key_account", "at_risk", "notes", "tags",
                    "created_at", "updated_at"]  # fmt: skip
PHONE_COLUMNS = ["id", "customer_id", "number", "normalized", "label"]


def _raw_sqlite(path: str, customers: list[tuple], phones: list[tuple]) -> None:
    db = sqlite3.connect(path)
    stamp = lambda row: (*row[:11], row[11].isoformat(" "), row[12].isoformat(" "))  # noqa: E731
    with db:
        db.executemany(f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) VALUES ({', '.join('?' * 13)})", map(stamp, customers))
        db.executemany(f"INSERT INTO customer_phones ({', '.join(PHONE_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", phones)
    db.close()


async def _raw_postgres(url: str, customers: list[tuple], phones: list[tuple]) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(user=parsed.username, password=parsed.password, host=parsed.host, port=parsed.port, database=parsed.database)
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("customers", records=customers, columns=CUSTOMER_COLUMNS)
            await connection.copy_records_to_table("customer_phones", records=phones, columns=PHONE_COLUMNS)
    finally:
        await connection.close()


async def _naive(url: str, data: bytes, count: int) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1 : count + 1]
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            for row in rows:
                form = NewCustomer(name=row[0], phones=[p for p in row[1].split(";") if p.strip()], company=row[2], grade=row[3],
                                   customer_type=row[4], region=row[5], annual_sales=int(row[6].replace(",", "")), tags=row[7].split(";"))  # fmt: skip
                phones = [CustomerPhone(number=p, normalized=normalize_phone(p)) for p in form.phones]
                session.add(Customer(**form.model_dump(exclude={"phones"}), phones=phones))
                await session.flush()
    finally:
        await engine.dispose()


async def _counted(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            customers = await session.scalar(select(func.count()).select_from(Customer))
            phones = await session.scalar(select(func.count()).select_from(CustomerPhone))
            return customers or 0, phones or 0
    finally:
        await engine.dispose()


async def _ours(url: str, data: bytes, dry_run: bool) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            report = await import_customers(session, data, dry_run=dry_run, default_region="CN", queues=set(), registered_by=None)
    finally:
        await engine.dispose()
    assert report.rejected_rows == 0, report.rejected[:3]
    return report.valid


async def run_one(kind: str, fresh, data: bytes, count: int, section: Section) -> None:  # type: ignore[no-untyped-def]
    """``fresh()`` gives the URL of a new, migrated, empty database."""
    customers, phones = _split(data)
    results: dict[str, float] = {}

    url = await fresh()
    started = time.perf_counter()
    assert await _ours(url, data, dry_run=True) == count
    results["ours, dry run (checks only)"] = time.perf_counter() - started
    assert await _counted(url) == (0, 0)  # a dry run writes nothing

    started = time.perf_counter()
    assert await _ours(url, data, dry_run=False) == count
    results["ours, import"] = time.perf_counter() - started
    assert await _counted(url) == (count, len(phones))  # the work was done

    url = await fresh()
    started = time.perf_counter()
    if kind == "SQLite":
        await asyncio.to_thread(_raw_sqlite, make_url(url).database or "", customers, phones)
    else:
        await _raw_postgres(url, customers, phones)
    results[f"peer: raw {'sqlite3 executemany' if kind == 'SQLite' else 'asyncpg COPY'}, no checks"] = time.perf_counter() - started
    assert (await _counted(url))[0] == count

    url = await fresh()
    naive = min(NAIVE_ROWS, count)
    started = time.perf_counter()
    await _naive(url, data, naive)
    naive_s = (time.perf_counter() - started) * count / naive
    assert (await _counted(url))[0] == naive
    results[f"peer: ORM, a flush per row ({naive:,} rows, scaled)"] = naive_s

    for name, seconds in results.items():
        section.rows.append([kind, f"{count:,}", name, f"{seconds:.1f}", f"{count / seconds:,.0f}"])
    ours, raw = results["ours, import"], next(v for k, v in results.items() if k.startswith("peer: raw"))
    section.notes.append(f"- {kind}: our import takes {ours / raw:.1f}× the raw driver's unchecked load and is "
                         f"{naive_s / ours:.1f}× faster than a flush per row.")  # fmt: skip


async def run(postgres_admin_url: str | None, make_database, quick: bool = False) -> Section:  # type: ignore[no-untyped-def]
    """``make_database()`` gives the URL of a new empty PostgreSQL database (None without PostgreSQL)."""
    count = QUICK_ROWS if quick else ROWS
    data = make_file(count)
    section = Section(
        title="Customer CSV import",
        intro=(f"{count:,} customers ({len(data) / 2**20:.1f} MiB of CSV: Chinese headers, numbers written three ways, one in five "
               "with a second number), into an empty CRM. Seconds for the whole file and rows per second."),  # fmt: skip
        header=["database", "rows", "import", "seconds", "rows/s"],
    )
    await on_both(section, postgres_admin_url, make_database, lambda kind, fresh: run_one(kind, fresh, data, count, section))
    return section
