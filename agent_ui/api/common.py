"""What every endpoint shares: the logged-in user, role checks, validated JSON bodies and queries,
and the contract each declares (agent_ui/api/contract.py)."""

from __future__ import annotations

import functools
from datetime import datetime
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, Strict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agent_ui.api.contract import Contract
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import authenticate, client_address, json_error
from crm.audit import Actor
from crm.models import Role, User
from crm.privacy import Disclosure

SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[..., Awaitable[web.StreamResponse]]

# Row ids are 32-bit on PostgreSQL; a larger number is no row (and would be a driver error).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), Strict()]  # strict: true is no row id


def _iso(value: Any) -> Any:
    """ISO 8601 only: pydantic alone would take a number for seconds since 1970."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso)]
AwareIsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso)]

STAFF = (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMIN)
EVERYONE = (*STAFF, Role.QA_INSPECTOR)


def endpoint(
    *roles: Role,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    answer: Any = None,
    status: int = 200,
    media: str = "application/json",
    also: tuple[str, ...] = (),
    notes: str = "",
    path: dict[str, str] | None = None,
    errors: dict[int, str] | None = None,
    upload: str | None = None,
) -> Callable[[Endpoint], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Authenticate the request and check the role, then parse the JSON ``body`` and the ``query``
    with their models (the handler gets them as ``body=`` and ``query=``). The arguments are the
    route's contract, from which the OpenAPI document is built."""
    contract = Contract(summary, roles, body, query, answer, status, media, also, notes, path or {}, errors or {}, upload)

    def wrap(handler: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            user = await authenticate(request, request.app[SESSIONS])
            if user.role not in roles:
                raise json_error(403, f"this needs one of the roles: {', '.join(r.value for r in roles)}")
            parsed: dict[str, BaseModel] = {}
            if query is not None:
                parsed["query"] = read_query(request, query)
            if body is not None:
                parsed["body"] = await read_body(request, body)
            return await handler(request, user, **parsed)

        run.__contract__ = contract  # type: ignore[attr-defined]
        return run

    return wrap


def _problem(error: ValidationError, where_default: str) -> str:
    problem = error.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or where_default
    return f"{where}: {problem['msg']}"


def read_query(request: web.Request, model: type[M]) -> M:
    """The query string as ``model`` (an empty value is a value not given; a name given twice is
    refused, not silently read as one of its values)."""
    repeated = next((name for name in request.query if len(request.query.getall(name)) > 1), None)
    if repeated is not None:
        raise json_error(400, f"{repeated}: given more than once")
    try:
        return model.model_validate_strings({name: value for name, value in request.query.items() if value != ""})
    except ValidationError as error:
        raise json_error(400, _problem(error, "query")) from None


async def read_body(request: web.Request, model: type[M]) -> M:
    try:
        data = await request.json()
    except ValueError:
        raise json_error(400, "the body must be JSON") from None
    if _holds_nul(data):
        raise json_error(400, "text must not contain NUL characters")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise json_error(400, _problem(error, "body")) from None


def _holds_nul(data: Any) -> bool:
    """Whether any text in a JSON document holds NUL, which PostgreSQL cannot store."""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_holds_nul(v) for v in data)
    return False


def row_id(text: str) -> int | None:
    """The row id written in ``text``, or None if it cannot be one."""
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def path_id(request: web.Request) -> int:
    value = row_id(request.match_info["id"])
    if value is None:
        raise json_error(404, "no such id")
    return value


@web.middleware
async def refuse_nul(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """NUL in the address is refused at the door, alike on both databases (PostgreSQL cannot store it)."""
    if "\x00" in request.path or any("\x00" in value for value in request.query.values()):
        raise json_error(400, "the address must not contain NUL characters")
    return await handler(request)


def disclosure(request: web.Request, user: User) -> Disclosure:
    """What this user is shown of phone numbers (crm.privacy)."""
    settings = request.app[SETTINGS]
    return Disclosure.of(user.id, user.role, settings.privacy, settings.crm.default_region)


def actor(request: web.Request, user: User) -> Actor:
    """The user and their address (behind a trusted proxy, the one it names), for the audit log."""
    return Actor.of(user, client_address(request, request.app[SETTINGS].web))
