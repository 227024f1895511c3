"""Campaigns, their contacts and attempts in the database: creating a campaign, loading numbers,
agents joining, and the dialler's two steps — ``claim`` (the next due contact, written as an attempt
*before* its call is placed) and ``finish`` (the attempt's outcome and the contact's next step by the
retry plan) — with ``open_attempts`` to settle, after a restart, the attempts whose calls ended
while nobody listened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import timezone as number_zones
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm import dnc
from crm.db import utcnow
from crm.models import Call, Campaign, CampaignAgent, CampaignAttempt, CampaignContact, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from crm.records import OUTBOUND_TYPES
from crm.campaigns.plan import MODES, STATUSES, CallingHours, PlanError, RetryPlan

CALLER_ID = re.compile(r"^\+?[0-9]{3,20}$")
CLAIM_BATCH = 20  # due contacts looked at per claim (those outside their hours are moved on)
NOT_DIALLED = "not_dialled"  # an attempt whose customer was never dialled (the agent's phone did not answer)
# Allowed status changes: a stopped campaign is over; a draft starts by running.
STATUS_CHANGES = {"draft": {"running", "stopped"}, "running": {"paused", "stopped"}, "paused": {"running", "stopped"}, "stopped": set()}


class CampaignError(ValueError):
    """The campaign, a contact or a change cannot be as asked; the message says which field and why."""


@dataclass(frozen=True)
class Claim:
    """A contact the dialler is to call now, its attempt already written."""

    campaign_id: int
    contact_id: int
    customer_id: int | None
    number: str
    linkedid: str
    caller_id: str
    ring_s: int


async def create(
    session: AsyncSession, *, name: str, call_type: str, mode: str, queue: str | None, caller_id: str, purpose: str,
    script: str, hours: dict | None, retry: dict | None, created_by: int | None, ring_s: int = 30,
) -> Campaign:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise CampaignError("name: 1 to 100 characters")
    if call_type not in OUTBOUND_TYPES:
        raise CampaignError(f"call_type: one of {', '.join(OUTBOUND_TYPES)}")
    if mode not in MODES:
        raise CampaignError(f"mode: one of {', '.join(MODES)}")
    if not 1 <= ring_s <= 120:
        raise CampaignError("ring_s: 1 to 120 seconds")
    if caller_id and not CALLER_ID.match(caller_id):
        raise CampaignError("caller_id: digits, 3 to 20, a leading + allowed")
    try:
        hours_json, retry_json = CallingHours.from_json(hours).as_json(), RetryPlan.from_json(retry).as_json()
    except PlanError as error:
        raise CampaignError(str(error)) from None
    if await session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise CampaignError(f"name: a campaign {name!r} exists")
    campaign = Campaign(
        name=name, call_type=call_type, mode=mode, status="draft", queue=queue or None, caller_id=caller_id, ring_s=ring_s, purpose=purpose,
        script=script, hours=hours_json, retry=retry_json, created_by=created_by,
    )  # fmt: skip
    session.add(campaign)
    await session.flush()
    return campaign


def change_status(campaign: Campaign, status: str) -> None:
    if status not in STATUSES:
        raise CampaignError(f"status: one of {', '.join(STATUSES)}")
    if status != campaign.status and status not in STATUS_CHANGES[campaign.status]:
        raise CampaignError(f"status: a {campaign.status} campaign cannot become {status}")
    campaign.status = status


def zones_of(normalized: str, fallback: str) -> list[str]:
    """The time zones a number may ring in (a mobile's is its country's); unknown: the center's."""
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(normalized))
    except phonenumbers.NumberParseException:
        zones = ()
    known = [z for z in zones if z != "Etc/Unknown"]
    return sorted(known) or [fallback]


@dataclass(frozen=True)
class NewContact:
    number: str
    name: str = ""
    customer_id: int | None = None


async def add_contacts(
    session: AsyncSession, campaign: Campaign, contacts: list[NewContact], *, region: str, fallback_zone: str
) -> tuple[int, int]:
    """Add the numbers not yet in the campaign; (added, already there). The caller has checked each
    number (``normalize_phone``); one that is not is an error for the whole call."""
    existing = set(await session.scalars(select(CampaignContact.normalized).where(CampaignContact.campaign_id == campaign.id)))
    added = 0
    now = utcnow()
    for contact in contacts:
        try:
            key = normalize_phone(contact.number, region)
        except InvalidPhoneNumber:
            raise CampaignError(f"number: {contact.number[:40]!r} is not a phone number") from None
        if key in existing:
            continue
        existing.add(key)
        session.add(CampaignContact(
            campaign_id=campaign.id, customer_id=contact.customer_id, name=contact.name[:200], number=contact.number.strip()[:40],
            normalized=key, zones=zones_of(key, fallback_zone), status="pending", next_at=now,
        ))  # fmt: skip
        added += 1
    await session.flush()
    return added, len(contacts) - added


async def join(session: AsyncSession, campaign: Campaign, user: User) -> None:
    if campaign.status == "stopped":
        raise CampaignError("the campaign is stopped")
    found = await session.scalar(select(CampaignAgent).where(CampaignAgent.campaign_id == campaign.id, CampaignAgent.user_id == user.id))
    if found is None:
        session.add(CampaignAgent(campaign_id=campaign.id, user_id=user.id))
        await session.flush()


async def leave(session: AsyncSession, campaign: Campaign, user: User) -> None:
    await session.execute(delete(CampaignAgent).where(CampaignAgent.campaign_id == campaign.id, CampaignAgent.user_id == user.id))


async def dialling_agents(session: AsyncSession, mode: str = "progressive") -> dict[int, list[str]]:
    """Running campaigns of ``mode`` → the extensions of the agents who joined them."""
    rows = await session.execute(
        select(Campaign.id, User.extension)
        .join(CampaignAgent, CampaignAgent.campaign_id == Campaign.id)
        .join(User, User.id == CampaignAgent.user_id)
        .where(Campaign.status == "running", Campaign.mode == mode, User.extension.is_not(None), User.active.is_(True))
        .order_by(Campaign.id, CampaignAgent.joined_at, CampaignAgent.id)
    )
    joined: dict[int, list[str]] = {}
    for campaign_id, extension in rows:
        joined.setdefault(campaign_id, []).append(extension)
    return joined


async def claim(
    session: AsyncSession, campaign_id: int, agent: str, *, linkedid: str, now: datetime | None = None
) -> Claim | None:
    """:func:`claim_for` one agent."""
    claims = await claim_for(session, campaign_id, [(agent, linkedid)], now=now)
    return claims[0] if claims else None


async def claim_for(
    session: AsyncSession, campaign_id: int, callers: list[tuple[str, str]], *, now: datetime | None = None
) -> list[Claim]:
    """The next contacts of a running campaign for these free agents — (agent, the Linkedid its call
    will have) each — one contact each, at most (see :func:`_ready`). Each claim's attempt is
    written; the caller commits before placing the calls. A few queries for all the agents, however
    many: the dialler's tick is one transaction per campaign."""
    now = now or utcnow()
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "running" or not callers:
        return []
    contacts = await _ready(session, campaign, len(callers), now)
    claims = [_attempt(session, campaign, contact, agent, linkedid, now) for (agent, linkedid), contact in zip(callers, contacts, strict=False)]
    await session.flush()
    return claims


async def _ready(session: AsyncSession, campaign: Campaign, wanted: int, now: datetime) -> list[CampaignContact]:
    """Up to ``wanted`` contacts that may be called now, locked: due, within their calling hours (one
    outside them is moved to when they open), not on the do-not-call list (one listed is done as
    ``dnc``, never dialled)."""
    hours = CallingHours.from_json(campaign.hours)
    ready: list[CampaignContact] = []
    while len(ready) < wanted:
        due = list(await session.scalars(
            select(CampaignContact)
            .where(CampaignContact.campaign_id == campaign.id, CampaignContact.status == "pending", CampaignContact.next_at <= now)
            .order_by(CampaignContact.next_at, CampaignContact.id)
            .limit(wanted - len(ready) + CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        ))  # fmt: skip
        if not due:
            break
        listed = await dnc.listed(session, [c.normalized for c in due])
        for contact in due:
            if not hours.open_at(now, contact.zones):
                contact.next_at = hours.next_open(now, contact.zones) or now + timedelta(days=1)
            elif contact.normalized in listed:
                contact.status, contact.outcome = "done", "dnc"
            elif len(ready) < wanted:
                contact.status = "reserved"  # taken: the next query passes it over
                ready.append(contact)
        await session.flush()
    return ready


def _attempt(session: AsyncSession, campaign: Campaign, contact: CampaignContact, agent: str, linkedid: str, now: datetime) -> Claim:
    contact.status, contact.attempts, contact.last_outcome, contact.reserved_by = "dialling", contact.attempts + 1, None, None
    session.add(CampaignAttempt(campaign_id=campaign.id, contact_id=contact.id, linkedid=linkedid, agent_extension=agent, started_at=now))
    return Claim(campaign.id, contact.id, contact.customer_id, contact.number, linkedid, campaign.caller_id, campaign.ring_s)


# Preview mode: the agent sees the next contact first, then dials it or skips it ---------------------

SKIP_REASONS = ("wrong_number", "duplicate", "not_now", "other")  # 号码错误, 重复, 稍后再打, 其他
NOT_NOW_MIN = 60  # a contact skipped "not now" is due again this much later
RESERVATION_MIN = 30  # a previewed contact nobody dialled or skipped is free again after this


async def preview_next(session: AsyncSession, campaign: Campaign, user: User, *, now: datetime | None = None) -> CampaignContact | None:
    """The contact shown to ``user`` in a running preview campaign: the one they hold already, or the
    next ready one, now held for them (``reserved``) until they dial or skip it."""
    now = now or utcnow()
    if campaign.status != "running" or campaign.mode != "preview":
        raise CampaignError("the campaign is not a running preview campaign")
    held = await session.scalar(select(CampaignContact).where(
        CampaignContact.campaign_id == campaign.id, CampaignContact.status == "reserved", CampaignContact.reserved_by == user.id))  # fmt: skip
    if held is not None:
        return held
    ready = await _ready(session, campaign, 1, now)
    if not ready:
        return None
    ready[0].reserved_by, ready[0].updated_at = user.id, now
    await session.flush()
    return ready[0]


async def held_by(session: AsyncSession, contact_id: int, user: User) -> tuple[Campaign, CampaignContact]:
    contact = await session.get(CampaignContact, contact_id, with_for_update=True)
    if contact is None or contact.status != "reserved" or contact.reserved_by != user.id:
        raise LookupError("no such contact held for you: ask for the next one")
    campaign = await session.get(Campaign, contact.campaign_id)
    if campaign is None or campaign.status != "running":
        raise CampaignError("the campaign is not running")
    return campaign, contact


async def dial_previewed(
    session: AsyncSession, contact_id: int, user: User, *, linkedid: str, now: datetime | None = None
) -> Claim | None:
    """The agent dials the contact they previewed: checked against the do-not-call list again (it may
    have been listed meanwhile: then it is done as ``dnc`` and None is returned), then its attempt is
    written; the caller commits, then places the call."""
    now = now or utcnow()
    campaign, contact = await held_by(session, contact_id, user)
    if await dnc.listed(session, [contact.normalized]):
        contact.status, contact.outcome, contact.reserved_by = "done", "dnc", None
        await session.flush()
        return None
    claim = _attempt(session, campaign, contact, user.extension or "", linkedid, now)
    await session.flush()
    return claim


async def skip_previewed(session: AsyncSession, contact_id: int, user: User, reason: str, *, now: datetime | None = None) -> CampaignContact:
    """The agent skips the contact they previewed: ``not_now`` makes it due an hour later (for
    anyone); the other reasons end it as ``skipped``."""
    now = now or utcnow()
    if reason not in SKIP_REASONS:
        raise CampaignError(f"reason: one of {', '.join(SKIP_REASONS)}")
    _, contact = await held_by(session, contact_id, user)
    contact.reserved_by = None
    if reason == "not_now":
        contact.status, contact.next_at = "pending", now + timedelta(minutes=NOT_NOW_MIN)
    else:
        contact.status, contact.outcome, contact.last_outcome = "done", "skipped", reason
    await session.flush()
    return contact


async def release_stale(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Previewed contacts held longer than ``RESERVATION_MIN`` (the agent went away) are free again."""
    now = now or utcnow()
    stale = list(await session.scalars(select(CampaignContact).where(
        CampaignContact.status == "reserved", CampaignContact.updated_at < now - timedelta(minutes=RESERVATION_MIN))))  # fmt: skip
    for contact in stale:
        contact.status, contact.reserved_by = "pending", None
    await session.flush()
    return len(stale)


async def finish(session: AsyncSession, linkedid: str, outcome: str | None, *, now: datetime | None = None) -> CampaignContact | None:
    """Settle the attempt ``linkedid``: ``outcome`` one of plan.OUTCOMES, or None when the customer
    was never dialled (the attempt does not count: the contact is due again at once). Returns the
    contact, or None for an attempt unknown or already settled."""
    now = now or utcnow()
    attempt = await session.scalar(select(CampaignAttempt).where(CampaignAttempt.linkedid == linkedid).with_for_update())
    if attempt is None or attempt.ended_at is not None:
        return None
    contact = await session.get(CampaignContact, attempt.contact_id, with_for_update=True)
    campaign = await session.get(Campaign, attempt.campaign_id)
    if contact is None or campaign is None:
        return None
    if attempt.outcome == "callback":  # asked for during the call: its next step is set already
        attempt.ended_at = now
        if contact.status == "dialling":
            contact.status = "pending"
        await session.flush()
        return contact
    attempt.ended_at, attempt.outcome = now, outcome or NOT_DIALLED
    if outcome is None:
        contact.status, contact.attempts, contact.next_at = "pending", max(0, contact.attempts - 1), now
        await session.flush()
        return contact
    await _next_step(session, campaign, contact, outcome, now)
    return contact


async def call_back(session: AsyncSession, linkedid: str, at: datetime, *, now: datetime | None = None) -> CampaignContact | None:
    """The customer asked to be called at ``at`` (the outbound record form's 下次联系时间): the
    attempt ``linkedid`` ends as ``callback`` — whether its call has ended yet or not — and the
    contact is due then, while the plan's callbacks last. None when the call is no campaign's."""
    now = now or utcnow()
    attempt = await session.scalar(select(CampaignAttempt).where(CampaignAttempt.linkedid == linkedid).with_for_update())
    if attempt is None:
        return None
    contact = await session.get(CampaignContact, attempt.contact_id, with_for_update=True)
    campaign = await session.get(Campaign, attempt.campaign_id)
    if contact is None or campaign is None or attempt.outcome not in (None, "connected", "callback"):
        return contact
    call_over = attempt.outcome is not None
    attempt.outcome = "callback"  # its ended_at stays empty while the call is up: finish() ends it
    await _next_step(session, campaign, contact, "callback", now, asked_for=at, call_over=call_over)
    return contact


async def _next_step(
    session: AsyncSession, campaign: Campaign, contact: CampaignContact, outcome: str, now: datetime, *,
    asked_for: datetime | None = None, call_over: bool = True,
) -> None:
    """The contact's next step by the campaign's retry plan, its attempt having ended with ``outcome``:
    done, or due again (not before its call is over)."""
    await session.flush()  # the attempt's outcome counts
    ended_this_way = await session.scalar(
        select(func.count()).select_from(CampaignAttempt).where(CampaignAttempt.contact_id == contact.id, CampaignAttempt.outcome == outcome)
    ) or 0  # fmt: skip
    after = RetryPlan.from_json(campaign.retry).next_attempt(
        outcome, ended_this_way=ended_this_way, attempts=contact.attempts, now=now, asked_for=asked_for
    )
    contact.last_outcome = outcome
    if after is None:
        contact.status, contact.outcome = "done", outcome
    else:
        contact.status, contact.outcome, contact.next_at = "pending" if call_over else "dialling", None, after
    await session.flush()


@dataclass(frozen=True)
class OpenAttempt:
    linkedid: str
    started_at: datetime
    disposition: str | None  # its call's, in the call log; None when not (yet) there


async def open_attempts(session: AsyncSession) -> list[OpenAttempt]:
    """Attempts whose calls have not been seen to end, with what the call log knows of them."""
    rows = await session.execute(
        select(CampaignAttempt.linkedid, CampaignAttempt.started_at, Call.disposition)
        .outerjoin(Call, Call.linkedid == CampaignAttempt.linkedid)
        .where(CampaignAttempt.ended_at.is_(None))
    )
    return [OpenAttempt(*row) for row in rows]


# Reading, for the campaign pages ------------------------------------------------------------------


async def name_taken(session: AsyncSession, name: str) -> bool:
    return await session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None


async def newest(session: AsyncSession, limit: int = 500) -> list[Campaign]:
    return list(await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


async def joined_agents(session: AsyncSession, campaign_ids: list[int]) -> list[tuple[int, int, str | None]]:
    """(campaign id, user id, extension) of each agent who joined one of these campaigns, by extension."""
    rows = await session.execute(
        select(CampaignAgent.campaign_id, CampaignAgent.user_id, User.extension)
        .join(User, User.id == CampaignAgent.user_id)
        .where(CampaignAgent.campaign_id.in_(campaign_ids))
        .order_by(User.extension)
    )
    return [(campaign_id, user_id, extension) for campaign_id, user_id, extension in rows]


async def has_joined(session: AsyncSession, campaign_id: int, user_id: int) -> bool:
    return await session.scalar(select(CampaignAgent.id).where(CampaignAgent.campaign_id == campaign_id, CampaignAgent.user_id == user_id)) is not None
