"""/api/me/phone: the logged-in agent's browser phone (issue 13).

- POST gives its credentials. Each request pushes a new password to Asterisk
  (telephony/phones/provision.py), so a password in a page that was closed, or in another user's
  hands, stops working at the next login.
- PUT keeps the agent's own choice of auto-answer.
- POST /fault is the page saying its phone cannot take calls (microphone refused or missing, the
  network gone): the agent is paused with the reserved reason ``phone`` so no call is offered to a
  dead phone. A phone whose network is gone cannot say so: Asterisk's ContactStatus does it then
  (telephony/phones/presence.py).
"""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import urlparse

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from agent_ui.api import answers
from agent_ui.api.common import SESSIONS, STAFF, endpoint
from agent_ui.api.live import commands, extension_of, state_json
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error, user_summary
from crm.models import User
from telephony.commands import AgentControlError, ProvisionError

log = logging.getLogger(__name__)

PROBLEMS = ("microphone_denied", "no_microphone", "network", "registration")


class PhoneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_answer: StrictBool = Field(description="answer a call by itself, after a short beep")


class PhoneFault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem: Literal[PROBLEMS] = Field(description="what stopped the phone")  # type: ignore[valid-type]
    detail: str = Field(default="", max_length=200, description="the browser's own words, for the log")


@endpoint(*STAFF, summary="My browser phone's credentials (a new password each time)", answer=answers.BrowserPhone,
          notes="Only for a user whose phone_type is webrtc.",
          errors={400: "you have no extension", 409: "your phone is not a browser phone, or Asterisk did not take it",
                  503: "telephony is not running"})  # fmt: skip
async def issue(request: web.Request, user: User) -> web.Response:
    extension = extension_of(user)
    if user.phone_type != "webrtc":
        raise json_error(409, f"your phone is a {user.phone_type} phone, not a browser phone")
    telephony = commands(request)
    servers = request.app[SETTINGS].asterisk
    server = next((s for s in servers if s.name == user.server), servers[0])  # the phone registers where its agent works
    try:
        phone = await telephony.browser_phone(extension, server.name)
    except ProvisionError as error:
        raise json_error(409, str(error)) from None
    wss_url = server.webrtc_url or f"wss://{server.ami_host}:{server.wss_port}/ws"
    host = urlparse(wss_url).hostname or server.ami_host
    return web.json_response(
        {"wss_url": wss_url, "uri": f"sip:{phone.username}@{host}", "username": phone.username, "password": phone.password,
         "auto_answer": user.auto_answer}  # fmt: skip
    )


@endpoint(*STAFF, summary="My browser phone's settings: auto-answer", body=PhoneSettings, answer=answers.User)
async def save_settings(request: web.Request, user: User, body: PhoneSettings) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        row = await session.get(User, user.id)
        assert row is not None  # the user was authenticated in this request
        row.auto_answer = body.auto_answer
    user.auto_answer = body.auto_answer
    return web.json_response(user_summary(user))


@endpoint(*STAFF, summary="My browser phone cannot take calls: pause me with the reason phone", body=PhoneFault,
          answer=answers.AgentState, notes="An agent who is logged out, already paused or on a call stays as they are.",
          errors={400: "you have no extension", 503: "telephony is not running"})  # fmt: skip
async def fault(request: web.Request, user: User, body: PhoneFault) -> web.Response:
    extension, telephony = extension_of(user), commands(request)
    log.warning("browser phone %s: %s %r", extension, body.problem, body.detail)
    try:
        agent = await telephony.phone_fault(extension)
    except AgentControlError as error:
        raise json_error(400, str(error)) from None
    return web.json_response(state_json(agent, extension))


def routes(app: web.Application) -> None:
    app.router.add_post("/api/me/phone", issue)
    app.router.add_put("/api/me/phone", save_settings)
    app.router.add_post("/api/me/phone/fault", fault)
