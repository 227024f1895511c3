"""An agent's browser phone on Asterisk: its PJSIP endpoint, AOR and credentials, pushed over ARI
(push configuration, kept in AstDB by sorcery; config/asterisk/sorcery.conf). A login gets a new
password and pushes the three objects again; nothing else in the PBX changes and nothing reloads.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import aiohttp

EXTENSION = re.compile(r"^[0-9]{2,8}$")
PUSH_TIMEOUT_S = 5.0

# webrtc=yes: DTLS-SRTP with a certificate Asterisk makes, ICE, AVPF, rtcp-mux. Opus first, G.711
# for what cannot do opus. The browser only receives calls (queue, click-to-dial first leg, spy):
# a call it starts lands in a context that hangs up.
ENDPOINT = {
    "webrtc": "yes",
    "dtls_auto_generate_cert": "yes",
    "transport": "transport-wss",
    "disallow": "all",
    "allow": "opus,ulaw,alaw",
    "direct_media": "no",
    "context": "cc-browser-phone",
    "send_pai": "yes",
}
AOR = {"max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "30"}


class ProvisionError(Exception):
    """Asterisk did not take the phone; the message says why."""


@dataclass(frozen=True)
class BrowserPhone:
    extension: str
    username: str
    password: str


def _fields(values: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"fields": [{"attribute": name, "value": value} for name, value in values.items()]}


class Provisioner:
    """Pushes browser phones to one Asterisk's ARI (``http://host:port/ari``)."""

    def __init__(self, ari_url: str, username: str, secret: str) -> None:
        self._url = ari_url.rstrip("/")
        self._headers = {"Authorization": aiohttp.encode_basic_auth(username, secret)}

    async def _push(self, http: aiohttp.ClientSession, kind: str, name: str, values: dict[str, str]) -> None:
        url = f"{self._url}/asterisk/config/dynamic/res_pjsip/{kind}/{name}"
        async with http.put(url, json=_fields(values)) as answer:
            if answer.status != 200:
                raise ProvisionError(f"Asterisk refused the {kind} of phone {name}: {answer.status} {(await answer.text())[:200]}")

    async def provision(self, extension: str, codecs: str = "opus,ulaw,alaw") -> BrowserPhone:
        """The agent's phone with a new password (the old one stops working at once). ``codecs``
        is the endpoint's allow list (the benchmarks compare opus with G.711)."""
        if not EXTENSION.match(extension):
            raise ProvisionError(f"{extension!r} is not an extension")
        phone = BrowserPhone(extension, extension, secrets.token_urlsafe(18))
        timeout = aiohttp.ClientTimeout(total=PUSH_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(headers=self._headers, timeout=timeout) as http:
                await self._push(http, "auth", extension, {"auth_type": "userpass", "username": phone.username, "password": phone.password})
                await self._push(http, "aor", extension, AOR)
                await self._push(http, "endpoint", extension, {**ENDPOINT, "allow": codecs, "aors": extension, "auth": extension})
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ProvisionError(f"cannot reach Asterisk's ARI at {self._url}: {error or type(error).__name__}") from None
        return phone
