"""What the REST API answers, as pydantic models: the OpenAPI document's response schemas
(agent_ui/api/contract.py). The handlers build plain dicts; tests/test_api_fuzz.py checks every
answer against these models (schemathesis), so they cannot drift. Text that came from callers or
the CRM (names, notes) is untrusted: pages insert it as text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm import dnc


class Answer(BaseModel):
    # An answer may carry fields added after this model; clients ignore what they do not know.
    model_config = ConfigDict(extra="allow")


Direction = Literal["inbound", "outbound"]
AgentStateName = Literal["logged_out", "available", "paused", "ringing", "on_call", "wrap_up"]


class User(Answer):
    id: int
    username: str
    role: Literal["agent", "team_leader", "supervisor", "qa_inspector", "admin"]
    display_name: str
    extension: str | None
    phone_type: Literal["webrtc", "sip", "local"] = Field(description="what rings: the browser phone, a desk SIP phone, the sandbox's")
    auto_answer: bool = Field(description="the browser phone answers a call by itself, after a short beep")
    server: str | None = Field(description="the Asterisk server the phone is on (null: the first configured)")


class Me(User):
    may: dict[Literal["import_customers", "export_customers"], bool] = Field(description="what the page may offer this role (the server checks again)")


class LoginAnswer(Answer):
    token: str = Field(description="send as Authorization: Bearer <token>; also set as the cc_session cookie")
    user: User


class Health(Answer):
    status: Literal["ok", "degraded"] = Field(description="degraded while the call log spools, is stopped or holds dead letters")
    schema_revision: str | None
    calllog: dict[str, Any] | None = Field(default=None, description="the call log writer's health, when telephony runs")


class LoggedOut(Answer):
    logged_out: bool


class Phone(Answer):
    id: int | None = Field(description="dial or reveal it by this id; none for the number of an unknown caller")
    number: str = Field(description="as the reader's role may see it: 138****8000 when masked (privacy.full_phones)")
    masked: bool
    do_not_call: bool = Field(default=False, description="on the do-not-call list now (on a card)")


class RevealedPhone(Answer):
    id: int
    number: str


class Customer(Answer):
    id: int
    name: str
    company: str
    grade: Literal["A", "B", "C", "D"]
    region: str
    key_account: bool
    at_risk: bool
    notes: str
    preferred_queue: str | None
    phones: list[Phone]
    customer_type: Literal["existing", "target", "prospect", "partner"]
    industry: str
    ownership: str
    address: str
    postcode: str
    email: str
    website: str
    fax: str
    tax_id: str
    annual_sales: int | None = Field(description="年销售额, whole yuan")
    registered_capital: int | None
    credit_grade: str
    credit_limit: int | None
    credit_term_days: int | None
    payment_terms: str
    tags: list[str]
    owner_id: int | None = Field(description="负责业务员")
    registered_by: int | None = Field(description="登记人")
    registered_at: str | None
    reviewed_by: int | None = Field(description="审核人")
    reviewed_at: str | None
    risk: CustomerRisk | None = Field(description="危险客户: set while at_risk")
    contacts: list[Contact] = Field(default=[], description="in a create, an edit and a card; not in a search's list")


class CustomerRisk(Answer):
    type: str | None
    level: str | None
    action: str | None
    since: str | None


class Contact(Answer):
    id: int
    name: str
    title: str
    phone: str = Field(description="masked like the customer's numbers")
    email: str
    birthday: str | None
    hobbies: str
    decision_role: str


class Reviewed(Answer):
    id: int
    reviewed_by: int
    reviewed_at: str


class CustomerNote(Answer):
    id: int
    text: str
    private: bool
    author_id: int | None
    author: str | None
    at: str


class CustomerNotes(Answer):
    notes: list[CustomerNote]


class TimelineItem(Answer):
    kind: Literal["call", "ticket_opened", "ticket_closed", "task", "grade_change", "note"]
    at: str
    id: int
    text: str = Field(description="the call's summary or notes, the ticket's title (none if confidential), the task's title, the change's reason, the note")


class Timeline(Answer):
    items: list[TimelineItem]


class DncEntry(Answer):
    id: int
    number: str = Field(description="as the reader's role sees numbers")
    reason: Literal[dnc.REASONS]  # type: ignore[valid-type]
    note: str
    customer_id: int | None
    source: Literal[dnc.SOURCES]  # type: ignore[valid-type]
    added_by: str | None
    added_at: str
    expires_at: str | None


class DncEntries(Answer):
    entries: list[DncEntry]


class RejectedRow(Answer):
    line: int = Field(description="the file's line (the header is line 1)")
    column: str
    reason: str


class ImportReport(Answer):
    dry_run: bool
    rows: int = Field(description="customer rows in the file (blank lines aside)")
    valid: int
    rejected_rows: int
    imported: int = Field(description="0 on a dry run, and whenever a row was rejected: nothing is half-imported")
    rejected: list[RejectedRow] = Field(description="each problem with its line and column (the first 1,000)")


class CampaignHours(Answer):
    start: str = Field(description="HH:MM, the contact's local time")
    end: str
    days: list[int] = Field(description="ISO weekdays, 1 Monday to 7 Sunday")


class Campaign(Answer):
    id: int
    name: str
    call_type: str = Field(description="呼出类型: follow_up, survey, telemarketing, notice, complaint_reply, collection")
    mode: Literal["preview", "progressive"]
    status: Literal["draft", "running", "paused", "stopped"]
    queue: str | None = Field(description="only this queue's members may join; none: any agent")
    caller_id: str
    ring_s: int
    purpose: str
    script: str
    hours: CampaignHours
    retry: dict[str, Any] = Field(description="retries: per outcome (no_answer, busy, failed, callback) attempts and gap_min; max_attempts")
    joined: bool = Field(description="the reader has joined it")
    agents: list[str] = Field(description="extensions of the agents who joined it")
    created_at: str


class Campaigns(Answer):
    campaigns: list[Campaign]


class CampaignContact(Answer):
    id: int
    campaign_id: int
    name: str
    number: str | None = Field(description="as the reader's role sees it (masked for agents); dialled by the contact's id")
    customer_id: int | None
    attempts: int
    last_outcome: str | None
    status: Literal["pending", "reserved", "dialling", "done"]


class CampaignPreview(Answer):
    campaign_id: int
    script: str
    contact: CampaignContact | None = Field(description="null: no contact is due now")


class ContactsLoaded(Answer):
    added: int
    already_there: int = Field(description="numbers the campaign had (a number is one contact, however written)")


class CampaignContactsReport(ImportReport):
    already_there: int = Field(default=0, description="valid rows whose number the campaign had")


class AuditEntry(Answer):
    id: int
    at: str
    user_id: int | None
    username: str
    role: str
    action: str
    resource: str
    resource_id: int | None
    detail: dict[str, Any]
    remote: str


class AuditEntries(Answer):
    entries: list[AuditEntry]


class MergedCustomer(Customer):
    moved: dict[str, int] = Field(description="how many calls, records, tickets, tasks and phones moved over")


class GradeChange(Answer):
    """A grade or risk change: proposed, approved or rejected (客户等级分类表: 上期等级, 评定等级, 变动原因, 审批)."""

    id: int
    customer_id: int
    customer_name: str | None
    field: Literal["grade", "at_risk"]
    before: str
    after: str
    reason: str
    status: Literal["pending", "approved", "rejected"]
    proposed_by: str | None
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str
    risk: dict[str, Any] | None = Field(description="a change to 危险客户: its type, level, action, amount_owed")


class GradeChanges(Answer):
    changes: list[GradeChange]


class Customers(Answer):
    customers: list[Customer]


class PastCall(Answer):
    id: int
    started_at: str
    direction: Direction
    disposition: str | None
    disposition_code: str | None
    agent: str | None
    notes: str
    summary: str | None
    satisfaction: int | None = Field(default=None, description="the caller's satisfaction survey key, 1 (poor) to 5; none: not asked or no answer")


class OpenTicket(Answer):
    id: int
    number: str
    type: str
    status: str
    title: str | None = Field(description="left out of a confidential complaint")
    major: bool
    due_at: str
    deadline: Literal["on_time", "due_soon", "overdue", "responded"]


class CustomerCard(Answer):
    """A known customer's fields and last calls; for an unknown number only ``new`` and ``phones``."""

    new: bool
    phones: list[Phone]
    recent_calls: list[PastCall] = []
    open_tickets: list[OpenTicket] = []
    note_entries: list[CustomerNote] = Field(default=[], description="the newest notes the reader may see")


class Call(Answer):
    id: int
    linkedid: str = Field(description="the call_id of the socket.io events")
    server: str
    direction: Direction
    did: str | None
    caller_number: str | None
    caller_name: str | None
    called_number: str | None
    customer_id: int | None
    queue: str | None
    priority: int | None
    route: str | None
    agent_id: int | None
    agent_extension: str | None
    started_at: str
    queued_at: str | None
    offered_at: str | None
    answered_at: str | None
    ended_at: str | None
    wait_s: float | None
    talk_s: float | None
    hold_s: float | None
    hold_count: int | None
    wrapup_s: float | None
    disposition: str | None
    hangup_side: str | None
    offers: list[Any]
    transfers: list[Any]
    recordings: list[str]
    recording_paused: list[dict[str, str | None]] = Field(
        default=[], description="spans the agent paused the recording (start, end; ISO): the recording is silent there"
    )
    surveyed_at: str | None = Field(default=None, description="when the caller was asked the satisfaction survey (the agent had hung up)")
    satisfaction: int | None = Field(default=None, description="the caller's survey key, 1 (poor) to 5 (very satisfied)")
    disposition_code: str | None
    notes: str | None


class Calls(Answer):
    calls: list[Call]


class MyDay(Answer):
    since: str
    calls_handled: int
    talk_s: float
    average_handle_time_s: float | None
    calls: list[Call]


class FollowUpTask(Answer):
    """A follow-up task (跟进任务): a callback, a reply owed, a dropped caller, a message."""

    id: int
    kind: str = Field(description="a tasks.kinds code: callback, reply, dropped_call, message, urgent, other")
    title: str
    note: str
    customer_id: int | None
    customer_name: str | None
    phone: str = Field(description="the number to call, masked (138****8000) for the roles outside privacy.full_phones")
    dialable: bool = Field(description="it has a number: POST /api/me/dial with task_id calls it")
    call_id: str | None = Field(description="the Linkedid of the call it comes from")
    drops: int = Field(description="dropped_call: how many times this caller gave up waiting")
    ticket_id: int | None
    assignee_id: int | None = Field(description="whose it is; empty: any agent of its queue may take it")
    assignee: str | None
    queue: str | None
    created_at: str
    due_at: str
    deadline: Literal["on_time", "due_soon", "overdue", "done"]
    done_at: str | None
    done_by: str | None
    outcome: str | None = Field(description="a tasks.outcomes code")
    outcome_note: str


class FollowUpTasks(Answer):
    tasks: list[FollowUpTask]
    total: int
    offset: int


class TaskDone(Answer):
    task: FollowUpTask
    again: FollowUpTask | None = Field(description="the follow-up opened for again_at, if one was asked for")


class Record(Answer):
    """The business record form of a call with the call's facts; the fields of its direction only."""

    record_no: str = Field(description="记录编号: IN-|OUT-, the call's local date, the call's row id")
    saved: bool
    call_id: str
    direction: Direction
    started_at: str
    number: str | None
    agent_extension: str | None
    talk_s: float | None
    recordings: list[str]
    customer_id: int | None
    disposition_code: str | None
    notes: str | None
    tickets: list[TicketSummary] = Field(default=[], description="the tickets this call is linked to")
    tasks: list[FollowUpTask] = Field(default=[], description="saving: the follow-ups the form promises (callback, reply)")


class AgentState(Answer):
    agent: str
    state: AgentStateName
    reason: str | None
    since: str | None
    call_id: str | None
    queues: list[str]
    pause_reason: str | None = Field(default=None, description="Asterisk's pause reason; 'disposition': held until the last call has a code")
    wrapup_until: str | None = None
    pending_disposition: str | None = Field(
        default=None, description="GET only: my last call that still needs a disposition code (its call id), if any"
    )


class BrowserPhone(Answer):
    """What the desktop's softphone registers with; the password is new at every request."""

    wss_url: str
    uri: str
    username: str
    password: str
    auto_answer: bool


class Meta(Answer):
    pause_reasons: list[dict[str, Any]]
    disposition_codes: list[dict[str, Any]]
    queues: list[dict[str, Any]]
    record_choices: dict[str, list[str]]
    connect_status_of: dict[str, str]
    disposition_pause: str | None
    phone_pause: str = Field(description="the reserved pause reason of an agent whose browser phone stopped working")
    ticket_types: list[dict[str, Any]] = Field(description="tickets.types: categories, registration fields, steps with their forms")
    task_kinds: list[dict[str, Any]] = Field(description="tasks.kinds: code, labels, due_min")
    task_outcomes: list[dict[str, Any]] = Field(description="tasks.outcomes: code and labels")
    task_near_due_min: float = Field(description="a task is 'due soon' this many minutes before it is due")


class TicketSummary(Answer):
    """A complaint or after-sales ticket in a list, the screen pop or a record form."""

    id: int
    number: str = Field(description="PREFIX-YYYYMMDD-000123 (TS complaints, AS after-sales)")
    type: str
    category: str
    severity: Literal["severe", "ordinary", "minor"]
    major: bool
    confidential: bool
    status: str = Field(description="the step it is at")
    title: str
    customer_id: int | None
    customer_name: str | None
    complainant_hidden: bool = Field(description="confidential and you do not handle it: who complained is left out")
    owner_id: int | None
    owner: str | None
    opened_at: str
    due_at: str = Field(description="the promised response")
    responded_at: str | None
    closed_at: str | None
    deadline: Literal["on_time", "due_soon", "overdue", "responded", "closed"]
    next_steps: list[str]


class Tickets(Answer):
    tickets: list[TicketSummary]
    total: int
    offset: int


class TicketEvent(Answer):
    kind: Literal["opened", "step", "back", "reopened", "assigned", "linked"]
    step: str | None
    values: dict[str, Any]
    note: str
    actor: str | None
    at: str


class TicketDetail(TicketSummary):
    description: str
    fields: dict[str, Any]
    contact: str | None
    contact_phone: str | None
    events: list[TicketEvent]
    calls: list[dict[str, Any]]
    may_handle: bool
    may_close: bool


class CallAction(Answer):
    call_id: str
    done: str


class Dialled(Answer):
    call_id: str = Field(description="the new call's Linkedid")


class Spying(Answer):
    agent: str
    mode: Literal["listen", "whisper", "barge", "stopped"]
    spy_id: str


class QueueStats(Answer):
    queue: str
    display_name: str
    display_name_zh: str = Field(description="the queue's Chinese name (display_name when it has none)")
    at: str
    waiting: int = Field(description="callers in the queue now")
    longest_wait_s: float
    agents: dict[str, int] = Field(description="agent counts by state")
    offered: int
    answered: int
    abandoned: int
    callbacks: int = Field(description="callers who left asking to be called back (docs/callbacks.md): not abandons")
    callbacks_waiting: int = Field(description="callbacks holding a caller's place in the queue now")
    service_level: float | None
    csat: float | None = Field(description="today's share of survey answers of 4 or 5 (docs/kpis.md); none: no answer yet")
    csat_avg: float | None = Field(description="today's average survey key, 1-5")
    csat_responses: int = Field(description="today's survey answers")
    required_agents: int | None = Field(description="Erlang C: agents needed for the target now")


class LiveCall(Answer):
    call_id: str
    direction: Direction
    caller_number: str | None
    caller_name: str | None
    queue: str | None
    phase: str
    duration_s: float


class Monitoring(Answer):
    spy_id: str
    leader: str = Field(description="the leader's display name")
    mode: Literal["listen", "whisper", "barge"]


class AgentGridRow(Answer):
    agent: str
    name: str
    team: int | None
    state: AgentStateName
    state_s: float
    queues: list[str]
    call: LiveCall | None
    handled_today: int
    talk_today_s: float
    monitored_by: list[Monitoring] = Field(description="the leaders listening, whispering or barging on the agent's call now")


class Alert(Answer):
    kind: Literal["service_level", "long_wait", "long_call", "long_pause"]
    queue: str | None
    agent: str | None
    value: float | None
    threshold: float | None
    active: bool
    at: str


class LivePicture(Answer):
    queues: list[QueueStats]
    alerts: list[Alert]


class AgentGrid(Answer):
    agents: list[AgentGridRow]


class Report(Answer):
    """A report's range and rows (``format=csv``: the same rows as a CSV download)."""

    rows: list[dict[str, Any]]


class ScorecardSummary(Answer):
    id: int
    key: str
    version: int
    en: str
    zh: str
    max_total: float


class Scorecard(ScorecardSummary):
    sections: list[dict[str, Any]]
    rules: list[dict[str, Any]]


class Scorecards(Answer):
    scorecards: list[ScorecardSummary]


class ReviewCall(Answer):
    call_id: int
    linkedid: str
    agent: str | None
    queue: str | None
    started_at: str
    reasons: list[str] = Field(description="sample, code:<code>, auto_qa, long, short, low_satisfaction, picked")
    satisfaction: int | None = Field(default=None, description="the caller's satisfaction survey key, 1 (poor) to 5")


class ReviewQueue(Answer):
    calls: list[ReviewCall]


class Picked(Answer):
    call_id: int
    reasons: list[str]


class Evaluation(Answer):
    id: int
    call_id: int
    agent_id: int | None
    inspector_id: int
    scorecard_id: int
    calibration_id: int | None
    status: Literal["submitted", "acknowledged", "disputed", "resolved"]
    created_at: str
    version: int
    total: float
    fatal: bool
    items: dict[str, Any]
    comments: dict[str, str]
    method: Literal["live", "recording", "floor_walk"] = Field(description="监控方式: live listen, a recording sampled, a floor walk")
    case: Literal["good", "bad"] | None = Field(description="典型案例: in the case library as a good or a bad example")
    case_note: str = Field(description="what the case teaches")
    review: Literal["due", "agreed", "returned"] | None = Field(description="组长/主管复核: null when not drawn for review")
    reviewer_id: int | None
    versions: list[dict[str, Any]] = Field(default=[], description="one evaluation: every version, never changed")
    events: list[dict[str, Any]] = Field(default=[], description="one evaluation: the audit trail")


class Evaluations(Answer):
    evaluations: list[Evaluation]


class Case(Evaluation):
    started_at: str = Field(description="when the call began")
    direction: Literal["inbound", "outbound"]
    queue: str | None
    talk_s: float | None


class Cases(Answer):
    cases: list[Case]


class Calibration(Answer):
    id: int
    call_id: int
    scorecard_id: int
    inspectors: list[int]


class Calibrations(Answer):
    calibrations: list[Calibration]


class Spread(Answer):
    calibration: int
    call_id: int
    inspectors: list[int]
    graded_by: list[int]
    total_range: float | None
    items: list[dict[str, Any]] = Field(description="per item: each inspector's points, min, max, range, stdev")


class AutoQa(Answer):
    call_id: int
    state: str
    auto_score: float | None
    flagged: bool
    analysed_at: str | None
