"""Who is asking: login with a password, tokens (``Authorization: Bearer`` or the session cookie),
a login rate limit, and CSRF protection for writes made with the cookie."""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict, deque

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.models import User
from crm.passwords import verify_password
from crm.tokens import TOKEN_LIFETIME, issue_token, user_for_token
from crm.users import find_user

SESSION_COOKIE = "cc_session"
CSRF_COOKIE = "cc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


def json_error(status: int, message: str) -> web.HTTPException:
    """An HTTP error whose body is ``{"error": message}``."""
    return ERRORS[status](text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")


class LoginLimiter:
    """At most ``attempts`` failed logins per user name and per address in ``window_s``."""

    def __init__(self, attempts: int = 5, window_s: float = 60.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window_s:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(key)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(time.monotonic())


async def login(request: web.Request, sessions: async_sessionmaker[AsyncSession], limiter: LoginLimiter) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise json_error(400, "the body must be JSON: {\"username\": ..., \"password\": ...}") from None
    username, password = (body.get("username"), body.get("password")) if isinstance(body, dict) else (None, None)
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise json_error(400, "username and password are required")
    keys = (f"user:{username.lower()}", f"addr:{request.remote}")
    if limiter.blocked(*keys):
        raise json_error(429, "too many failed logins; wait a minute and try again")
    async with sessions() as session, session.begin():
        user = await find_user(session, username)
        if user is None or not user.active or not verify_password(user.password_hash, password):
            limiter.failed(*keys)
            raise json_error(401, "wrong user name or password")
        token = await issue_token(session, user)
    response = web.json_response({"token": token, "user": user_summary(user)})
    max_age = int(TOKEN_LIFETIME.total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="Strict", path="/")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(16), max_age=max_age, samesite="Strict", path="/")
    return response


def user_summary(user: User) -> dict[str, object]:
    return {"id": user.id, "username": user.username, "role": user.role.value, "display_name": user.display_name, "extension": user.extension}


def bearer_token(request: web.Request) -> tuple[str | None, bool]:
    """The token and whether it came from the cookie (then writes need the CSRF header)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


async def authenticate(request: web.Request, sessions: async_sessionmaker[AsyncSession]) -> User:
    token, from_cookie = bearer_token(request)
    async with sessions() as session:
        user = await user_for_token(session, token)
    if user is None:
        raise json_error(401, "log in first (POST /api/login), then send Authorization: Bearer <token>")
    if from_cookie and request.method not in SAFE_METHODS:
        sent, expected = request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)
        if not sent or not expected or not secrets.compare_digest(sent, expected):
            raise json_error(403, f"cookie-authenticated writes need the {CSRF_HEADER} header (the {CSRF_COOKIE} cookie's value)")
    return user
