"""Customer grade and risk changes (crm.grading): agents propose, leaders and supervisors decide;
the customer's history of them. Who decides which is crm.access's."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, SESSIONS, STAFF, actor, endpoint, path_id
from agent_ui.auth import json_error
from crm import audit, grading
from crm.access import Scope
from crm.customer_form import Risk
from crm.customers import names_of
from crm.models import Customer, CustomerChange, CustomerGrade, Role, User
from crm.users import display_names

LEADERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    grade: CustomerGrade | None = None
    at_risk: bool | None = Field(default=None, description="危险客户")
    risk: Risk | None = Field(default=None, description="with at_risk true: the risk's type, level, action and amount owed (危险客户统计表)")
    reason: str = Field(min_length=1, max_length=2000, description="变动原因: why (sales, payment record, complaints …)")

    @model_validator(mode="after")
    def _something(self) -> Proposal:
        if self.grade is None and self.at_risk is None:
            raise ValueError("propose a grade or at_risk")
        return self


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approve: bool
    note: str = Field(default="", max_length=2000)


class ChangeQuery(BaseModel):
    state: Literal["pending", "approved", "rejected", "all"] = "pending"
    limit: int = Field(default=50, ge=1, le=200)


async def changes_json(session: AsyncSession, changes: list[CustomerChange]) -> list[dict[str, Any]]:
    names = await display_names(session, {i for c in changes for i in (c.proposed_by, c.decided_by)})
    customers = await names_of(session, {c.customer_id for c in changes})
    return [
        {
            "id": c.id, "customer_id": c.customer_id, "customer_name": customers.get(c.customer_id), "field": c.field,
            "before": c.before, "after": c.after, "reason": c.reason, "status": c.status,
            "proposed_by": names.get(c.proposed_by or 0), "proposed_at": c.proposed_at.isoformat(),
            "decided_by": names.get(c.decided_by or 0), "decided_at": c.decided_at.isoformat() if c.decided_at else None,
            "decision_note": c.decision_note, "risk": c.detail or None,
        }
        for c in changes
    ]  # fmt: skip


CUSTOMER_PATH = {"id": "the customer's id"}


@endpoint(*STAFF, summary="Propose a customer's grade or risk change, with the reason", body=Proposal, answer=answers.GradeChanges,
          status=201, path=CUSTOMER_PATH, notes="Pending until a team leader (their team's proposals), supervisor or admin decides.")  # fmt: skip
async def propose(request: web.Request, user: User, body: Proposal) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        customer = await session.get(Customer, path_id(request))
        if customer is None:
            raise json_error(404, "no such customer")
        wanted = {name: value for name, value in (("grade", body.grade), ("at_risk", body.at_risk)) if value is not None}
        try:
            made = grading.propose(session, customer, wanted, body.reason, actor=user, risk=body.risk.model_dump() if body.risk else None)
        except grading.ChangeError as error:
            raise json_error(400, str(error)) from None
        await session.flush()
        audit.record(session, actor(request, user), "customer.proposed", "customer", customer.id, fields=sorted(wanted))
        payload = {"changes": await changes_json(session, made)}
    return web.json_response(payload, status=201)


@endpoint(*EVERYONE, summary="A customer's grade and risk changes: proposed, approved, rejected (the grade history)",
          answer=answers.GradeChanges, path=CUSTOMER_PATH)  # fmt: skip
async def customer_history(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        if await session.get(Customer, path_id(request)) is None:
            raise json_error(404, "no such customer")
        return web.json_response({"changes": await changes_json(session, await grading.history(session, path_id(request)))})


@endpoint(*LEADERS, summary="Grade and risk proposals to decide", query=ChangeQuery, answer=answers.GradeChanges,
          notes="A team leader sees their team's proposals; supervisors and admins all.")  # fmt: skip
async def to_decide(request: web.Request, user: User, query: ChangeQuery) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await grading.proposals(session, Scope.of(user).customer_changes(), query.state, query.limit)
        return web.json_response({"changes": await changes_json(session, rows)})


@endpoint(*LEADERS, summary="Approve or reject a grade or risk proposal", body=Decision, answer=answers.GradeChanges,
          path={"id": "the proposal's id"}, errors={409: "already decided, or the customer changed since it was proposed"},
          notes="Approving applies it to the customer; both are in the audit log.")  # fmt: skip
async def decide(request: web.Request, user: User, body: Decision) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        change = await grading.visible_proposal(session, Scope.of(user).customer_changes(), path_id(request))
        if change is None:
            raise json_error(404, "no such proposal of your team's")
        customer = await session.get(Customer, change.customer_id)
        assert customer is not None  # the proposal goes with its customer (ON DELETE CASCADE)
        try:
            grading.decide(customer, change, body.approve, body.note, actor=user)
        except grading.ChangeError as error:
            raise json_error(409, str(error)) from None
        audit.record(session, actor(request, user), "customer.approved" if body.approve else "customer.rejected", "customer", customer.id,
                     change_id=change.id, field=change.field, after=change.after)  # fmt: skip
        await session.flush()
        payload = {"changes": await changes_json(session, [change])}
    return web.json_response(payload)


def routes(app: web.Application) -> None:
    app.router.add_post("/api/customers/{id}/changes", propose)
    app.router.add_get("/api/customers/{id}/changes", customer_history)
    app.router.add_get("/api/customer-changes", to_decide)
    app.router.add_post("/api/customer-changes/{id}/decision", decide)
