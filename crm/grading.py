"""Customer grade and risk changes (handbook §1.4, §5.6 客户等级分类表): agents propose, a team leader
(for their team's proposals), supervisor or admin approves or rejects, with the reason and who; a
leader or supervisor may also set one directly. Every change, proposed or set, is a row, and the
approved rows are the grade history. Who may decide is crm.access's."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.models import Customer, CustomerChange, CustomerGrade, User

FIELDS = ("grade", "at_risk")


class ChangeError(ValueError):
    """A change that cannot be proposed or decided as asked."""


def _text(field: str, value: object) -> str:
    if field == "at_risk":
        return "true" if value else "false"
    return CustomerGrade(value).value


def current(customer: Customer, field: str) -> str:
    return _text(field, getattr(customer, field))


def _apply(customer: Customer, field: str, after: str, detail: dict[str, object]) -> None:
    """Set the field; a customer who becomes 危险客户 takes the risk's type, level and action, and
    since when; one who stops being one has none."""
    if field != "at_risk":
        customer.grade = CustomerGrade(after)
        return
    customer.at_risk = after == "true"
    customer.risk_type, customer.risk_level, customer.risk_action = (
        (detail.get("type"), detail.get("level"), detail.get("action")) if customer.at_risk else (None, None, None)
    )  # fmt: skip
    if not customer.at_risk:
        customer.risk_since = None
    elif customer.risk_since is None:
        customer.risk_since = utcnow()  # a reassessed risk keeps the date it was found


def _risk_of(customer: Customer) -> dict[str, object]:
    return {"type": customer.risk_type, "level": customer.risk_level, "action": customer.risk_action}


def risk_detail(wanted: dict[str, object], risk: dict[str, object] | None) -> dict[str, object]:
    """The risk a change to 危险客户 must carry, and none for any other change."""
    if wanted.get("at_risk") is True and not risk:
        raise ChangeError("risk: a customer marked 危险客户 needs the risk's type, level and action")
    if risk and wanted.get("at_risk") is not True:
        raise ChangeError("risk: only with at_risk true")
    return dict(risk or {})


def propose(session: AsyncSession, customer: Customer, wanted: dict[str, object], reason: str, *, actor: User,
            risk: dict[str, object] | None = None) -> list[CustomerChange]:
    """Pending proposals, one per field that would change (a 危险客户 one with its ``risk``)."""
    if not reason.strip():
        raise ChangeError("reason: say why (变动原因)")
    detail = risk_detail(wanted, risk)
    changes = []
    for field, value in wanted.items():
        after = _text(field, value)
        if after == current(customer, field):
            continue
        change = CustomerChange(customer_id=customer.id, field=field, before=current(customer, field), after=after, reason=reason.strip(),
                                proposed_by=actor.id, proposed_at=utcnow(), detail=detail if field == "at_risk" else {})  # fmt: skip
        session.add(change)
        changes.append(change)
    if not changes:
        raise ChangeError("nothing would change: the customer already has these values")
    return changes


def set_directly(session: AsyncSession, customer: Customer, field: str, value: object, reason: str, *, actor: User,
                 risk: dict[str, object] | None = None) -> CustomerChange | None:
    """A leader's or supervisor's own change: applied, and kept in the history as approved by them."""
    detail = risk_detail({field: value}, risk) if field == "at_risk" else {}
    after = _text(field, value)
    before = current(customer, field)
    if after == before and not (detail and _risk_of(customer) != {k: detail.get(k) for k in ("type", "level", "action")}):
        return None  # nothing changes (a 危险客户 whose risk is reassessed does change)
    now = utcnow()
    change = CustomerChange(customer_id=customer.id, field=field, before=before, after=after, reason=reason.strip(), proposed_by=actor.id,
                            proposed_at=now, status="approved", decided_by=actor.id, decided_at=now, detail=detail)  # fmt: skip
    session.add(change)
    _apply(customer, field, after, detail)
    return change


def decide(customer: Customer, change: CustomerChange, approve: bool, note: str, *, actor: User) -> None:
    if change.status != "pending":
        raise ChangeError(f"already {change.status}")
    if approve and current(customer, change.field) != change.before:
        raise ChangeError(f"stale: the customer's {change.field} is now {current(customer, change.field)}, not {change.before}; propose again")
    change.status, change.decided_by, change.decided_at, change.decision_note = ("approved" if approve else "rejected"), actor.id, utcnow(), note.strip()
    if approve:
        _apply(customer, change.field, change.after, change.detail)


async def history(session: AsyncSession, customer_id: int) -> list[CustomerChange]:
    return list(await session.scalars(select(CustomerChange).where(CustomerChange.customer_id == customer_id).order_by(CustomerChange.id.desc())))


async def proposals(session: AsyncSession, seen: ColumnElement[bool], state: str, limit: int) -> list[CustomerChange]:
    """The proposals ``seen`` (crm.access Scope) lets the user decide, newest first; ``state`` all or one status."""
    rows = select(CustomerChange).where(seen).order_by(CustomerChange.id.desc()).limit(limit)
    if state != "all":
        rows = rows.where(CustomerChange.status == state)
    return list(await session.scalars(rows))


async def visible_proposal(session: AsyncSession, seen: ColumnElement[bool], change_id: int) -> CustomerChange | None:
    return await session.scalar(select(CustomerChange).where(CustomerChange.id == change_id, seen))
