"""The web application (aiohttp + socket.io): health, login, the REST API (agent_ui/api/) with its
OpenAPI document, and the live push. The agent desktop, wallboard and QA pages arrive with their issues."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_ui import pages
from agent_ui.api import agents, audit, call_control, calls, campaigns, customer_changes, customer_csv, customers, dnc, me, meta, openapi, phone, qa, records, reports, tasks, tickets, wallboard
from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, refuse_nul
from agent_ui.api.live import owner_unreachable
from agent_ui.api.contract import Contract, describe
from agent_ui.app_keys import DISPOSITIONS, ENGINE, SETTINGS, TELEPHONY, WALLBOARD
from agent_ui.auth import CSRF_COOKIE, SESSION_COOKIE, LoginForm, LoginLimiter, SharedLoginLimiter, authenticate, bearer_token, login
from agent_ui.followups import DroppedCallSweeper
from agent_ui.i18n import LANGUAGES, catalogue, speak_the_users_language
from agent_ui.operations import Operations
from agent_ui.realtime import Realtime
from agent_ui.wallboard.service import Wallboard
from config import Settings
from crm import schema
from crm.db import session_factory
from crm.models import Role
from crm.tokens import revoke_token
from telephony.service import TelephonyService

REALTIME = web.AppKey("realtime", Realtime)


@describe(Contract("Liveness, schema revision and the call log's health", None, answer=answers.Health,
                   notes="status is 'degraded' while the call log spools, is stopped or holds dead letters."))  # fmt: skip
async def health(request: web.Request) -> web.Response:
    revision = await schema.current_revision(request.app[ENGINE])
    body: dict[str, object] = {"status": "ok", "schema_revision": revision}
    if TELEPHONY in request.app and (calllog := request.app[TELEPHONY].calllog_health()) is not None:  # None: another worker writes it
        body["calllog"] = calllog
        if calllog["state"] != "ok" or calllog["dead_letters"]:
            body["status"] = "degraded"
    return web.json_response(body)


def security_headers(frame_ancestors: str):  # type: ignore[no-untyped-def]
    """Every response: not to be framed (clickjacking), no type sniffing, no referrer sent away,
    and a Server header without versions."""

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors}; object-src 'none'; base-uri 'self'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Server"] = "callcenter"

    return add


def create_app(settings: Settings, engine: AsyncEngine, telephony: TelephonyService | None = None) -> web.Application:
    # Outermost, so every refusal (the inner middlewares' too) is said in the request's language.
    app = web.Application(middlewares=[speak_the_users_language, refuse_nul, owner_unreachable])
    for language in LANGUAGES[1:]:
        catalogue(language)  # read now, not on the event loop at the first refusal
    app.on_response_prepare.append(security_headers(settings.web.frame_ancestors))
    app[SETTINGS] = settings
    app[ENGINE] = engine
    sessions = session_factory(engine)
    app[SESSIONS] = sessions
    if telephony is not None:
        app[TELEPHONY] = telephony
        # Alone, started here: codes are given here. In a cluster the owner's telephony runs it.
        if settings.agents.disposition_required and (guard := telephony.dispositions) is not None and telephony.cluster is None:
            app[DISPOSITIONS] = guard
            app.on_startup.append(lambda app: guard.start())
            app.on_cleanup.append(lambda app: guard.stop())
    shared = redis.from_url(settings.redis.url) if settings.redis.url else None  # with several workers
    limiter = SharedLoginLimiter(shared, settings.redis.prefix) if shared is not None else LoginLimiter()
    if shared is not None:
        app.on_cleanup.append(lambda app: shared.aclose())
    app.router.add_get("/api/health", health)

    @describe(Contract("Log in; returns a token and sets the session and CSRF cookies", None, body=LoginForm, answer=answers.LoginAnswer,
                       errors={400: "username and password are required", 401: "wrong user name or password", 429: "too many failed logins"}))  # fmt: skip
    async def handle_login(request: web.Request) -> web.Response:
        return await login(request, sessions, limiter, settings.web)

    app.router.add_post("/api/login", handle_login)

    @describe(Contract("Log out: the token (bearer or cookie) is revoked, its socket.io connections closed and the cookies cleared",
                       tuple(Role), answer=answers.LoggedOut))  # fmt: skip
    async def handle_logout(request: web.Request) -> web.Response:
        await authenticate(request, sessions)
        token, _ = bearer_token(request)
        assert token is not None  # authenticate() found it valid
        async with sessions() as session, session.begin():
            await revoke_token(session, token)
        await request.app[REALTIME].disconnect_token(token)
        response = web.json_response({"logged_out": True})
        response.del_cookie(SESSION_COOKIE, path="/")
        response.del_cookie(CSRF_COOKIE, path="/")
        return response

    app.router.add_post("/api/logout", handle_logout)
    resources = (customers, customer_csv, customer_changes, dnc, campaigns, audit, calls, records, tickets, tasks, call_control, me, phone, agents,
                 wallboard, reports, qa, meta, openapi, pages)  # fmt: skip
    for resource in resources:
        resource.routes(app)
    realtime = Realtime(settings, sessions, telephony.bus if telephony is not None else None)
    realtime.attach(app)
    app[REALTIME] = realtime
    board = Wallboard(
        settings, sessions, realtime.sio,
        bus=telephony.bus if telephony is not None else None,
        live=telephony.commands if telephony is not None else None,
    )  # fmt: skip
    realtime.wallboard = app[WALLBOARD] = board
    Operations(settings, engine, sessions, realtime, telephony, shared).attach(app)
    app.on_startup.append(lambda app: board.start())
    app.on_cleanup.append(lambda app: board.stop())
    sweeper = DroppedCallSweeper(settings.tasks, sessions)
    app.on_startup.append(lambda app: sweeper.start())
    app.on_cleanup.append(lambda app: sweeper.stop())
    return app
