"""`callcenter user add|list`: the people who log in."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from agent_ui.cli.errors import CommandError
from config import Settings
from crm import schema
from crm.db import open_engine, session_factory
from crm.models import PHONE_TYPES, Role, User
from crm.tokens import revoke_user_tokens
from crm.users import UserError, add_user, find_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("user", help="add and list users", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (password from a prompt or --password-stdin)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name", default="")
    add.add_argument("--extension", help="the agent's phone extension, e.g. 1001")
    add.add_argument("--queues", default="", help="comma-separated queue names, e.g. support,sales")
    add.add_argument("--team", help="team name (created if new)")
    add.add_argument("--phone-type", default="sip", choices=list(PHONE_TYPES), help="what rings: a desk SIP phone, the browser, the sandbox's")
    add.add_argument("--server", help="the Asterisk server (asterisk[].name) the agent's phone is on; default: the first")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="list users")
    listing.set_defaults(handler=run_list)
    for action, active, about in (
        ("disable", False, "stop a user logging in; their tokens are revoked and open desktops closed within 30 s"),
        ("enable", True, "let a disabled user log in again"),
    ):
        switch = actions.add_parser(action, help=about)
        switch.add_argument("--username", required=True)
        switch.set_defaults(handler=run_switch, active=active)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask the password on; use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise CommandError("the passwords differ")
    return first


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]

    async def add() -> User:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                return await add_user(
                    session,
                    username=args.username,
                    password=password,
                    role=args.role,
                    display_name=args.display_name,
                    extension=args.extension,
                    queues=queues,
                    team=args.team,
                    phone_type=args.phone_type,
                    server=args.server,
                    servers=[server.name for server in settings.asterisk],
                )

    try:
        user = asyncio.run(add())
    except (UserError, schema.SchemaOutOfDate) as error:
        raise CommandError(str(error)) from None
    print(f"added {user.role.value} {user.username} (id {user.id})")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def users() -> list[User]:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session:
                rows = await session.scalars(select(User).options(selectinload(User.queues)).order_by(User.username))
                return list(rows)

    try:
        rows = asyncio.run(users())
    except schema.SchemaOutOfDate as error:
        raise CommandError(str(error)) from None
    for user in rows:
        queues = ",".join(q.name for q in user.queues)
        where = f" server {user.server}" if user.server else ""
        print(f"{user.username:20} {user.role.value:13} ext {user.extension or '-':6} queues {queues or '-'}{where}")
    return 0


def run_switch(args: argparse.Namespace, settings: Settings) -> int:
    async def switch() -> bool:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                user = await find_user(session, args.username)
                if user is None:
                    return False
                user.active = args.active
                if not args.active:
                    await revoke_user_tokens(session, user.id)
                return True

    try:
        found = asyncio.run(switch())
    except schema.SchemaOutOfDate as error:
        raise CommandError(str(error)) from None
    if not found:
        raise CommandError(f"no user {args.username!r}")
    print(f"{args.username} {'enabled' if args.active else 'disabled'}")
    return 0
