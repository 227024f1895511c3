"""What the handlers need of live telephony: its command API (503 when this server runs none), the
user's extension (400 without one), and an agent's state as the API answers it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from agent_ui.api.common import SESSIONS
from agent_ui.app_keys import DISPOSITIONS, TELEPHONY
from agent_ui.auth import json_error
from agent_ui.wallboard.board import agent_state_payload
from crm.models import User
from crm.queues import queues_of_user
from telephony.agents.state import AgentSnapshot, AgentState
from telephony.commands import AgentControlError, OwnerUnreachable, TelephonyCommands


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["available", "paused", "logged_out"]
    reason: str | None = Field(default=None, max_length=64, description="a pause reason code (agents.pause_reasons), required with paused")


@web.middleware
async def owner_unreachable(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """In a cluster, a command the telephony's owner did not answer is the service's failure, not a
    refusal of the request: 503, and the user may try again (the owner's successor takes it)."""
    try:
        return await handler(request)
    except OwnerUnreachable as error:
        raise json_error(503, f"telephony is not answering, try again: {error}") from None


def commands(request: web.Request) -> TelephonyCommands:
    telephony = request.app.get(TELEPHONY)
    if telephony is None:
        raise json_error(503, "telephony is not running in this server")
    return telephony.commands


async def pending_disposition(request: web.Request, extension: str) -> str | None:
    """The call ``extension`` owes a disposition code for (agents.disposition_required), if any:
    asked of this app's guard, or in a cluster of the telephony's owner."""
    if (guard := request.app.get(DISPOSITIONS)) is not None:
        return guard.pending(extension)
    telephony = request.app.get(TELEPHONY)
    if telephony is not None and telephony.cluster is not None:
        return await telephony.commands.disposition_pending(extension)  # type: ignore[no-any-return]
    return None


async def disposition_settled(request: web.Request, extension: str | None, linkedid: str) -> None:
    """A code was saved for ``linkedid``: the agent held for it goes back to work."""
    if (guard := request.app.get(DISPOSITIONS)) is not None:
        await guard.settled(extension, linkedid)
    elif (telephony := request.app.get(TELEPHONY)) is not None and telephony.cluster is not None:
        await telephony.commands.disposition_settled(extension, linkedid)


def extension_of(user: User) -> str:
    if not user.extension:
        raise json_error(400, "you have no extension, so no phone to take calls on")
    return user.extension


def state_json(agent: AgentSnapshot | None, extension: str) -> dict[str, Any]:
    if agent is None:
        return {"agent": extension, "state": AgentState.LOGGED_OUT.value, "reason": None, "since": None, "queues": [], "call_id": None}
    return {**agent_state_payload(agent), "queues": agent.queues}


async def apply_state(request: web.Request, agent: User, change: StateChange) -> dict[str, Any]:
    """Put ``agent`` in the wanted state (logging them in to their queues first if need be) and
    answer with their state once Asterisk has confirmed it. Used by the agent and by leaders."""
    extension, telephony = extension_of(agent), commands(request)
    if change.state == "paused" and not change.reason:
        raise json_error(400, "reason: a pause needs a reason code")
    async with request.app[SESSIONS]() as session:
        queues = await queues_of_user(session, agent.id)
    try:
        now = await telephony.set_agent_state(
            extension, change.state, queues=queues, name=agent.display_name or agent.username, reason=change.reason,
            home=agent.server,
        )
    except AgentControlError as error:
        raise json_error(400, str(error)) from None
    return state_json(now, extension)
