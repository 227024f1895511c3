"""Demo data: customers of every kind and one user per role. Safe to load twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.models import Call, CallDirection, Customer, CustomerGrade, CustomerPhone, Role, User
from crm.phones import normalize_phone
from crm.users import add_user

DEMO_PASSWORD = "demo-pass-2026"

CUSTOMERS = [
    # name, company, grade, region, key account, at risk, notes, phones
    ("张三", "北京华远贸易有限公司", CustomerGrade.A, "北京", True, False, "大客户,偏好上午来电。", ["13800138000"]),
    ("李四", "上海申通物流", CustomerGrade.B, "上海", False, False, "", ["+86 139 0013 9000"]),
    ("王五", "广州某建材公司", CustomerGrade.D, "广州", False, True, "长期拖欠货款,涉诉。", ["0086 137 0013 7000"]),
    ("John Smith", "Acme Ltd", CustomerGrade.C, "US West", False, False, "Prefers email follow-up.", ["+1 415 555 2671"]),
]

USERS = [
    # username, role, extension, queues, team
    ("agent1001", Role.AGENT, "1001", ["support"], "A"),
    ("agent1002", Role.AGENT, "1002", ["support"], "A"),
    ("agent1003", Role.AGENT, "1003", ["support", "sales"], "B"),
    ("agent1004", Role.AGENT, "1004", ["sales", "senior"], "B"),
    ("leader", Role.TEAM_LEADER, "2001", [], "A"),
    ("supervisor", Role.SUPERVISOR, "2002", [], None),
    ("qa", Role.QA_INSPECTOR, None, [], None),
    ("admin", Role.ADMIN, None, [], None),
]


async def load_demo_data(session: AsyncSession, default_region: str = "CN") -> list[tuple[str, str]]:
    """Add what is missing; return (username, role) of the demo users."""
    for name, company, grade, region, key, risk, notes, phones in CUSTOMERS:
        if await session.scalar(select(Customer.id).where(Customer.name == name)) is not None:
            continue
        session.add(
            Customer(
                name=name, company=company, grade=grade, region=region, key_account=key, at_risk=risk, notes=notes,
                phones=[CustomerPhone(number=p, normalized=normalize_phone(p, default_region)) for p in phones],
            )
        )
    for username, role, extension, queues, team in USERS:
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            await add_user(
                session, username=username, password=DEMO_PASSWORD, role=role, extension=extension, queues=queues, team=team,
                phone_type="local" if extension else "sip",  # the sandbox's simulated phones
            )  # fmt: skip
    await session.flush()
    return [(username, role.value) for username, role, *_ in USERS]


# The demo's person at a headset: an agent of team A whose phone is the browser (callcenter demo only;
# the tests' databases keep the simulated agents alone).
HEADSET_USER = ("headset", "1005", ["support", "sales"], "A")


async def load_demo_headset(session: AsyncSession) -> str:
    username, extension, queues, team = HEADSET_USER
    if await session.scalar(select(User.id).where(User.username == username)) is None:
        await add_user(session, username=username, password=DEMO_PASSWORD, role=Role.AGENT, extension=extension,
                       queues=queues, team=team, phone_type="webrtc")  # fmt: skip
    return username


HISTORY = [
    # customer, agent extension, days ago, disposition code, notes
    ("张三", "1003", 12, "order", "追加订购 200 箱,要求月底前送达。"),
    ("张三", "1001", 3, "lookup", "查询物流单号,已告知。"),
    ("王五", "1004", 20, "complaint", "对账单有异议,已转财务。"),
    ("王五", "1004", 6, "follow_up", "承诺本周内回复,需跟进。"),
    ("John Smith", "1002", 8, "inquiry", "Asked about the new price list; sent by email."),
]


async def load_demo_history(session: AsyncSession) -> None:
    """Past calls, so the demo's screen pops show a history (and returning callers their last agent). Added once."""
    if await session.scalar(select(Call.id).where(Call.linkedid.like("demo-%")).limit(1)) is not None:
        return
    customers = {c.name: c.id for c in await session.scalars(select(Customer))}
    agents = {u.extension: u.id for u in await session.scalars(select(User)) if u.extension}
    now = utcnow()
    for n, (name, extension, days, code, notes) in enumerate(HISTORY):
        started = now - timedelta(days=days, hours=n)
        session.add(
            Call(
                linkedid=f"demo-{n}", direction=CallDirection.INBOUND, customer_id=customers[name],
                agent_id=agents[extension], agent_extension=extension, queue="support", started_at=started,
                answered_at=started + timedelta(seconds=12), ended_at=started + timedelta(minutes=4),
                wait_s=12.0, talk_s=228.0, disposition="answered", hangup_side="caller",
                disposition_code=code, notes=notes,
            )
        )
    await session.flush()
