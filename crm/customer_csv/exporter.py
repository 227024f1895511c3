"""Export customers as CSV, a chunk of rows at a time in id order, so a million customers never sit in
memory at once. Numbers are written as the exporter's Disclosure shows them; every text cell is
made safe for spreadsheets. The columns are the import's (crm.customer_csv.columns)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm.customer_csv.columns import COLUMNS
from crm.models import Customer, User
from crm.privacy import Disclosure
from crm.spreadsheet import spreadsheet_safe

CHUNK = 2000
BOM = "\ufeff"  # spreadsheet programs read the Chinese names as UTF-8 only with it


@dataclass(frozen=True)
class ExportFilter:
    grade: str | None = None
    region: str | None = None
    customer_type: str | None = None
    tag: str | None = None

    def where(self) -> ColumnElement[bool]:
        clauses = []
        if self.grade:
            clauses.append(Customer.grade == self.grade)
        if self.region:
            clauses.append(Customer.region == self.region)
        if self.customer_type:
            clauses.append(Customer.customer_type == self.customer_type)
        return and_(true(), *clauses)

    def wants(self, customer: Customer) -> bool:
        """The tag filter, applied to the rows read (tags are a JSON list on both databases)."""
        return not self.tag or self.tag in customer.tags

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


async def count(session: AsyncSession, chosen: ExportFilter) -> int:
    """How many customers the filter picks (the tag filter aside): for the audit entry written before the file."""
    return await session.scalar(select(func.count()).select_from(Customer).where(chosen.where())) or 0


def _line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()


def header() -> str:
    return BOM + _line([c.key for c in COLUMNS])


def _cells(customer: Customer, shown: Disclosure, owners: dict[int, str]) -> list[Any]:
    values: dict[str, Any] = {
        "phones": "; ".join(shown.phone(p.number) or "" for p in customer.phones),
        "grade": customer.grade.value,
        "tags": "; ".join(customer.tags),
        "owner": owners.get(customer.owner_id, "") if customer.owner_id else "",
        "key_account": "true" if customer.key_account else "false",
        "at_risk": "true" if customer.at_risk else "false",
        "created_at": customer.created_at.isoformat(),
    }
    return [values[c.field] if c.field in values else getattr(customer, c.field) for c in COLUMNS]


def _page(chosen: ExportFilter, after: int) -> Select[tuple[Customer]]:
    return (
        select(Customer).where(chosen.where(), Customer.id > after).options(selectinload(Customer.phones))
        .order_by(Customer.id).limit(CHUNK)
    )  # fmt: skip


async def rows(session: AsyncSession, chosen: ExportFilter, shown: Disclosure) -> AsyncIterator[tuple[str, int]]:
    """The file after its header, a chunk of CSV text at a time, with how many customers it holds."""
    after, owners = 0, {}
    while True:
        customers = list(await session.scalars(_page(chosen, after)))
        if not customers:
            return
        after = customers[-1].id
        missing = {c.owner_id for c in customers if c.owner_id and c.owner_id not in owners}
        if missing:
            owners.update({row.id: row.username for row in await session.execute(select(User.id, User.username).where(User.id.in_(missing)))})
        picked = [c for c in customers if chosen.wants(c)]
        yield "".join(_line(_cells(c, shown, owners)) for c in picked), len(picked)
        session.expunge_all()  # a million customers are read, not kept
