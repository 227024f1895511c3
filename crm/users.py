"""Creating and finding the people who log in."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.models import PHONE_TYPES, Queue, Role, Team, User
from crm.passwords import WeakPassword, hash_password

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
EXTENSION = re.compile(r"^[0-9]{2,8}$")


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str = "",
    extension: str | None = None,
    queues: list[str] = (),  # type: ignore[assignment]
    team: str | None = None,
    phone_type: str = "sip",
    server: str | None = None,
    servers: list[str] | None = None,
) -> User:
    """``server``: the Asterisk server the user's phone is on, one of ``servers`` (the settings' names)."""
    if not USERNAME.match(username):
        raise UserError("username: 2-64 letters, digits or _ . @ -")
    try:
        role = Role(role)
    except ValueError:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if extension is not None and not EXTENSION.match(extension):
        raise UserError("extension: 2-8 digits")
    if phone_type not in PHONE_TYPES:
        raise UserError(f"phone_type must be one of {', '.join(PHONE_TYPES)}")
    if server is not None and server not in (servers or []):
        raise UserError(f"unknown Asterisk server {server[:40]!r}; known servers: {', '.join(servers or []) or 'none'}")
    if queues and extension is None:
        raise UserError("a user in queues needs an extension (the phone the queue rings)")
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    if extension is not None:
        holder = await session.scalar(select(User.username).where(User.extension == extension))
        if holder is not None:
            raise UserError(f"extension {extension} already belongs to {holder!r}")
    queue_rows = []
    if queues:
        known = {q.name: q for q in (await session.scalars(select(Queue))).all()}
        unknown = [name for name in queues if name not in known]
        if unknown:
            raise UserError(f"unknown queue {unknown[0]!r}; known queues: {', '.join(sorted(known)) or 'none'}")
        queue_rows = [known[name] for name in queues]
    try:
        password_hash = hash_password(password)
    except WeakPassword as error:
        raise UserError(str(error)) from None
    team_row = None
    if team:
        team_row = await session.scalar(select(Team).where(Team.name == team)) or Team(name=team)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        display_name=display_name or username,
        extension=extension,
        phone_type=phone_type,
        server=server,
        team=team_row,
        queues=queue_rows,
    )
    session.add(user)
    await session.flush()
    return user


async def find_user(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def display_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    """Each user's name as the pages show it (display name, else user name), by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(wanted)))
    return {row.id: row.display_name or row.username for row in rows}


async def agent_by_extension(session: AsyncSession, extension: str) -> User | None:
    return await session.scalar(select(User).where(User.extension == extension, User.role == Role.AGENT))


async def ids_where(session: AsyncSession, clause: ColumnElement[bool]) -> list[int]:
    """The ids of the users ``clause`` (a crm.access Scope clause) selects."""
    return list(await session.scalars(select(User.id).where(clause)))


async def role_of_extension(session: AsyncSession, extension: str) -> tuple[int, Role] | None:
    """(user id, role) of whoever has this extension: the screen pop's reader, read with two columns only."""
    row = (await session.execute(select(User.id, User.role).where(User.extension == extension))).first()
    return (row.id, row.role) if row is not None else None
