"""Who is asking: login with a password, tokens (``Authorization: Bearer`` or the session cookie),
a login rate limit, and CSRF protection for writes made with the cookie."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import deque

import redis.asyncio as redis
from aiohttp import web
from redis.exceptions import RedisError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.models import User
from config.settings import WebSettings
from crm.passwords import check_password
from crm.tokens import TOKEN_LIFETIME, issue_token, user_for_token
from crm.users import find_user

log = logging.getLogger(__name__)

SESSION_COOKIE = "cc_session"
CSRF_COOKIE = "cc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_USERNAME = 64  # users.username's length: a longer name is no user's, and never a key as it is
MAX_PASSWORD = 1024  # Argon2 hashes any length; this bounds the work one request can ask for


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


class LoginForm(BaseModel):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginLimiter:
    """Failed logins, remembered for ``window_s``: at most ``attempts`` per address and user name
    (so guesses from elsewhere never lock the right password out) and ``attempts × spray`` per
    address (one address trying many names). A refused request stores nothing, and the table is
    bounded: past ``max_keys`` the stalest keys go first."""

    def __init__(self, attempts: int = 5, window_s: float = 60.0, *, spray: int = 4, max_keys: int = 10_000) -> None:
        self.attempts, self.window_s, self.spray, self.max_keys = attempts, window_s, spray, max_keys
        self._failures: dict[str, deque[float]] = {}

    def _count(self, key: str, now: float) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and failures[0] < now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        return len(failures)

    @staticmethod
    def _keys(address: str, username: str) -> tuple[str, str]:
        return f"addr:{address}", f"pair:{address}:{username[:MAX_USERNAME].lower()}"

    async def blocked(self, address: str, username: str) -> bool:
        now = time.monotonic()
        by_address, by_pair = self._keys(address, username)
        return self._count(by_pair, now) >= self.attempts or self._count(by_address, now) >= self.attempts * self.spray

    async def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        for key in self._keys(address, username):
            self._count(key, now)
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > self.max_keys:
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[: len(self._failures) - self.max_keys]:
                del self._failures[key]

    def __len__(self) -> int:
        return len(self._failures)


class SharedLoginLimiter(LoginLimiter):
    """The same rule with the failures in Redis (one sorted set per key, expiring with the window),
    so a guesser refused by one worker is refused by all of them. While Redis is away each worker
    counts on its own, as the in-memory limiter does: guessing is never let through unlimited."""

    def __init__(self, client: redis.Redis, prefix: str, attempts: int = 5, window_s: float = 60.0, *, spray: int = 4) -> None:
        super().__init__(attempts, window_s, spray=spray)
        self._redis, self._prefix = client, f"{prefix}:login:"

    async def _counts(self, keys: tuple[str, ...], now: float) -> list[int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcount(self._prefix + key, now - self.window_s, "+inf")
            return [int(n) for n in await pipe.execute()]

    async def blocked(self, address: str, username: str) -> bool:
        by_address, by_pair = self._keys(address, username)
        try:
            address_count, pair_count = await self._counts((by_address, by_pair), time.time())
        except (RedisError, OSError) as error:
            log.warning("login limiter: Redis away (%s); counting in this worker", type(error).__name__)
            return await super().blocked(address, username)
        return pair_count >= self.attempts or address_count >= self.attempts * self.spray

    async def failed(self, address: str, username: str) -> None:
        await super().failed(address, username)  # kept here too, for the time Redis may be away
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in self._keys(address, username):
                    pipe.zadd(self._prefix + key, {secrets.token_hex(8): now})
                    pipe.zremrangebyscore(self._prefix + key, 0, now - self.window_s)
                    pipe.expire(self._prefix + key, int(self.window_s) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("login limiter: Redis away (%s); counting in this worker", type(error).__name__)


def client_address(request: web.Request, web_settings: WebSettings) -> str:
    """The client's address: the peer's, or behind a trusted proxy the one its header names."""
    peer = request.remote or ""
    header = web_settings.client_address_header
    if header and peer in web_settings.trusted_proxies and (named := request.headers.get(header)):
        return named.split(",")[-1].strip()[:64] or peer
    return peer


async def login(
    request: web.Request, sessions: async_sessionmaker[AsyncSession], limiter: LoginLimiter, web_settings: WebSettings
) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise json_error(400, "the body must be JSON: {\"username\": ..., \"password\": ...}") from None
    try:
        form = LoginForm.model_validate(body)
    except ValidationError:
        raise json_error(400, "username and password are required") from None
    username, password = form.username, form.password
    address = client_address(request, web_settings)
    if await limiter.blocked(address, username):
        raise json_error(429, "too many failed logins; wait a minute and try again")
    async with sessions() as session:
        user = await find_user(session, username) if len(username) <= MAX_USERNAME else None
    known = user is not None and user.active
    if not await check_password(user.password_hash if known else None, password[:MAX_PASSWORD]) or user is None:
        await limiter.failed(address, username)
        raise json_error(401, "wrong user name or password")
    async with sessions() as session, session.begin():
        token = await issue_token(session, user)
    response = web.json_response({"token": token, "user": user_summary(user)})
    max_age = int(TOKEN_LIFETIME.total_seconds())
    secure = request.secure
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="Strict", path="/", secure=secure)
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(16), max_age=max_age, samesite="Strict", path="/", secure=secure)
    return response


def user_summary(user: User) -> dict[str, object]:
    return {
        "id": user.id, "username": user.username, "role": user.role.value, "display_name": user.display_name,
        "extension": user.extension, "phone_type": user.phone_type,
        "auto_answer": user.auto_answer, "server": user.server,
    }  # fmt: skip


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
