"""The CRM schema on SQLite and PostgreSQL: migrations, models, users, phone lookup."""

import asyncio
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from crm import schema
from crm.customers import find_by_phone
from crm.demo_data import load_demo_data
from crm.db import create_engine
from crm.models import Base, Call, CallDirection, Customer, CustomerPhone, Role
from crm.passwords import verify_password
from crm.phones import normalize_phone
from crm.queues import sync_queues
from crm.users import UserError, add_user
from config.settings import DEFAULT_QUEUES


async def test_migrations_upgrade_an_empty_database(database_url: str) -> None:
    engine = create_engine(database_url)
    with pytest.raises(schema.SchemaOutOfDate, match="callcenter db upgrade"):
        await schema.check_up_to_date(engine)
    await asyncio.to_thread(schema.upgrade, database_url)
    await schema.check_up_to_date(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert {"users", "teams", "customers", "customer_phones", "queues", "queue_memberships", "calls"} <= tables
    assert differences == [], "models and migrations disagree: write a migration"


async def test_users_with_roles_queues_and_hashed_passwords(session) -> None:
    await sync_queues(session, DEFAULT_QUEUES)
    user = await add_user(
        session, username="li.na", password="correct horse", role="agent", extension="1001", queues=["support", "sales"], team="A"
    )
    await session.commit()
    assert user.password_hash != "correct horse" and verify_password(user.password_hash, "correct horse")
    assert not verify_password(user.password_hash, "wrong password")
    assert sorted(q.name for q in user.queues) == ["sales", "support"]
    assert user.role is Role.AGENT and user.team.name == "A"
    with pytest.raises(UserError, match="already exists"):
        await add_user(session, username="li.na", password="another one", role="agent")
    with pytest.raises(UserError, match="extension 1001 already belongs to 'li.na'"):
        await add_user(session, username="wang", password="another one", role="agent", extension="1001")
    with pytest.raises(UserError, match="unknown queue 'vip'"):
        await add_user(session, username="wang", password="another one", role="agent", extension="1002", queues=["vip"])
    with pytest.raises(UserError, match="role must be one of"):
        await add_user(session, username="wang", password="another one", role="boss")
    with pytest.raises(UserError, match="at least 8"):
        await add_user(session, username="wang", password="short", role="qa_inspector")


async def test_customer_found_by_any_spelling_of_the_number(session) -> None:
    session.add(
        Customer(name="张三", grade="A", key_account=True, phones=[CustomerPhone(number="+86 138 0013 8000", normalized=normalize_phone("+86 138 0013 8000"))])
    )
    session.add(Customer(name="李四", phones=[CustomerPhone(number="13900139000", normalized=normalize_phone("13900139000"))]))
    await session.commit()
    for spelling in ("13800138000", "0086 138 0013 8000", "+8613800138000"):
        found = await find_by_phone(session, spelling)
        assert [c.name for c in found] == ["张三"], spelling
    assert await find_by_phone(session, "13700137000") == []
    assert await find_by_phone(session, "'; DROP TABLE customers; --") == []


async def test_call_rows_are_unique_by_linkedid_and_keep_utc_times(session) -> None:
    started = datetime(2026, 11, 26, 23, 59, 30, tzinfo=UTC)
    session.add(Call(linkedid="1764201570.1", direction=CallDirection.INBOUND, did="4001", caller_number="+8613800138000", started_at=started, recordings=["a.wav"], transfers=[{"to": "sales"}]))
    await session.commit()
    call = await session.scalar(select(Call).where(Call.linkedid == "1764201570.1"))
    assert call.started_at == started and call.started_at.tzinfo is not None
    assert call.recordings == ["a.wav"] and call.transfers == [{"to": "sales"}]
    session.add(Call(linkedid="1764201570.1", direction=CallDirection.INBOUND, started_at=started))
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_demo_history_gives_known_customers_past_calls_once(session) -> None:
    from crm.cards import customer_card
    from crm.privacy import Disclosure
    from crm.demo_data import load_demo_history

    await sync_queues(session, DEFAULT_QUEUES)
    await load_demo_data(session)
    await load_demo_history(session)
    await load_demo_history(session)
    zhang = await session.scalar(select(Customer.id).where(Customer.name == "张三"))
    card = await customer_card(session, customer_id=zhang, caller_number=None, disclosure=Disclosure.everything())
    assert [c["disposition_code"] for c in card["recent_calls"]] == ["lookup", "order"]
    assert card["recent_calls"][0]["agent"] == "1001"
