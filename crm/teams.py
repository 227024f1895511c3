"""Who is in which team and queue: what scopes a team leader's view (their team only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm.access import Scope
from crm.models import Role, User


@dataclass(frozen=True)
class AgentEntry:
    extension: str
    name: str
    team_id: int | None
    queues: frozenset[str]


@dataclass(frozen=True)
class Directory:
    agents: dict[str, AgentEntry] = field(default_factory=dict)  # by extension

    def queue_members(self) -> dict[str, set[str]]:
        members: dict[str, set[str]] = {}
        for agent in self.agents.values():
            for queue in agent.queues:
                members.setdefault(queue, set()).add(agent.extension)
        return members

    def team_queues(self, team_id: int) -> set[str]:
        """The queues a team works: those its agents are members of."""
        return {q for a in self.agents.values() if a.team_id == team_id for q in a.queues}

    def team_of(self, extension: str) -> int | None:
        agent = self.agents.get(extension)
        return agent.team_id if agent else None

    def agents_seen_by(self, scope: Scope) -> set[str]:
        """The extensions of the agents whose state and figures ``scope`` may see."""
        return {e for e, a in self.agents.items() if scope.sees_team(a.team_id)}

    def queues_seen_by(self, scope: Scope) -> set[str] | None:
        """The queues ``scope`` watches: None for all of them, else those its team works."""
        if scope.whole_center:
            return None
        return self.team_queues(scope.team_id) if scope.leads_a_team and scope.team_id is not None else set()


async def load_directory(session: AsyncSession) -> Directory:
    users = await session.scalars(
        select(User).where(User.role == Role.AGENT, User.active.is_(True), User.extension.is_not(None)).options(selectinload(User.queues))
    )
    return Directory(
        {
            u.extension: AgentEntry(u.extension, u.display_name or u.username, u.team_id, frozenset(q.name for q in u.queues))
            for u in users
            if u.extension
        }
    )
