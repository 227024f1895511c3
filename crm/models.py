"""The CRM's tables: the system of record for people, customers, queues and calls.

Changing a model means writing an Alembic migration in ``crm/migrations/versions`` too; the tests
check that the migrations and these models agree.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from crm.db import UtcDateTime, utcnow


class Base(DeclarativeBase):
    pass


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as text with a CHECK, so SQLite and PostgreSQL hold the same thing.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    AGENT = "agent"
    TEAM_LEADER = "team_leader"
    SUPERVISOR = "supervisor"
    QA_INSPECTOR = "qa_inspector"
    ADMIN = "admin"


class CustomerGrade(enum.StrEnum):
    A = "A"  # 关键客户 key
    B = "B"  # 主要客户 major
    C = "C"  # 普通客户 ordinary
    D = "D"  # low value


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="team")


class QueueMembership(Base):
    __tablename__ = "queue_memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    penalty: Mapped[int] = mapped_column(Integer, default=0)


PHONE_TYPES = ("webrtc", "sip", "local")
MONITORING_METHODS = ("live", "recording", "floor_walk")  # 实时监听, 录音抽检, 现场巡查
CASE_KINDS = ("good", "bad")  # 典型案例: an example to follow, or one to avoid


class User(Base):
    """Anyone who logs in: agents (座席员), team leaders (组长), supervisors (主管), QA inspectors (质检员), admins."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    extension: Mapped[str | None] = mapped_column(String(16), unique=True)
    # What rings for this user's calls: a browser phone (webrtc), a desk SIP phone (sip), or the
    # sandbox's simulated phone (local). See PHONE_TYPES.
    phone_type: Mapped[str] = mapped_column(String(8), default="sip", server_default="sip")
    # A browser phone that answers by itself (after a short beep): the agent's own choice.
    auto_answer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The Asterisk server (settings' asterisk[].name) the agent's phone is on; None: the first one.
    # Where Asterisk reports the agent (queue membership, a registered phone) wins over it.
    server: Mapped[str | None] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="members")
    queues: Mapped[list[Queue]] = relationship(secondary="queue_memberships", order_by="Queue.name")


class Queue(Base):
    """An Asterisk queue (技能组). Rows are kept in step with the queues in the settings."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    service_level_s: Mapped[int] = mapped_column(Integer, default=20)
    service_level_target: Mapped[float] = mapped_column(Float, default=0.8)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    grade: Mapped[CustomerGrade] = mapped_column(_enum(CustomerGrade, "customer_grade"), default=CustomerGrade.C)
    region: Mapped[str] = mapped_column(String(100), default="")
    key_account: Mapped[bool] = mapped_column(Boolean, default=False)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # 危险客户
    notes: Mapped[str] = mapped_column(Text, default="")
    preferred_queue: Mapped[str | None] = mapped_column(String(64))  # overrides the DID's queue when routing
    # 客户信息登记表 (handbook §5.5): basic, credit and business data
    customer_type: Mapped[str] = mapped_column(String(16), default="existing", server_default="existing")  # CUSTOMER_TYPES
    industry: Mapped[str] = mapped_column(String(100), default="", server_default="")
    ownership: Mapped[str] = mapped_column(String(50), default="", server_default="")  # 所有制性质
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    postcode: Mapped[str] = mapped_column(String(16), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    website: Mapped[str] = mapped_column(String(200), default="", server_default="")
    fax: Mapped[str] = mapped_column(String(40), default="", server_default="")
    tax_id: Mapped[str] = mapped_column(String(40), default="", server_default="")  # 税号
    annual_sales: Mapped[int | None] = mapped_column(BigInteger)  # 年销售额, whole yuan
    registered_capital: Mapped[int | None] = mapped_column(BigInteger)  # 注册资本, whole yuan
    credit_grade: Mapped[str] = mapped_column(String(16), default="", server_default="")  # 信用等级
    credit_limit: Mapped[int | None] = mapped_column(BigInteger)  # 信用额度, whole yuan
    credit_term_days: Mapped[int | None] = mapped_column(Integer)  # 信用期限
    payment_terms: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 付款条件
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)  # 负责业务员
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # 登记人
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # 审核人
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # 危险客户 (handbook §5.8), set when an at_risk change is approved and emptied when it is cleared
    risk_type: Mapped[str | None] = mapped_column(String(32))
    risk_level: Mapped[str | None] = mapped_column(String(16))
    risk_action: Mapped[str | None] = mapped_column(String(32))
    risk_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    contacts: Mapped[list[CustomerContact]] = relationship(cascade="all, delete-orphan", order_by="CustomerContact.id")


CUSTOMER_TYPES = ("existing", "target", "prospect", "partner")  # 老客户 / 目标客户 / 潜在客户 / 合作伙伴


class CustomerContact(Base):
    """One of a customer's contact people (联系人, handbook §5.5): who they are to the decision."""

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")  # 部门职务
    phone: Mapped[str] = mapped_column(String(40), default="")  # shown masked like the customer's numbers
    email: Mapped[str] = mapped_column(String(254), default="")
    birthday: Mapped[date | None] = mapped_column(Date)
    hobbies: Mapped[str] = mapped_column(String(200), default="")  # 嗜好
    decision_role: Mapped[str] = mapped_column(String(100), default="")  # 与决策层关系


class CustomerNote(Base):
    """A note on a customer by one user; a private one is seen by its author alone."""

    __tablename__ = "customer_notes"
    __table_args__ = (Index("ix_customer_notes_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CustomerPhone(Base):
    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40))  # as entered
    normalized: Mapped[str] = mapped_column(String(24), index=True)  # crm.phones.normalize_phone
    label: Mapped[str] = mapped_column(String(40), default="")

    customer: Mapped[Customer] = relationship(back_populates="phones")


class Call(Base):
    """One call (one Asterisk Linkedid), answered or not: the handbook's 呼叫电话记录表."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("wait_s IS NULL OR wait_s >= 0", name="ck_calls_wait_nonnegative"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_customer_started", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    server: Mapped[str] = mapped_column(String(64), default="default")
    direction: Mapped[CallDirection] = mapped_column(_enum(CallDirection, "call_direction"))
    did: Mapped[str | None] = mapped_column(String(40))
    caller_number: Mapped[str | None] = mapped_column(String(40))
    caller_name: Mapped[str | None] = mapped_column(String(200))
    called_number: Mapped[str | None] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(64))  # the last queue (after transfers)
    entry_queue: Mapped[str | None] = mapped_column(String(64))  # the first: where the KPIs count the call (docs/kpis.md)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    route: Mapped[str | None] = mapped_column(String(16))  # queue | preferred | closed | fallback (docs/agi.md)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agent_extension: Mapped[str | None] = mapped_column(String(16))
    agent_interface: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wait_s: Mapped[float | None] = mapped_column(Float)
    talk_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float] = mapped_column(Float, default=0.0)
    hold_count: Mapped[int] = mapped_column(Integer, default=0)
    wrapup_s: Mapped[float | None] = mapped_column(Float)
    # answered | abandoned | no_agent | out_of_hours | no_answer | busy | failed | callback
    disposition: Mapped[str | None] = mapped_column(String(32))
    hangup_side: Mapped[str | None] = mapped_column(String(16))  # caller | agent | system
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # every ring, answered or not
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recordings: Mapped[list[str]] = mapped_column(JSON, default=list)
    recording_paused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # spans the agent paused the recording
    surveyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the caller was asked the satisfaction survey
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)  # their key: 1 (poor) to 5 (very satisfied)
    disposition_code: Mapped[str | None] = mapped_column(String(64))  # the agent's, from the desktop
    notes: Mapped[str] = mapped_column(Text, default="")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)  # a campaign's dial
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("queue_callbacks.id", ondelete="SET NULL", name="fk_calls_callback_id"), index=True)  # a queue callback's call
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AgentStateLog(Base):
    """Every agent state change, as the bridge saw it: login, pause (with reason), wrap-up durations."""

    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_at", "agent_extension", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(96), unique=True)  # makes replays idempotent
    agent_extension: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    server: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    call_linkedid: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A login: the token's SHA-256 (never the token itself), whose it is, until when."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallRecord(Base):
    """The agent's business record of one call: 呼入业务记录表 (inbound) or 呼出业务记录表 (outbound).

    The call's disposition code and notes stay on ``calls`` (one place for reports); this holds the
    rest of the form. Which fields apply depends on the call's direction (crm.records)."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    contact: Mapped[str] = mapped_column(String(100), default="")  # 联系人
    # Inbound: 来电内容摘要, 处理方式, 转接部门/人, 处理结果, 是否需回复 + 回复时限
    summary: Mapped[str] = mapped_column(Text, default="")
    handling: Mapped[str | None] = mapped_column(String(32))
    transferred_to: Mapped[str] = mapped_column(String(100), default="")
    result: Mapped[str] = mapped_column(Text, default="")
    reply_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Outbound: 任务/活动名称, 呼出类型, 呼出目的, 接通状态, 客户反馈/意向, 下次联系时间
    campaign: Mapped[str] = mapped_column(String(100), default="")
    call_type: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    connect_status: Mapped[str | None] = mapped_column(String(32))
    feedback: Mapped[str] = mapped_column(Text, default="")
    next_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


# Quality assurance (the handbook's 呼叫质量监控表; the qa package owns the logic) ----------------


class Scorecard(Base):
    """One version of a scorecard; editing makes a new row with the same ``key`` and the next
    version, so an evaluation keeps the exact form it was scored on. ``definition`` holds the
    sections, items (max points, guidance, fatal flag) and auto-QA rules (qa.scorecards)."""

    __tablename__ = "qa_scorecards"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QaIntake(Base):
    """The durable QA queue: every ended call with a recording, its auto-QA state and result, and
    why (if at all) the sampling rules sent it to an inspector."""

    __tablename__ = "qa_intake"
    __table_args__ = (Index("ix_qa_intake_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # metrics, transcript, findings, pre-filled items
    auto_score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # auto-QA found a failed rule
    review_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: no review required
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    analysed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Evaluation(Base):
    """An inspector's evaluation of one call. Its grades live in versions, never changed once
    written; its life (submitted, corrected, acknowledged, disputed, resolved) in events."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (Index("ix_qa_evaluations_agent", "agent_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("qa_scorecards.id"))
    calibration_id: Mapped[int | None] = mapped_column(ForeignKey("qa_calibrations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | acknowledged | disputed | resolved
    # 监控方式 (handbook §3.4): live listen, a recording sampled, or a floor walk. See MONITORING_METHODS.
    method: Mapped[str] = mapped_column(String(16), default="recording", server_default="recording")
    # 典型案例: a good or a bad example for the case library, and why (None: not a case).
    case_kind: Mapped[str | None] = mapped_column(String(8), index=True)
    case_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # 组长/主管复核: None (not drawn for review), due, agreed, or returned (to the grader, who corrects
    # it: due again). See qa.review_percent.
    review_state: Mapped[str | None] = mapped_column(String(8), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    versions: Mapped[list[EvaluationVersion]] = relationship(order_by="EvaluationVersion.version", cascade="all, delete-orphan")
    events: Mapped[list[EvaluationEvent]] = relationship(order_by="EvaluationEvent.id", cascade="all, delete-orphan")


class EvaluationVersion(Base):
    """One immutable grading: per item points, fatal failures and comments, the total, who and why."""

    __tablename__ = "qa_evaluation_versions"
    __table_args__ = (UniqueConstraint("evaluation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("qa_evaluations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[dict[str, Any]] = mapped_column(JSON)  # item code → {points, failed, comment}
    total: Mapped[float] = mapped_column(Float)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # strengths, problems, advice, training
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")  # why this version replaced the one before
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EvaluationEvent(Base):
    """The audit trail of an evaluation: who did what, when, and their comment."""

    __tablename__ = "qa_evaluation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # submitted | corrected | acknowledged | disputed | resolved
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Calibration(Base):
    """Several inspectors score the same call blind; the spread of their grades shows how far apart
    they are, item by item."""

    __tablename__ = "qa_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("qa_scorecards.id"))
    inspector_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# Tickets: complaints and after-sales requests (config.tickets holds the types; crm.tickets the engine) --


class Ticket(Base):
    """A complaint (客户投诉登记表) or after-sales request (售后服务登记表) and where it stands."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)  # PREFIX-YYYYMMDD-000123, set once the id is known
    type: Mapped[str] = mapped_column(String(32))  # a config.tickets type code
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="ordinary")  # config.tickets.SEVERITIES
    major: Mapped[bool] = mapped_column(Boolean, default=False)  # 重大投诉: the supervisors handle it
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # 客户保密: who complained is seen by its handlers only
    status: Mapped[str] = mapped_column(String(32))  # the step it is at
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the type's registration fields
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    contact: Mapped[str] = mapped_column(String(100), default="")  # 联系人
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))  # the call it was opened from
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the promised response
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when it reached the type's replied step
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[TicketEvent]] = relationship(order_by="TicketEvent.id", cascade="all, delete-orphan")
    calls: Mapped[list[TicketCall]] = relationship(order_by="TicketCall.linked_at", cascade="all, delete-orphan")


class TicketEvent(Base):
    """Who did what to a ticket, when: opening, each step with its form (原因分析, 处理措施, 回访 …),
    reassignment, reopening. Never changed once written."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # opened | step | back | reopened | assigned | linked
    step: Mapped[str | None] = mapped_column(String(32))  # the step reached
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the step's fields
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TicketCall(Base):
    """A call attached to a ticket: the one it came from, callbacks, the customer calling again."""

    __tablename__ = "ticket_calls"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, index=True)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    """One read, reveal, export or change of customer data (handbook §6): who, what, when, from
    where. Append-only: the database refuses to update or delete a row (triggers, migration 0010)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_resource", "resource", "resource_id"), Index("ix_audit_log_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: the log outlives the user
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))  # customer.read | customer.search | phone.revealed | …
    resource: Mapped[str] = mapped_column(String(32))  # customer | customers
    resource_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    remote: Mapped[str] = mapped_column(String(64), default="")  # the client's address


class Task(Base):
    """A follow-up (跟进任务): a callback promised on a call, a reply owed, a dropped caller to call
    back, a message to pass on. It is someone's (assignee) or, until taken, its queue's agents'; it is
    done only with an outcome (config.tasks)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_due", "done_at", "due_at"),
        Index("ix_tasks_assignee_done", "assignee_id", "done_at"),
        Index("ix_tasks_call_kind", "call_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # a config.tasks kind code
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")  # dialled whole by the server; shown masked to masked roles
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))  # the call it comes from
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(64))  # while nobody has it: the queue whose agents may take it
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: opened by the product
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TaskCall(Base):
    """A dropped call a dropped_call task stands for: each such call is in one task, and the same
    caller dropping again joins the open task rather than opening another."""

    __tablename__ = "task_calls"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)


class CustomerChange(Base):
    """A change of a customer's grade or risk flag (客户等级分类表: 上期等级, 评定等级, 变动原因, 评定人,
    审批): proposed by an agent and approved or rejected by a leader or supervisor, or set by one of
    them directly (approved at once). The approved rows are the customer's grade history."""

    __tablename__ = "customer_changes"
    __table_args__ = (Index("ix_customer_changes_customer", "customer_id", "proposed_at"), Index("ix_customer_changes_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(16))  # grade | at_risk
    before: Mapped[str] = mapped_column(String(8))
    after: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # An at_risk change to "true": the risk's type, level, action and amount owed (危险客户统计表)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class DncEntry(Base):
    """A number not to call (勿扰名单): the customer opted out, a regulator's list, a complaint. Checked
    when a number is dialled; an entry with ``expires_at`` stops counting then."""

    __tablename__ = "dnc_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    normalized: Mapped[str] = mapped_column(String(24), unique=True)  # crm.phones.normalize_phone
    number: Mapped[str] = mapped_column(String(40))  # as entered
    reason: Mapped[str] = mapped_column(String(32))  # crm.dnc.REASONS
    note: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # crm.dnc.SOURCES
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Campaign(Base):
    """An outbound campaign (呼出任务): whom to call, when, how often, and what the agent says."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # the record form's 任务/活动名称 holds it
    call_type: Mapped[str] = mapped_column(String(32))  # crm.records.OUTBOUND_TYPES (呼出类型)
    mode: Mapped[str] = mapped_column(String(16))  # preview | progressive
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | running | paused | stopped
    queue: Mapped[str | None] = mapped_column(String(64))  # only this queue's members may join; none: any agent
    caller_id: Mapped[str] = mapped_column(String(40), default="")
    ring_s: Mapped[int] = mapped_column(Integer, default=30)  # how long a contact's phone rings before "no answer"
    purpose: Mapped[str] = mapped_column(Text, default="")  # 呼出目的
    script: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # crm.campaigns.plan.CallingHours
    retry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # crm.campaigns.plan.RetryPlan
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CampaignContact(Base):
    """One number of a campaign's list and where it stands: attempts so far, when it is next due,
    how it ended."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "normalized", name="uq_campaign_contacts_number"),
        Index("ix_campaign_contacts_due", "campaign_id", "status", "next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str] = mapped_column(String(40))  # as given
    normalized: Mapped[str] = mapped_column(String(24))  # crm.phones.normalize_phone
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)  # the number's time zones (calling hours hold in all)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # crm.campaigns.plan.CONTACT_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))  # the final one, once done
    reserved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # preview: the agent it is shown to
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CampaignAttempt(Base):
    """One dial of a contact, written before the call is placed (so a restart never dials it twice)."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (Index("ix_campaign_attempts_open", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    agent_extension: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # none while dialling (a callback asked for during the call: set); plan.OUTCOMES


class CampaignAgent(Base):
    """An agent who joined a campaign from the desktop: the dialler gives them its calls."""

    __tablename__ = "campaign_agents"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", name="uq_campaign_agents"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueueCallback(Base):
    """A caller who left a queue asking to be called back, keeping their place (docs/callbacks.md):
    one per call that asked (``requested_linkedid``), so it is never called twice for one request."""

    __tablename__ = "queue_callbacks"
    __table_args__ = (Index("ix_queue_callbacks_status", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    queue: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL", name="fk_queue_callbacks_customer_id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    waiting_since: Mapped[datetime] = mapped_column(UtcDateTime)  # when the caller joined the queue: the place kept
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # crm.callbacks.store.STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    retry_s: Mapped[int] = mapped_column(Integer, default=300)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a retry: not before
    linkedid: Mapped[str | None] = mapped_column(String(64), unique=True)  # the attempt under way: its call
    outcome: Mapped[str | None] = mapped_column(String(16))  # the last attempt's
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
