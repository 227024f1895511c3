"""Login tokens: random, stored only as a hash, with an expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import utcnow
from crm.models import ApiToken, User

TOKEN_LIFETIME = timedelta(hours=12)  # one shift, with margin


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, user: User) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=token_digest(token), user_id=user.id, expires_at=utcnow() + TOKEN_LIFETIME))
    await session.flush()
    return token


async def user_for_token(session: AsyncSession, token: str | None) -> User | None:
    """The active user a token belongs to, or None (unknown, expired, user deactivated)."""
    if not token or len(token) > 200:
        return None
    return await session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.expires_at > utcnow(), User.active)
    )


async def revoke_token(session: AsyncSession, token: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_digest(token)))


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


async def live_digests(session: AsyncSession, digests: set[str]) -> set[str]:
    """Of these token digests, the ones still valid (not revoked, not expired, user active)."""
    if not digests:
        return set()
    rows = await session.scalars(
        select(ApiToken.token_hash)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash.in_(digests), ApiToken.expires_at > utcnow(), User.active)
    )
    return set(rows)
