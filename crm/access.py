"""Who may see what of the center's calls, recordings, evaluations, agents and live calls: the one
place it is decided, for every route and socket.io room (the matrix is in docs/security.md).

- Supervisors (主管) and admins: the whole center.
- QA inspectors (质检员): every call, its recording and every evaluation, except calibration
  grades other than their own (calibration is blind); no agents, no live calls.
- Team leaders (组长): their team's agents, calls, recordings, evaluations and live calls, and
  their own calls. A leader without a team has no team: they see their own calls and nothing else.
- Agents (座席员): their own calls, recordings, evaluations and live call.

Tickets (complaints, after-sales): everyone but QA opens them; an agent sees those they opened or own,
a leader their team's too, QA inspectors every one (they verify complaints about agents) and
supervisors and admins all. A major complaint (重大投诉) is escalated: only supervisors and admins
handle it. Who complained, on a ticket marked confidential (客户保密), is seen only by its handlers.

Follow-up tasks: an agent's own, and the untaken ones of the queues they serve (any of them may take
one); a leader's team's too, and the untaken ones of the queues their team serves; supervisors and
admins all; QA inspectors none. Whoever sees a task may work it; only leaders (in their team) and
supervisors give a task to someone else.

Customer grade and risk: agents propose changes; a leader decides their team's proposals (and sets a
grade directly), supervisors and admins any. A registration is reviewed (审核) by a leader or supervisor.

Notes on customers: a shared note is seen by everyone who sees the customer; a private one by its
author alone, whatever the reader's role.

Customer import and export (handbook §6: no copying without approval): the roles the settings name
(privacy.import_customers, privacy.export_customers; supervisors and admins by default).

Outbound campaigns: supervisors and admins create them and load their lists; leaders too start,
pause, resume and stop them and read their figures (a team leader's agent rows: their team's);
agents and leaders with a phone join those they may serve (a campaign naming a queue: its members).

Every answer fails closed: a role this module does not name sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import Call, CustomerChange, CustomerNote, Evaluation, Queue, QueueMembership, Role, Task, Ticket, User

WHOLE_CENTER = frozenset({Role.SUPERVISOR, Role.ADMIN})
HEARS_EVERY_CALL = WHOLE_CENTER | {Role.QA_INSPECTOR}


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    team_id: int | None
    extension: str | None

    @classmethod
    def of(cls, user: User) -> Scope:
        return cls(user.id, user.role, user.team_id, user.extension)

    @property
    def whole_center(self) -> bool:
        return self.role in WHOLE_CENTER

    @property
    def leads_a_team(self) -> bool:
        return self.role == Role.TEAM_LEADER and self.team_id is not None

    # People ----------------------------------------------------------------------------------------

    def sees_team(self, team_id: int | None) -> bool:
        """Whether this user watches and manages the agents of ``team_id`` (None: agents in no team)."""
        return self.whole_center or (self.leads_a_team and team_id == self.team_id)

    def manages(self, agent: User) -> bool:
        """Pause, log off, listen to, whisper to or barge in on this agent."""
        return agent.role == Role.AGENT and self.sees_team(agent.team_id)

    def _team_members(self):  # type: ignore[no-untyped-def]
        return select(User.id).where(User.team_id == self.team_id)

    def _agents(self, column) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
        """Rows whose agent (``column``) is this user or, for a leader, one of the team."""
        own = column == self.user_id
        return or_(own, column.in_(self._team_members())) if self.leads_a_team else own

    # Outbound campaigns ---------------------------------------------------------------------------

    def runs_campaigns(self) -> bool:
        """Create a campaign and load its numbers (主管)."""
        return self.whole_center

    def steers_campaigns(self) -> bool:
        """Start, pause, resume and stop a campaign, and read its figures."""
        return self.whole_center or self.role == Role.TEAM_LEADER

    def joins_campaign(self, campaign_queue: str | None, own_queues: set[str]) -> bool:
        """Take a campaign's calls: someone with a phone who serves its queue, when it names one."""
        return (
            self.role in (Role.AGENT, Role.TEAM_LEADER)
            and self.extension is not None
            and (campaign_queue is None or campaign_queue in own_queues)
        )

    def campaign_agents(self) -> ColumnElement[bool]:
        """A WHERE clause on ``users``: whose rows of a campaign's figures this user reads."""
        if self.whole_center:
            return true()
        return User.team_id == self.team_id if self.leads_a_team else false()

    # Calls and their recordings, record forms, transcripts and auto-QA -------------------------------

    def calls(self) -> ColumnElement[bool]:
        """A WHERE clause on ``calls``: the calls this user may read."""
        if self.role in HEARS_EVERY_CALL:
            return true()
        if self.role in (Role.AGENT, Role.TEAM_LEADER):
            return self._agents(Call.agent_id)
        return false()

    def writes_calls(self) -> ColumnElement[bool]:
        """The calls whose disposition, notes and record form this user may save: QA reads, never writes."""
        return self.calls() if self.role != Role.QA_INSPECTOR else false()

    # Evaluations -------------------------------------------------------------------------------------

    def evaluations(self) -> ColumnElement[bool]:
        """A WHERE clause on ``evaluations``. A calibration grade is seen only by its grader until the
        spread report, which has its own rule (:meth:`sees_spread`)."""
        graded = Evaluation.calibration_id.is_(None)
        own_calibration = and_(Evaluation.calibration_id.is_not(None), Evaluation.inspector_id == self.user_id)
        if self.whole_center:
            return true()
        if self.role == Role.QA_INSPECTOR:
            return or_(graded, own_calibration)
        if self.role == Role.TEAM_LEADER:
            team = and_(graded, Evaluation.agent_id.in_(self._team_members())) if self.leads_a_team else false()
            return or_(team, own_calibration)
        if self.role == Role.AGENT:
            return and_(graded, Evaluation.agent_id == self.user_id)
        return false()

    def corrects(self, evaluation: Evaluation) -> bool:
        """Only the grader, a supervisor or an admin changes an evaluation's grades: a team leader
        coaching their team never overwrites an inspector's."""
        return self.whole_center or evaluation.inspector_id == self.user_id

    def resolves(self, evaluation: Evaluation) -> bool:
        """A dispute is settled by someone other than the one who graded (handbook: the agent may
        appeal the inspector's result; the appeal is heard by another)."""
        return self.role in (Role.QA_INSPECTOR, *WHOLE_CENTER) and evaluation.inspector_id != self.user_id

    def sees_spread(self, creator: int, graders: list[int], graded_by: list[int]) -> bool | None:
        """The calibration spread: True to show it, False while this grader has not graded yet
        (calibration stays blind for them, creator or not), None when it is none of theirs."""
        if self.user_id in graders:
            return self.user_id in graded_by
        return True if self.whole_center or creator == self.user_id else None

    # Tickets -------------------------------------------------------------------------------------------

    def opens_tickets(self) -> bool:
        return self.role in (Role.AGENT, Role.TEAM_LEADER, *WHOLE_CENTER)

    def tickets(self) -> ColumnElement[bool]:
        """A WHERE clause on ``tickets``: the tickets this user may read."""
        if self.role in HEARS_EVERY_CALL:
            return true()
        if self.role in (Role.AGENT, Role.TEAM_LEADER):
            return or_(self._agents(Ticket.owner_id), self._agents(Ticket.opened_by))
        return false()

    def handles_ticket(self, ticket: Ticket, *, escalated: bool, owner_team: int | None, opener_team: int | None) -> bool:
        """Move it through its steps, reassign it, link calls: its owner (or, while it has none, whoever
        opened it), their team leader, the supervisors. An escalated one: the supervisors alone."""
        if self.whole_center:
            return True
        if escalated or self.role not in (Role.AGENT, Role.TEAM_LEADER):
            return False
        responsible = ticket.owner_id if ticket.owner_id is not None else ticket.opened_by
        if responsible == self.user_id:
            return True
        team = owner_team if ticket.owner_id is not None else opener_team
        return self.leads_a_team and team == self.team_id

    def closes_ticket(self, handles: bool, closed_by: str) -> bool:
        """The last step: its handler, or (a type closed by leaders, such as complaints) a handler who
        is a team leader, supervisor or admin (handbook §1.4: agents do not close complaints)."""
        return handles and (closed_by == "handler" or self.role in (Role.TEAM_LEADER, *WHOLE_CENTER))

    # Follow-up tasks -----------------------------------------------------------------------------------

    def tasks(self) -> ColumnElement[bool]:
        """A WHERE clause on ``tasks``: the tasks this user may see and work."""
        if self.whole_center:
            return true()
        if self.role not in (Role.AGENT, Role.TEAM_LEADER):
            return false()
        people = self._team_members() if self.leads_a_team else select(User.id).where(User.id == self.user_id)
        served = select(Queue.name).join(QueueMembership, QueueMembership.queue_id == Queue.id).where(QueueMembership.user_id.in_(people))
        untaken = and_(Task.assignee_id.is_(None), Task.queue.in_(served))
        return or_(self._agents(Task.assignee_id), untaken)

    def gives_task_to(self, someone: User) -> bool:
        """Assign a task: to oneself (taking it), a leader to their team, supervisors to any staff."""
        if not someone.active or someone.role == Role.QA_INSPECTOR:
            return False
        if someone.id == self.user_id:
            return self.role in (Role.AGENT, Role.TEAM_LEADER, *WHOLE_CENTER)
        return self.whole_center or (self.leads_a_team and someone.team_id == self.team_id)

    # Customer grade and risk ------------------------------------------------------------------------

    def sets_grades(self) -> bool:
        """Change a customer's grade or risk flag directly, and decide proposals."""
        return self.role in (Role.TEAM_LEADER, *WHOLE_CENTER)

    def reviews_customers(self) -> bool:
        """Sign a customer's registration as reviewed (审核人)."""
        return self.role in (Role.TEAM_LEADER, *WHOLE_CENTER)

    def customer_changes(self) -> ColumnElement[bool]:
        """A WHERE clause on ``customer_changes``: the proposals this user decides (and sees listed)."""
        if self.whole_center:
            return true()
        if self.role == Role.TEAM_LEADER:
            return self._agents(CustomerChange.proposed_by)
        return false()

    # Live calls ----------------------------------------------------------------------------------------

    def controls_live_call(self, agent_extension: str | None, agent_team: int | None) -> bool:
        """Hang up, hold, transfer: an agent their own call, a leader their team's, the center's
        supervisors any."""
        if self.whole_center:
            return True
        if agent_extension is None:
            return False
        if self.extension is not None and agent_extension == self.extension and self.role in (Role.AGENT, Role.TEAM_LEADER):
            return True
        return self.role == Role.TEAM_LEADER and self.sees_team(agent_team)


def customer_notes(reader_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on ``customer_notes``: the shared notes, and the reader's own private ones."""
    shared = CustomerNote.private.is_(False)
    return shared if reader_id is None else or_(shared, CustomerNote.author_id == reader_id)


def moves_customer_data(role: Role, allowed: list[str]) -> bool:
    """Import or export customers in bulk: a role the settings name (privacy.import_customers or
    privacy.export_customers), never QA."""
    return role != Role.QA_INSPECTOR and role.value in allowed


async def team_of_extension(session: AsyncSession, extension: str | None) -> int | None:
    if extension is None:
        return None
    return await session.scalar(select(User.team_id).where(User.extension == extension))
