"""What every endpoint shares: the logged-in user, role checks, validated JSON bodies."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agent_ui.auth import authenticate, json_error
from crm.models import Role, User

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[[web.Request, User], Awaitable[web.StreamResponse]]

STAFF = (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
EVERYONE = (*STAFF, Role.QA_INSPECTOR)


def endpoint(*roles: Role) -> Callable[[Endpoint], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Authenticate the request and check the role before the handler runs."""

    def wrap(handler: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            user = await authenticate(request, request.app[SESSIONS])
            if user.role not in roles:
                raise json_error(403, f"this needs the role {' or '.join(r.value for r in roles)}")
            return await handler(request, user)

        return run

    return wrap


async def body(request: web.Request, model: type[M]) -> M:
    try:
        data = await request.json()
    except ValueError:
        raise json_error(400, "the body must be JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "body"
        raise json_error(400, f"{where}: {problem['msg']}") from None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise json_error(400, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise json_error(400, f"{name} must be between {low} and {high}")
    return value


def path_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise json_error(404, "no such id") from None
