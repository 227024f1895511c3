"""The grade the rule gives each customer (config.grading) and the proposals that bring the customers
whose grade differs in line: pending changes, as an agent's would be, for a supervisor to decide
(crm.grading). The rule proposes; it never changes a grade by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.grading import GradingSettings
from crm.db import utcnow
from crm.models import Call, Customer, CustomerChange, CustomerGrade

ORDER = ("A", "B", "C", "D")  # best first
CHUNK = 1000


def earned(settings: GradingSettings, annual_sales: int | None, calls: int, risk_type: str | None) -> tuple[str, str]:
    """The grade a customer's figures earn, and why (the 变动原因 of the proposal)."""
    sales = annual_sales or 0
    grade, why = settings.otherwise_grade, "no rule met"
    for rule in settings.rules:
        if sales >= rule.min_annual_sales and calls >= rule.min_calls:
            grade, why = rule.grade, f"annual sales {sales:,} ≥ {rule.min_annual_sales:,}, {calls} answered calls ≥ {rule.min_calls}"
            break
    cap = settings.litigation_at_most
    if risk_type == "litigation" and cap is not None and ORDER.index(grade) < ORDER.index(cap):
        grade, why = cap, f"{why}; at most {cap} while in litigation (涉诉)"
    return grade, f"grade rule: {why} (last {settings.calls_window_days} days)"


@dataclass
class Regrading:
    customers: int = 0
    proposed: int = 0
    unchanged: int = 0
    already_pending: int = 0


async def regrade(session: AsyncSession, settings: GradingSettings, *, dry_run: bool = False) -> Regrading:
    """Propose the rule's grade for every customer whose grade differs from it and who has no grade
    proposal pending; a chunk of customers at a time."""
    since = utcnow() - timedelta(days=settings.calls_window_days)
    result, after = Regrading(), 0
    while True:
        customers = list(await session.scalars(select(Customer).where(Customer.id > after).order_by(Customer.id).limit(CHUNK)))
        if not customers:
            return result
        after = customers[-1].id
        ids = [c.id for c in customers]
        calls = dict((await session.execute(
            select(Call.customer_id, func.count()).where(Call.customer_id.in_(ids), Call.answered_at.is_not(None), Call.started_at >= since)
            .group_by(Call.customer_id)
        )).all())  # fmt: skip
        pending = set(await session.scalars(
            select(CustomerChange.customer_id).where(CustomerChange.customer_id.in_(ids), CustomerChange.field == "grade",
                                                     CustomerChange.status == "pending")
        ))  # fmt: skip
        for customer in customers:
            result.customers += 1
            grade, why = earned(settings, customer.annual_sales, calls.get(customer.id, 0), customer.risk_type)
            if grade == customer.grade.value:
                result.unchanged += 1
            elif customer.id in pending:
                result.already_pending += 1
            else:
                result.proposed += 1
                if not dry_run:
                    session.add(CustomerChange(customer_id=customer.id, field="grade", before=customer.grade.value, after=CustomerGrade(grade).value,
                                               reason=why, proposed_by=None, proposed_at=utcnow()))  # fmt: skip
        await session.flush()
        session.expunge_all()
