"""/api/me/phone: the credentials of the logged-in agent's browser phone (issue 13). Each request
pushes a new password to Asterisk (telephony/phones/provision.py), so a password in a page that
was closed, or in another user's hands, stops working at the next login."""

from __future__ import annotations

from urllib.parse import urlparse

from aiohttp import web

from agent_ui.api import answers
from agent_ui.api.common import STAFF, endpoint
from agent_ui.api.me import _extension
from agent_ui.app_keys import TELEPHONY
from agent_ui.auth import json_error
from crm.models import User
from telephony.phones.provision import ProvisionError


@endpoint(*STAFF, summary="My browser phone's credentials (a new password each time)", answer=answers.BrowserPhone,
          notes="Only for a user whose phone_type is webrtc.",
          errors={400: "you have no extension", 409: "your phone is not a browser phone, or Asterisk did not take it",
                  503: "telephony is not running"})  # fmt: skip
async def issue(request: web.Request, user: User) -> web.Response:
    extension = _extension(user)
    if user.phone_type != "webrtc":
        raise json_error(409, f"your phone is a {user.phone_type} phone, not a browser phone")
    telephony = request.app.get(TELEPHONY)
    if telephony is None:
        raise json_error(503, "telephony is not running in this server")
    server = telephony.settings.asterisk[0]
    try:
        phone = await telephony.phones[server.name].provision(extension)
    except ProvisionError as error:
        raise json_error(409, str(error)) from None
    for pattern in telephony.bridge.patterns.values():  # queues and click-to-dial now ring PJSIP/<extension>
        pattern.use_browser_phone(extension)
    wss_url = server.webrtc_url or f"wss://{server.ami_host}:{server.wss_port}/ws"
    host = urlparse(wss_url).hostname or server.ami_host
    return web.json_response({"wss_url": wss_url, "uri": f"sip:{phone.username}@{host}", "username": phone.username, "password": phone.password})


def routes(app: web.Application) -> None:
    app.router.add_post("/api/me/phone", issue)
