"""A campaign's figures (docs/kpis.md, "Outbound campaigns"): its list, its attempts, 接通率 (the
share of dialled attempts the customer answered; the handbook's standard for outbound is 60%), the
contacts reached, attempts per contact, talk time; and per agent, with the agents' result codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.campaigns.store import NOT_DIALLED
from crm.models import Call, Campaign, CampaignAttempt, CampaignContact, User

CONNECT_STANDARD = 0.60  # handbook: outbound connection rate ≥ 60%


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def campaign_rows(session: AsyncSession, campaign_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """One row per campaign (all, or those named), newest first."""
    query = select(Campaign).order_by(Campaign.id.desc())
    if campaign_ids is not None:
        query = query.where(Campaign.id.in_(campaign_ids))
    campaigns = list(await session.scalars(query))
    ids = [c.id for c in campaigns]
    contacts = {
        row.campaign_id: row
        for row in await session.execute(
            select(
                CampaignContact.campaign_id,
                func.count().label("records"),
                func.sum(case((CampaignContact.status == "pending", 1), else_=0)).label("pending"),
                func.sum(case((CampaignContact.status == "done", 1), else_=0)).label("done"),
                func.sum(case((CampaignContact.attempts > 0, 1), else_=0)).label("contacts_dialled"),
                func.sum(case((CampaignContact.outcome == "connected", 1), else_=0)).label("reached"),
                func.sum(case((CampaignContact.outcome == "dnc", 1), else_=0)).label("dnc"),
                func.sum(CampaignContact.attempts).label("attempts"),
            ).where(CampaignContact.campaign_id.in_(ids)).group_by(CampaignContact.campaign_id)
        )
    }  # fmt: skip
    outcomes: dict[int, dict[str, int]] = {}
    for campaign_id, outcome, count in await session.execute(
        select(CampaignAttempt.campaign_id, CampaignAttempt.outcome, func.count())
        .where(CampaignAttempt.campaign_id.in_(ids), CampaignAttempt.outcome.is_not(None), CampaignAttempt.outcome != NOT_DIALLED)
        .group_by(CampaignAttempt.campaign_id, CampaignAttempt.outcome)
    ):
        outcomes.setdefault(campaign_id, {})[outcome] = count
    talk = dict(
        (await session.execute(select(Call.campaign_id, func.sum(Call.talk_s)).where(Call.campaign_id.in_(ids)).group_by(Call.campaign_id))).all()
    )
    rows = []
    for campaign in campaigns:
        c = contacts.get(campaign.id)
        by_outcome = outcomes.get(campaign.id, {})
        dialled = sum(by_outcome.values())
        connected = by_outcome.get("connected", 0) + by_outcome.get("callback", 0)  # a callback was asked for on an answered call
        contacts_dialled = int(c.contacts_dialled or 0) if c else 0
        rate = _rate(connected, dialled)
        rows.append({
            "campaign_id": campaign.id, "name": campaign.name, "call_type": campaign.call_type, "mode": campaign.mode,
            "status": campaign.status, "records": int(c.records) if c else 0, "pending": int(c.pending or 0) if c else 0,
            "done": int(c.done or 0) if c else 0, "dialled": dialled, "connected": connected, "connect_rate": rate,
            "meets_standard": None if rate is None else rate >= CONNECT_STANDARD,
            "no_answer": by_outcome.get("no_answer", 0), "busy": by_outcome.get("busy", 0), "failed": by_outcome.get("failed", 0),
            "callback": by_outcome.get("callback", 0), "dnc": int(c.dnc or 0) if c else 0,
            "contacts_dialled": contacts_dialled, "reached": int(c.reached or 0) if c else 0,
            "attempts_per_contact": round(dialled / contacts_dialled, 2) if contacts_dialled else None,
            "talk_s": round(float(talk.get(campaign.id) or 0.0), 1),
        })  # fmt: skip
    return rows


async def agent_rows(session: AsyncSession, campaign_id: int, agent_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """One row per agent who had the campaign's calls (all, or those in ``agent_ids``): calls, connected,
    talk time, and a ``code:<code>`` column per result code the agents gave (the record form's)."""
    query = (
        select(Call.agent_id, User.username, User.extension, Call.disposition, Call.disposition_code, Call.talk_s)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.campaign_id == campaign_id)
    )
    if agent_ids is not None:
        query = query.where(Call.agent_id.in_(agent_ids))
    by_agent: dict[int | None, dict[str, Any]] = {}
    codes: set[str] = set()
    for agent_id, username, extension, disposition, code, talk_s in await session.execute(query):
        row = by_agent.setdefault(agent_id, {"agent": username, "extension": extension, "calls": 0, "connected": 0, "talk_s": 0.0, "codes": {}})
        row["calls"] += 1
        if disposition == "answered":
            row["connected"] += 1
            row["talk_s"] += talk_s or 0.0
        if code:
            codes.add(code)
            row["codes"][code] = row["codes"].get(code, 0) + 1
    rows = []
    for row in sorted(by_agent.values(), key=lambda r: (r["extension"] or "", r["agent"] or "")):
        counted = row.pop("codes")
        rows.append({**row, "connect_rate": _rate(row["connected"], row["calls"]), "talk_s": round(row["talk_s"], 1),
                     **{f"code:{code}": counted.get(code, 0) for code in sorted(codes)}})  # fmt: skip
    return rows
