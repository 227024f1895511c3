"""/api/campaigns: outbound campaigns (crm.campaigns). Supervisors create them and load their numbers
(a CRM segment or a CSV file); leaders start, pause, resume and stop them; agents join and leave
from the desktop, and the dialler (telephony/campaigns) gives each joined, free agent its calls. Who
may do what is decided by crm.access (Scope.runs_campaigns, steers_campaigns, joins_campaign)."""

from __future__ import annotations

import uuid
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, STAFF, actor, disclosure, endpoint, path_id
from agent_ui.api.live import commands, extension_of
from agent_ui.api.customer_csv import read_upload
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from agent_ui.i18n import rejections_said
from crm import audit
from crm.access import Scope
from crm.campaigns import contacts as contact_sources
from crm.campaigns import store
from crm.campaigns.plan import MODES, RETRIED, STATUSES
from crm.csv_files import ImportFileError
from crm.models import Campaign, CustomerGrade, Role, User
from crm.queues import queues_of_user
from crm.records import OUTBOUND_TYPES
from telephony.commands import CAMPAIGN, DialError

RUNNERS = (Role.SUPERVISOR, Role.ADMIN)
STEERS = (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
JOINERS = (Role.AGENT, Role.TEAM_LEADER)


class Hours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$", description="HH:MM in the contact's own time zone")
    end: str = Field(default="21:00", pattern=r"^\d{2}:\d{2}$")
    days: list[StrictInt] = Field(default=[1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=7, description="ISO weekdays, 1 Monday to 7 Sunday")


class RetryRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempts: StrictInt = Field(ge=0, le=20, description="the most attempts that may end this way; after that many the contact is done")
    gap_min: StrictInt = Field(default=0, ge=0, le=7 * 24 * 60, description="the least minutes before the next attempt")


class Retry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retries: dict[Literal[RETRIED], RetryRule] = Field(default_factory=dict, description="per outcome; the others keep their defaults")  # type: ignore[valid-type]
    max_attempts: StrictInt = Field(default=5, ge=1, le=50)


class NewCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    call_type: Literal[OUTBOUND_TYPES] = Field(description="呼出类型")  # type: ignore[valid-type]
    mode: Literal[MODES] = "progressive"  # type: ignore[valid-type]
    queue: str | None = Field(default=None, max_length=64, description="only this queue's members may join")
    caller_id: str = Field(default="", max_length=21, pattern=r"^(\+?[0-9]{3,20})?$", description="shown to the customer; empty: dialing's")
    ring_s: StrictInt = Field(default=30, ge=1, le=120, description="how long a contact's phone rings before no answer")
    purpose: str = Field(default="", max_length=2000, description="呼出目的")
    script: str = Field(default="", max_length=20000, description="what the agent says, shown on the desktop")
    hours: Hours = Field(default_factory=Hours)
    retry: Retry = Field(default_factory=Retry)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal[STATUSES]  # type: ignore[valid-type]


class SegmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    grade: CustomerGrade | None = None
    region: str | None = Field(default=None, max_length=100)
    tag: str | None = Field(default=None, max_length=32)
    open_tickets: StrictBool | None = Field(default=None, description="true: only customers with a ticket open; false: only those without")


class FileQuery(BaseModel):
    dry_run: bool = Field(default=False, description="check every row and answer the report; load nothing")


async def _own_queues(session, user: User) -> set[str]:  # type: ignore[no-untyped-def]
    return set(await queues_of_user(session, user.id))


async def _campaign_json(session, campaigns: list[Campaign], user: User) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    joined: dict[int, list[str]] = {}
    mine: set[int] = set()
    for campaign_id, user_id, extension in await store.joined_agents(session, [c.id for c in campaigns]):
        joined.setdefault(campaign_id, []).append(extension or "")
        if user_id == user.id:
            mine.add(campaign_id)
    return [
        {"id": c.id, "name": c.name, "call_type": c.call_type, "mode": c.mode, "status": c.status, "queue": c.queue, "caller_id": c.caller_id,
         "ring_s": c.ring_s, "purpose": c.purpose, "script": c.script, "hours": c.hours, "retry": c.retry, "joined": c.id in mine,
         "agents": joined.get(c.id, []), "created_at": c.created_at.isoformat()}
        for c in campaigns
    ]  # fmt: skip


async def _visible(session, user: User, campaign: Campaign | None) -> Campaign:  # type: ignore[no-untyped-def]
    """The campaign if this user may see it: leaders all; agents those they may join that are not drafts."""
    scope = Scope.of(user)
    if campaign is not None and (
        scope.steers_campaigns()
        or (campaign.status != "draft" and scope.joins_campaign(campaign.queue, await _own_queues(session, user)))
    ):
        return campaign
    raise json_error(404, "no such campaign")


@endpoint(*RUNNERS, summary="Create an outbound campaign (as a draft)", body=NewCampaign, answer=answers.Campaigns, status=201,
          errors={409: "a campaign has this name"}, notes="Audited. Load its numbers, then a leader starts it (status running).")  # fmt: skip
async def create(request: web.Request, user: User, body: NewCampaign) -> web.Response:
    if body.queue is not None and body.queue not in {q.name for q in request.app[SETTINGS].queues}:
        raise json_error(400, f"queue: unknown queue {body.queue!r}")
    async with request.app[SESSIONS]() as session, session.begin():
        if await store.name_taken(session, body.name):
            raise json_error(409, f"name: a campaign {body.name!r} exists")
        try:
            campaign = await store.create(
                session, name=body.name, call_type=body.call_type, mode=body.mode, queue=body.queue, caller_id=body.caller_id,
                ring_s=body.ring_s, purpose=body.purpose, script=body.script, hours=body.hours.model_dump(),
                retry=body.retry.model_dump(), created_by=user.id,
            )  # fmt: skip
        except store.CampaignError as error:
            raise json_error(400, str(error)) from None
        audit.record(session, actor(request, user), "campaign.created", "campaign", campaign.id, name=campaign.name, mode=campaign.mode)
        result = {"campaigns": await _campaign_json(session, [campaign], user)}
    return web.json_response(result, status=201)


@endpoint(*STAFF, summary="The campaigns this user may see: leaders every one, agents those they may join",
          answer=answers.Campaigns, notes="Newest first. An agent sees running, paused and stopped campaigns of their queues, never drafts.")  # fmt: skip
async def list_campaigns(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        campaigns = await store.newest(session)
        scope = Scope.of(user)
        if not scope.steers_campaigns():
            queues = await _own_queues(session, user)
            campaigns = [c for c in campaigns if c.status != "draft" and scope.joins_campaign(c.queue, queues)]
        return web.json_response({"campaigns": await _campaign_json(session, campaigns, user)})


@endpoint(*STAFF, summary="One campaign, with its script", answer=answers.Campaigns, path={"id": "the campaign's id"})
async def get_campaign(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        campaign = await _visible(session, user, await session.get(Campaign, path_id(request)))
        return web.json_response({"campaigns": await _campaign_json(session, [campaign], user)})


@endpoint(*STEERS, summary="Start, pause, resume or stop a campaign", body=StatusChange, answer=answers.Campaigns,
          path={"id": "the campaign's id"}, errors={409: "the change is not allowed from the campaign's status (a stopped campaign is over)"},
          notes="Pausing stops new calls at once; calls under way go on. Audited.")  # fmt: skip
async def change_status(request: web.Request, user: User, body: StatusChange) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await _visible(session, user, await session.get(Campaign, path_id(request), with_for_update=True))
        was = campaign.status
        try:
            store.change_status(campaign, body.status)
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
        audit.record(session, actor(request, user), "campaign.status", "campaign", campaign.id, was=was, now=campaign.status)
        result = {"campaigns": await _campaign_json(session, [campaign], user)}
    return web.json_response(result)


@endpoint(*RUNNERS, summary="Add the customers of a segment to a campaign's list", body=SegmentBody, answer=answers.ContactsLoaded,
          path={"id": "the campaign's id"}, errors={409: "the campaign is stopped"},
          notes="Each matching customer's first number; a number the campaign has is not added twice. Audited.")  # fmt: skip
async def add_segment(request: web.Request, user: User, body: SegmentBody) -> web.Response:
    segment = contact_sources.Segment(**body.model_dump())
    if segment.empty():
        raise json_error(400, "give at least one of grade, region, tag, open_tickets")
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await _loadable(session, user, path_id(request))
        found = await contact_sources.from_segment(session, segment)
        added, again = await store.add_contacts(session, campaign, found, region=settings.crm.default_region, fallback_zone=settings.crm.timezone)
        audit.record(session, actor(request, user), "campaign.contacts_added", "campaign", campaign.id, source="segment", added=added,
                     **{k: v for k, v in body.model_dump().items() if v is not None})  # fmt: skip
    return web.json_response({"added": added, "already_there": again})


@endpoint(*RUNNERS, summary="Add the numbers of a CSV file to a campaign's list, or check the file (dry_run)", query=FileQuery,
          upload="text/csv", answer=answers.CampaignContactsReport, path={"id": "the campaign's id"},
          errors={409: "the campaign is stopped", 413: "the file is over crm.import_max_mb",
                  422: "rows were rejected: nothing was added (the report says which and why)"},
          notes="Columns number (or phone, 电话, 号码) and name (or 姓名, 客户名称); UTF-8 or GB18030. All rows are added, or none. Audited.")  # fmt: skip
async def add_file(request: web.Request, user: User, query: FileQuery) -> web.Response:
    settings = request.app[SETTINGS]
    data = await read_upload(request, settings.crm.import_max_mb)
    try:
        found, report = await contact_sources.from_file(data, settings.crm.default_region)
    except ImportFileError as error:
        raise json_error(400, str(error)) from None
    report.dry_run = query.dry_run
    again = 0
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await _loadable(session, user, path_id(request))
        if not query.dry_run and report.rejected_rows == 0:
            report.imported, again = await store.add_contacts(
                session, campaign, found, region=settings.crm.default_region, fallback_zone=settings.crm.timezone
            )
            audit.record(session, actor(request, user), "campaign.contacts_added", "campaign", campaign.id, source="file",
                         rows=report.rows, added=report.imported)  # fmt: skip
    status = 422 if report.rejected_rows and not query.dry_run else 200
    return web.json_response({**rejections_said(request, report.as_dict()), "already_there": again}, status=status)


async def _loadable(session, user: User, campaign_id: int) -> Campaign:  # type: ignore[no-untyped-def]
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or not Scope.of(user).runs_campaigns():
        raise json_error(404, "no such campaign")
    if campaign.status == "stopped":
        raise json_error(409, "the campaign is stopped")
    return campaign


@endpoint(*JOINERS, summary="Join a campaign: the dialler gives this agent its calls while they are available",
          answer=answers.Campaigns, path={"id": "the campaign's id"}, errors={409: "the campaign is stopped"})  # fmt: skip
async def join(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await session.get(Campaign, path_id(request))
        if campaign is None or campaign.status == "draft" or not Scope.of(user).joins_campaign(campaign.queue, await _own_queues(session, user)):
            raise json_error(404, "no such campaign")
        try:
            await store.join(session, campaign, user)
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
        result = {"campaigns": await _campaign_json(session, [campaign], user)}
    return web.json_response(result)


@endpoint(*JOINERS, summary="Leave a campaign: no more of its calls", answer=answers.Campaigns, path={"id": "the campaign's id"})
async def leave(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await session.get(Campaign, path_id(request))
        if campaign is None or not Scope.of(user).joins_campaign(campaign.queue, await _own_queues(session, user)):
            raise json_error(404, "no such campaign")
        await store.leave(session, campaign, user)
        result = {"campaigns": await _campaign_json(session, [campaign], user)}
    return web.json_response(result)


class SkipBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal[store.SKIP_REASONS] = Field(description="wrong_number 号码错误, duplicate 重复, not_now 稍后再打 (due again in an hour), other")  # type: ignore[valid-type]


def _contact_json(contact, shown) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"id": contact.id, "campaign_id": contact.campaign_id, "name": contact.name, "number": shown.phone(contact.number),
            "customer_id": contact.customer_id, "attempts": contact.attempts, "last_outcome": contact.last_outcome,
            "status": contact.status}  # fmt: skip


async def _joined(session, campaign_id: int, user: User) -> Campaign:  # type: ignore[no-untyped-def]
    campaign = await session.get(Campaign, campaign_id)
    member = campaign is not None and await store.has_joined(session, campaign.id, user.id)
    if not member:
        raise json_error(404, "no such campaign joined")
    return campaign  # type: ignore[return-value]


@endpoint(*JOINERS, summary="Preview mode: the next contact to call, held for me until I dial or skip it", answer=answers.CampaignPreview,
          path={"id": "the campaign's id"}, errors={404: "no such campaign joined", 409: "the campaign is not a running preview campaign"},
          notes="The contact I hold already, else the next one due in its calling hours and not on the do-not-call list; "
                "contact is null when none is due. A contact held 30 minutes without a dial or a skip is freed.")  # fmt: skip
async def next_contact(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        campaign = await _joined(session, path_id(request), user)
        try:
            contact = await store.preview_next(session, campaign, user)
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
        shown = disclosure(request, user)
        return web.json_response({"campaign_id": campaign.id, "script": campaign.script,
                                  "contact": _contact_json(contact, shown) if contact else None})  # fmt: skip


@endpoint(*JOINERS, summary="Preview mode: dial the contact I hold (my phone first, then the contact)", answer=answers.Dialled, status=202,
          path={"id": "the contact's id"}, errors={404: "no such contact held for you", 409: "the number is on the do-not-call list, "
          "the campaign is not running, or Asterisk refused the call (the contact stays held)", 503: "telephony is not running"})  # fmt: skip
async def dial_contact(request: web.Request, user: User) -> web.Response:
    async with request.app[SESSIONS]() as session:
        try:
            await store.held_by(session, path_id(request), user)  # whoever does not hold it learns nothing more
        except LookupError as error:
            raise json_error(404, str(error)) from None
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
    extension, telephony = extension_of(user), commands(request)
    linkedid = f"{CAMPAIGN}{uuid.uuid4().hex[:16]}"
    async with request.app[SESSIONS]() as session, session.begin():
        try:
            claim = await store.dial_previewed(session, path_id(request), user, linkedid=linkedid)
        except LookupError as error:
            raise json_error(404, str(error)) from None
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
    if claim is None:
        raise json_error(409, "the number is on the do-not-call list: it is not dialled")
    try:
        await telephony.dial_for_campaign(extension, claim.number, linkedid=linkedid, campaign_id=claim.campaign_id,
                                          customer_id=claim.customer_id, caller_id=claim.caller_id, ring_s=claim.ring_s)  # fmt: skip
    except DialError as error:  # nothing was placed: the attempt does not count, the contact is due again
        async with request.app[SESSIONS]() as session, session.begin():
            await store.finish(session, linkedid, None)
        raise json_error(409, str(error)) from None
    return web.json_response({"call_id": linkedid}, status=202)


@endpoint(*JOINERS, summary="Preview mode: skip the contact I hold, with why", body=SkipBody, answer=answers.CampaignPreview,
          path={"id": "the contact's id"}, errors={404: "no such contact held for you"}, notes="Audited with the reason.")  # fmt: skip
async def skip_contact(request: web.Request, user: User, body: SkipBody) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        try:
            contact = await store.skip_previewed(session, path_id(request), user, body.reason)
        except LookupError as error:
            raise json_error(404, str(error)) from None
        except store.CampaignError as error:
            raise json_error(409, str(error)) from None
        audit.record(session, actor(request, user), "campaign.contact_skipped", "campaign", contact.campaign_id, contact_id=contact.id,
                     reason=body.reason, customer_id=contact.customer_id)  # fmt: skip
        return web.json_response({"campaign_id": contact.campaign_id, "script": "", "contact": _contact_json(contact, disclosure(request, user))})


def routes(app: web.Application) -> None:
    app.router.add_post("/api/campaigns/{id}/next", next_contact)
    app.router.add_post("/api/campaign-contacts/{id}/dial", dial_contact)
    app.router.add_post("/api/campaign-contacts/{id}/skip", skip_contact)
    app.router.add_get("/api/campaigns", list_campaigns)
    app.router.add_post("/api/campaigns", create)
    app.router.add_get("/api/campaigns/{id}", get_campaign)
    app.router.add_post("/api/campaigns/{id}/status", change_status)
    app.router.add_post("/api/campaigns/{id}/segment", add_segment)
    app.router.add_post("/api/campaigns/{id}/contact-file", add_file)
    app.router.add_post("/api/campaigns/{id}/join", join)
    app.router.add_post("/api/campaigns/{id}/leave", leave)
