"""Outbound campaigns through the REST API, on SQLite and PostgreSQL: a supervisor creates one and
loads its numbers from a segment and from a CSV file (checked whole first); a leader starts, pauses
and stops it; agents join the campaigns of their queues; the figures count what the attempts did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm import dnc
from crm.campaigns import store
from crm.db import create_engine, session_factory
from crm.models import AuditEntry, Call, CallDirection, Campaign, CampaignContact, User
from tests.test_api import Api, api  # noqa: F401 - the fixture

SURVEY = {"name": "满意度回访 12月", "call_type": "survey", "mode": "progressive", "queue": "sales", "caller_id": "4008001234",
          "script": "您好，我是客服中心，想了解您对上次服务的满意度。", "hours": {"start": "09:00", "end": "20:00", "days": [1, 2, 3, 4, 5]},
          "retry": {"retries": {"no_answer": {"attempts": 2, "gap_min": 120}}, "max_attempts": 4}}  # fmt: skip


async def csv_upload(api: Api, token: str, campaign_id: int, text: str, *, dry_run: bool, encoding: str = "utf-8") -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    async with api.http.post(f"{api.base}/api/campaigns/{campaign_id}/contact-file", params={"dry_run": str(dry_run).lower()},
                             data=text.encode(encoding), headers=headers) as r:  # fmt: skip
        return r.status, await r.json()


async def test_a_supervisor_sets_up_a_campaign_and_a_leader_runs_it(api: Api, migrated_url: str) -> None:
    supervisor, leader = await api.login("supervisor"), await api.login("leader")
    agent_sales, agent_support = await api.login("agent1003"), await api.login("agent1001")

    for bad, problem in (({**SURVEY, "caller_id": "400-800"}, "caller_id"), ({**SURVEY, "queue": "nowhere"}, "unknown queue"),
                         ({**SURVEY, "hours": {"start": "20:00", "end": "09:00"}}, "start before end"),
                         ({**SURVEY, "retry": {"retries": {"connected": {"attempts": 1}}}}, "retry"),
                         ({**SURVEY, "call_type": "spam"}, "call_type")):  # fmt: skip
        status, refused = await api.call("POST", "/api/campaigns", supervisor, json=bad)
        assert status == 400 and problem in refused["error"], (bad, refused)
    assert (await api.call("POST", "/api/campaigns", leader, json=SURVEY))[0] == 403
    status, created = await api.call("POST", "/api/campaigns", supervisor, json=SURVEY)
    assert status == 201, created
    (campaign,) = created["campaigns"]
    assert (campaign["status"], campaign["hours"]["days"], campaign["retry"]["retries"]["no_answer"]) == ("draft", [1, 2, 3, 4, 5], {"attempts": 2, "gap_min": 120})
    assert campaign["retry"]["retries"]["busy"] == {"attempts": 3, "gap_min": 15}  # the plan's default for what was not given
    assert (await api.call("POST", "/api/campaigns", supervisor, json=SURVEY))[0] == 409
    cid = campaign["id"]

    # Numbers: a segment of the CRM (grade B: 李四), then a file, checked first and loaded whole.
    status, loaded = await api.call("POST", f"/api/campaigns/{cid}/segment", supervisor, json={"grade": "B"})
    assert (status, loaded) == (200, {"added": 1, "already_there": 0})
    assert (await api.call("POST", f"/api/campaigns/{cid}/segment", supervisor, json={}))[0] == 400
    bad_file = "电话,姓名\n13911112222,赵六\n见名片,钱七\n"
    status, report = await csv_upload(api, supervisor, cid, bad_file, dry_run=False)
    assert status == 422 and (report["rows"], report["rejected_rows"], report["imported"]) == (2, 1, 0)
    assert [(r["line"], r["column"]) for r in report["rejected"]] == [(3, "number")]
    good_file = "电话,姓名\n13911112222,赵六\n+86 139 0013 9000,李四\n13911113333,孙八\n"  # 李四 is there already
    status, report = await csv_upload(api, supervisor, cid, good_file, dry_run=True)
    assert (status, report["valid"], report["imported"]) == (200, 3, 0)
    status, report = await csv_upload(api, supervisor, cid, good_file, dry_run=False, encoding="gb18030")
    assert (status, report["imported"], report["already_there"]) == (200, 2, 1), report
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        contacts = {c.number: c for c in await session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == cid))}
        names = {c.name for c in contacts.values()}
    assert len(contacts) == 3 and names == {"李四", "赵六", "孙八"} and all(c.zones == ["Asia/Shanghai"] for c in contacts.values())

    # Agents see and join the campaigns of their queues, never drafts.
    assert (await api.call("GET", f"/api/campaigns/{cid}", agent_sales))[0] == 404  # a draft
    status, started = await api.call("POST", f"/api/campaigns/{cid}/status", leader, json={"status": "running"})
    assert status == 200 and started["campaigns"][0]["status"] == "running"
    _, seen = await api.call("GET", "/api/campaigns", agent_sales)
    assert [c["id"] for c in seen["campaigns"]] == [cid] and seen["campaigns"][0]["script"].startswith("您好")
    _, unseen = await api.call("GET", "/api/campaigns", agent_support)
    assert unseen["campaigns"] == []
    assert (await api.call("POST", f"/api/campaigns/{cid}/join", agent_support))[0] == 404  # not of the sales queue
    status, joined = await api.call("POST", f"/api/campaigns/{cid}/join", agent_sales)
    assert status == 200 and joined["campaigns"][0]["joined"] and joined["campaigns"][0]["agents"] == ["1003"]
    async with session_factory(engine)() as session:
        assert await store.dialling_agents(session) == {cid: ["1003"]}
    status, paused = await api.call("POST", f"/api/campaigns/{cid}/status", leader, json={"status": "paused"})
    async with session_factory(engine)() as session:
        assert await store.dialling_agents(session) == {}  # a paused campaign gives nobody calls
    _, left = await api.call("POST", f"/api/campaigns/{cid}/leave", agent_sales)
    assert left["campaigns"][0]["agents"] == []
    assert (await api.call("POST", f"/api/campaigns/{cid}/status", leader, json={"status": "stopped"}))[0] == 200
    status, refused = await api.call("POST", f"/api/campaigns/{cid}/status", leader, json={"status": "running"})
    assert status == 409 and "stopped" in refused["error"]
    assert (await csv_upload(api, supervisor, cid, good_file, dry_run=False))[0] == 409
    async with session_factory(engine)() as session:
        actions = [e.action for e in await session.scalars(select(AuditEntry).where(AuditEntry.resource == "campaign").order_by(AuditEntry.id))]
    await engine.dispose()
    assert actions == ["campaign.created", "campaign.contacts_added", "campaign.contacts_added", "campaign.status", "campaign.status", "campaign.status"]


async def test_the_figures_count_the_attempts_and_the_agents_codes(api: Api, migrated_url: str) -> None:
    """Ten contacts: seven connected at once, one after a busy, one no answer twice, one never dialled
    (its agent did not take the call): 接通率 8 of 11 dialled attempts."""
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        campaign = await store.create(session, name="催缴 A", call_type="collection", mode="progressive", queue=None, caller_id="",
                                      purpose="", script="", hours={"start": "00:00", "end": "23:59"}, created_by=None,
                                      retry={"retries": {"no_answer": {"attempts": 2, "gap_min": 0}, "busy": {"attempts": 2, "gap_min": 0}}})  # fmt: skip
        numbers = [f"1391000{n:04d}" for n in range(10)]
        await store.add_contacts(session, campaign, [store.NewContact(n) for n in numbers], region="CN", fallback_zone="Asia/Shanghai")
        store.change_status(campaign, "running")
        now = datetime.now(UTC)  # the contacts are due from when they were added
        agent = await session.scalar(select(User).where(User.extension == "1004"))
        # Each wave claims the contacts due, oldest first: the first wave every contact once, the second the two retried.
        waves = [["connected"] * 7 + ["busy", "no_answer", None], ["connected", "no_answer"]]
        n = 0
        for wave, outcomes in enumerate(waves):
            at = now + timedelta(seconds=wave)
            for outcome in outcomes:
                n += 1
                claim = await store.claim(session, campaign.id, "1004", linkedid=f"cc-camp-fig-{n}", now=at)
                assert claim is not None
                answered = outcome == "connected"
                session.add(Call(linkedid=claim.linkedid, direction=CallDirection.OUTBOUND, campaign_id=campaign.id, agent_id=agent.id,
                                 agent_extension="1004", called_number=claim.number, started_at=at, ended_at=at + timedelta(seconds=30),
                                 answered_at=at if answered else None, talk_s=30.0 if answered else None,
                                 disposition="answered" if answered else (outcome or "no_answer"),
                                 disposition_code=("paid" if n % 2 else "promise") if answered else None))  # fmt: skip
                await store.finish(session, claim.linkedid, outcome, now=at)
    await engine.dispose()

    leader = await api.login("leader")
    _, report = await api.call("GET", "/api/reports/campaigns", leader)
    (row,) = [r for r in report["rows"] if r["name"] == "催缴 A"]
    assert (row["records"], row["dialled"], row["connected"], row["busy"], row["no_answer"]) == (10, 11, 8, 1, 2)
    assert (row["connect_rate"], row["meets_standard"], row["reached"], row["contacts_dialled"]) == (round(8 / 11, 4), True, 8, 9)
    assert (row["pending"], row["done"], row["attempts_per_contact"], row["talk_s"]) == (1, 9, round(11 / 9, 2), 240.0)
    supervisor = await api.login("supervisor")
    _, agents = await api.call("GET", "/api/reports/campaign-agents", supervisor, params={"campaign": str(row["campaign_id"])})
    (mine,) = agents["rows"]
    assert (mine["extension"], mine["connected"], mine["code:paid"] + mine["code:promise"]) == ("1004", 8, 8)
    _, theirs = await api.call("GET", "/api/reports/campaign-agents", leader, params={"campaign": str(row["campaign_id"])})
    assert theirs["rows"] == []  # 1004 is in team B, not the leader's


async def test_a_callback_asked_for_on_the_record_form_redials_the_contact_then(api: Api, migrated_url: str) -> None:
    """下次联系时间 on a campaign call's outbound record: the contact is due again at that time (no
    personal task: the campaign calls back), not while the call is still up, and as often as the plan's
    callbacks allow."""
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        campaign = await store.create(session, name="回访 callback", call_type="follow_up", mode="progressive", queue=None, caller_id="",
                                      purpose="", script="", hours={"start": "00:00", "end": "23:59"}, created_by=None,
                                      retry={"retries": {"callback": {"attempts": 2, "gap_min": 0}}})  # fmt: skip
        await store.add_contacts(session, campaign, [store.NewContact("13912340000", "周九")], region="CN", fallback_zone="Asia/Shanghai")
        store.change_status(campaign, "running")
        now = datetime.now(UTC)
        agent = await session.scalar(select(User).where(User.extension == "1001"))
        claim = await store.claim(session, campaign.id, "1001", linkedid="cc-camp-cb-1", now=now)
        assert claim is not None
        session.add(Call(linkedid=claim.linkedid, direction=CallDirection.OUTBOUND, campaign_id=campaign.id, agent_id=agent.id,
                         agent_extension="1001", called_number=claim.number, started_at=now, answered_at=now))  # fmt: skip
        contact_id = claim.contact_id
    agent_token = await api.login("agent1001")
    _, calls = await api.call("GET", "/api/me/calls", agent_token)
    call_id = next(c["id"] for c in calls["calls"] if c["linkedid"] == "cc-camp-cb-1")
    later = (now + timedelta(hours=3)).isoformat()
    status, saved = await api.call("PUT", f"/api/calls/{call_id}/record", agent_token, json={
        "disposition_code": "follow_up", "connect_status": "inconvenient", "next_contact_at": later, "feedback": "在开会，下午再打"})
    assert status == 200, saved
    assert saved["tasks"] == []  # the campaign calls back, not the agent's own list
    async with session_factory(engine)() as session:
        contact = await session.get(CampaignContact, contact_id)
        assert (contact.status, contact.last_outcome) == ("dialling", "callback")  # the call is still up
    async with session_factory(engine)() as session, session.begin():
        await store.finish(session, "cc-camp-cb-1", "connected", now=now + timedelta(minutes=2))  # the call ends
    async with session_factory(engine)() as session:
        contact = await session.get(CampaignContact, contact_id)
        assert (contact.status, contact.outcome, contact.attempts) == ("pending", None, 1)
        assert abs((contact.next_at - (now + timedelta(hours=3))).total_seconds()) < 1
        assert await store.claim(session, contact.campaign_id, "1002", linkedid="cc-camp-cb-2", now=now + timedelta(hours=1)) is None
        again = await store.claim(session, contact.campaign_id, "1002", linkedid="cc-camp-cb-2", now=now + timedelta(hours=3, seconds=1))
        assert again is not None and again.contact_id == contact_id
        await session.rollback()
    await engine.dispose()


async def test_preview_holds_a_contact_for_its_agent_and_dialling_checks_the_list_again(api: Api, migrated_url: str) -> None:
    supervisor, leader = await api.login("supervisor"), await api.login("leader")
    agent3, agent4 = await api.login("agent1003"), await api.login("agent1004")
    status, created = await api.call("POST", "/api/campaigns", supervisor, json={**SURVEY, "name": "预览", "mode": "preview",
                                                                                 "hours": {"start": "00:00", "end": "23:59"}})  # fmt: skip
    cid = created["campaigns"][0]["id"]
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session, session.begin():
        campaign = await session.get(Campaign, cid)
        await store.add_contacts(session, campaign, [store.NewContact(n) for n in ("13922220001", "13922220002", "13922220003")],
                                 region="CN", fallback_zone="Asia/Shanghai")  # fmt: skip
    assert (await api.call("POST", f"/api/campaigns/{cid}/next", agent3))[0] == 404  # not joined
    await api.call("POST", f"/api/campaigns/{cid}/status", leader, json={"status": "running"})
    for token in (agent3, agent4):
        assert (await api.call("POST", f"/api/campaigns/{cid}/join", token))[0] == 200
    _, first = await api.call("POST", f"/api/campaigns/{cid}/next", agent3)
    _, again = await api.call("POST", f"/api/campaigns/{cid}/next", agent3)
    _, other = await api.call("POST", f"/api/campaigns/{cid}/next", agent4)
    assert first["contact"]["id"] == again["contact"]["id"] != other["contact"]["id"]  # held for 1003 until dialled or skipped
    assert first["contact"]["number"] == "139****0001" and first["script"].startswith("您好")
    held = first["contact"]["id"]
    assert (await api.call("POST", f"/api/campaign-contacts/{held}/dial", agent4))[0] == 404  # not 1004's
    assert (await api.call("POST", f"/api/campaign-contacts/{held}/dial", agent3))[0] == 503  # past the hold: no telephony here
    status, refused = await api.call("POST", f"/api/campaign-contacts/{held}/skip", agent3, json={"reason": "bored"})
    assert status == 400
    status, skipped = await api.call("POST", f"/api/campaign-contacts/{held}/skip", agent3, json={"reason": "not_now"})
    assert status == 200 and skipped["contact"]["status"] == "pending"  # due again in an hour, for anyone

    # Listed while shown: dialling it finds it on the list, ends it as dnc, and places nothing.
    _, second = await api.call("POST", f"/api/campaigns/{cid}/next", agent3)
    async with session_factory(engine)() as session, session.begin():
        await dnc.add(session, "13922220003", region="CN", reason="opt_out", source="api", added_by=None)
        user = await session.scalar(select(User).where(User.username == "agent1003"))
        assert await store.dial_previewed(session, second["contact"]["id"], user, linkedid="cc-camp-none") is None
    async with session_factory(engine)() as session, session.begin():
        contact = await session.get(CampaignContact, second["contact"]["id"])
        assert (contact.status, contact.outcome) == ("done", "dnc")
        # A contact held by an agent who went away is free again after half an hour.
        freed = await store.release_stale(session, now=datetime.now(UTC) + timedelta(minutes=31))
    assert freed == 1  # 1004's
    await engine.dispose()
