"""Where a campaign's numbers come from: a segment of the CRM's customers (grade, region, tag, open
tickets) or a CSV file (number, name; English or Chinese headers), checked row by row with a report
and loaded all or none."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.campaigns.store import NewContact
from crm.csv_files import ImportFileError, Report, decode
from crm.models import Customer, CustomerGrade, CustomerPhone, Ticket
from crm.phones import InvalidPhoneNumber, normalize_phone

MAX_CONTACTS = 200_000  # one load; a bigger list is loaded in parts
HEADERS = {"number": "number", "phone": "number", "电话": "number", "号码": "number", "name": "name", "姓名": "name", "客户名称": "name"}


@dataclass(frozen=True)
class Segment:
    """Customers to call: every condition given must hold. Each customer's first number is called."""

    grade: CustomerGrade | None = None
    region: str | None = None
    tag: str | None = None
    open_tickets: bool | None = None  # True: only those with a ticket still open; False: only those without

    def empty(self) -> bool:
        return self == Segment()


async def from_segment(session: AsyncSession, segment: Segment) -> list[NewContact]:
    first_phone = (
        select(CustomerPhone.number).where(CustomerPhone.customer_id == Customer.id).order_by(CustomerPhone.id).limit(1).scalar_subquery()
    )
    query = select(Customer.id, Customer.name, first_phone, Customer.tags).where(first_phone.is_not(None)).order_by(Customer.id)
    if segment.grade is not None:
        query = query.where(Customer.grade == segment.grade)
    if segment.region:
        query = query.where(Customer.region == segment.region)
    if segment.open_tickets is not None:
        open_ticket = exists().where(Ticket.customer_id == Customer.id, Ticket.closed_at.is_(None))
        query = query.where(open_ticket if segment.open_tickets else ~open_ticket)
    contacts = []
    for customer_id, name, number, tags in await session.execute(query):
        if segment.tag and segment.tag not in (tags or []):  # a JSON list: filtered here, alike on both databases
            continue
        contacts.append(NewContact(number=number, name=name, customer_id=customer_id))
        if len(contacts) >= MAX_CONTACTS:
            break
    return contacts


def read_file(data: bytes, region: str) -> tuple[list[NewContact], Report]:
    """The contacts of a CSV file and the report of its rows; blocking (call it in a thread)."""
    report = Report()
    rows = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"line 1: {error}") from None
    columns = [HEADERS.get(name.strip().lower().lstrip("\ufeff"), "") for name in header]
    if "number" not in columns:
        raise ImportFileError("the first line must name a number column (number, phone, 电话 or 号码)")
    contacts: list[NewContact] = []
    try:
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            report.rows += 1
            values = {column: cell.strip() for column, cell in zip(columns, row, strict=False) if column}
            number = values.get("number", "")
            try:
                normalize_phone(number, region)
            except InvalidPhoneNumber:
                report.rejected_rows += 1
                report.reject(line, "number", f"{number[:40]!r} is not a phone number")
                continue
            if report.rows > MAX_CONTACTS:
                raise ImportFileError(f"more than {MAX_CONTACTS} rows: load the list in parts")
            contacts.append(NewContact(number=number[:40], name=values.get("name", "")[:200]))
    except csv.Error as error:
        raise ImportFileError(f"line {rows.line_num}: {error}") from None
    return contacts, report


async def from_file(data: bytes, region: str) -> tuple[list[NewContact], Report]:
    return await asyncio.to_thread(read_file, data, region)
