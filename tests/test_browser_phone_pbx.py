"""The PBX side of the browser phones (issue 13), on the sandbox: Asterisk serves SIP over a secure
WebSocket, takes a phone's endpoint, AOR and credentials pushed over ARI, and a new login's
password replaces the old one; the bridge's ARI user is the only way in."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from telephony.ami import AmiClient
from telephony.phones.provision import Provisioner, ProvisionError
from telephony.sandbox import SandboxStatus


@pytest.fixture
async def admin(sandbox: SandboxStatus):  # type: ignore[no-untyped-def]
    client = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_admin_username, sandbox.ami_admin_secret, reconnect=False)
    await client.connect()
    yield client
    await client.close()


async def test_browsers_reach_sip_over_a_secure_websocket(sandbox: SandboxStatus, admin: AmiClient) -> None:
    assert "transport-wss" in await admin.command("pjsip show transports")
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # the sandbox's certificate is self-signed
    async with aiohttp.ClientSession() as http, http.ws_connect(sandbox.wss_url, protocols=("sip",), ssl=insecure) as socket:
        assert socket.protocol == "sip"


async def test_a_login_pushes_the_phone_and_its_new_password_replaces_the_old(sandbox: SandboxStatus, admin: AmiClient) -> None:
    provisioner = Provisioner(sandbox.ari_url, sandbox.ari_username, sandbox.ari_secret)
    first = await provisioner.provision("1099")
    endpoint = await admin.command("pjsip show endpoint 1099")
    assert "webrtc" in endpoint and "transport-wss" in endpoint and "opus" in endpoint
    second = await provisioner.provision("1099")
    assert second.password != first.password
    auth = await admin.command("pjsip show auth 1099")
    assert second.password in auth and first.password not in auth
    aor = await admin.command("pjsip show aor 1099")
    assert "max_contacts" in aor and ": 1" in aor.split("max_contacts", 1)[1][:40]
    with pytest.raises(ProvisionError, match="not an extension"):
        await provisioner.provision("1099;transport=x")
    with pytest.raises(ProvisionError, match="401"):
        await Provisioner(sandbox.ari_url, sandbox.ari_username, "wrong").provision("1098")
