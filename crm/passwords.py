"""Password hashing with Argon2id (argon2-cffi, the reference implementation's binding)."""

from __future__ import annotations

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("no user has this password")


@functools.cache
def _checkers() -> ThreadPoolExecutor:
    # One core is left to the event loop: twenty logins at once (an attack, a shift change) wait
    # their turn here instead of starving AMI, AGI and every socket of CPU.
    return ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2")


async def check_password(password_hash: str | None, password: str) -> bool:
    """``verify_password`` off the event loop (an Argon2 check takes ~0.1 s of CPU). With no hash
    (no such user) a dummy one is checked, so the answer takes as long and does not tell which
    user names exist."""
    loop = asyncio.get_running_loop()
    if password_hash is None:
        await loop.run_in_executor(_checkers(), lambda: verify_password(_dummy_hash(), password))
        return False
    return await loop.run_in_executor(_checkers(), verify_password, password_hash, password)
