"""Reports on the customer base (handbook §5.7 客户区域分类表, §5.8 危险客户统计表): customers by region
and grade with their sales, and the customers marked at risk with their risk and who found it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Customer, CustomerChange, CustomerGrade
from crm.users import display_names


async def region_report(session: AsyncSession) -> list[dict[str, Any]]:
    """One row per region (as registered; '' for none): customers, how many of each grade, key
    accounts, at risk, and the sum and share of their annual sales."""
    grades = [func.sum(case((Customer.grade == grade, 1), else_=0)).label(grade.value) for grade in CustomerGrade]
    rows = (await session.execute(
        select(Customer.region, func.count().label("customers"), *grades,
               func.sum(Customer.key_account.cast(Integer)).label("key_accounts"), func.sum(Customer.at_risk.cast(Integer)).label("at_risk"),
               func.coalesce(func.sum(Customer.annual_sales), 0).label("annual_sales"))
        .group_by(Customer.region).order_by(Customer.region)
    )).all()  # fmt: skip
    total_sales = sum(int(row.annual_sales) for row in rows) or 1
    return [
        {"region": row.region, "customers": row.customers, **{f"grade_{g.value}": int(getattr(row, g.value) or 0) for g in CustomerGrade},
         "key_accounts": int(row.key_accounts or 0), "at_risk": int(row.at_risk or 0), "annual_sales": int(row.annual_sales),
         "sales_share": round(int(row.annual_sales) / total_sales, 4)}
        for row in rows
    ]  # fmt: skip


async def at_risk_report(session: AsyncSession) -> list[dict[str, Any]]:
    """The customers marked 危险客户 now: grade, region, the risk's type, level and action, since when,
    who found it (proposed the change) and who approved it, the amount owed, the account's owner."""
    customers = list(await session.scalars(select(Customer).where(Customer.at_risk).order_by(Customer.risk_since.desc(), Customer.id)))
    latest = (
        select(CustomerChange.customer_id, func.max(CustomerChange.id).label("id"))
        .where(CustomerChange.field == "at_risk", CustomerChange.after == "true", CustomerChange.status == "approved",
               CustomerChange.customer_id.in_([c.id for c in customers]))
        .group_by(CustomerChange.customer_id).subquery()
    )  # fmt: skip
    changes = {c.customer_id: c for c in await session.scalars(select(CustomerChange).join(latest, CustomerChange.id == latest.c.id))}
    names = await display_names(session, {c.owner_id for c in customers} | {i for c in changes.values() for i in (c.proposed_by, c.decided_by)})
    rows = []
    for customer in customers:
        change = changes.get(customer.id)
        rows.append({
            "customer_id": customer.id, "name": customer.name, "grade": customer.grade.value, "region": customer.region,
            "risk_type": customer.risk_type, "risk_level": customer.risk_level, "risk_action": customer.risk_action,
            "since": customer.risk_since.isoformat() if customer.risk_since else None,
            "found_by": names.get(change.proposed_by) if change and change.proposed_by else None,
            "approved_by": names.get(change.decided_by) if change and change.decided_by else None,
            "amount_owed": (change.detail or {}).get("amount_owed") if change else None,
            "reason": change.reason if change else "",
            "owner": names.get(customer.owner_id) if customer.owner_id else None,
        })  # fmt: skip
    return rows
