"""A caller-ID no column can hold, with CR/LF and Chinese text, through the real sandbox: the call
is logged (its long fields cut, not lost), its agent can code it, and the calls after it are logged."""

from __future__ import annotations

import asyncio

import aiohttp

from agent_ui.app import create_app
from config.settings import DISPOSITION_PAUSE
from crm.demo_data import DEMO_PASSWORD
from telephony.sandbox.calls import place_call
from tests.conftest import LiveStack
from tests.live_calls import reset_agents, stored_call, unknown_number
from tests.web import running

LONG_NUMBER = "8613" + "9" * 56  # 60 digits; the calls table keeps 40
# The table keeps 200 characters of a name. The first name comes with the number (Asterisk's
# Originate takes 255 bytes of the two); the second, of 300 characters, is set mid-call.
LONG_NAME = "北京华远贸易有限公司" * 4
RENAMED = ("王先生\r\nEvent: Hangup\r\nChannel: PJSIP/1001\r\n\r\n" + "长" * 60 + "x" * 300)[:300]  # a hostile network


async def test_an_oversized_caller_id_is_logged_cut_and_never_blocks_the_calls_after_it(live: LiveStack) -> None:
    await reset_agents(live)
    bridge = live.service.bridge
    async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
        bad = await place_call(live.ami, did="4001", caller=LONG_NUMBER, caller_name=LONG_NAME, talk_seconds=1, rename_to=RENAMED)
        assert bad.outcome == "answered"
        row = await stored_call(live, bad.linkedid)
        agent_extension = row.agent_extension
        assert row.caller_number == LONG_NUMBER[:40]
        # Asterisk writes CR and LF into AMI as the two characters \r and \n: nothing is injected.
        assert row.caller_name == RENAMED.replace("\r", "\\r").replace("\n", "\\n")[:200]
        assert row.caller_name.startswith("王先生\\r\\nEvent: Hangup") and not {"\r", "\n"} & set(row.caller_name)
        # The disposition guard holds the agent for a code, and the code can be saved.
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/api/login", json={"username": f"agent{agent_extension}", "password": DEMO_PASSWORD}) as response:
                assert response.status == 200, await response.text()
                token = (await response.json())["token"]
            async with asyncio.timeout(10):
                while (agent := bridge.agents.get(agent_extension)) is None or agent.pause_reason != DISPOSITION_PAUSE:
                    await asyncio.sleep(0.1)
            async with http.patch(
                f"{url}/api/calls/{bad.linkedid}", json={"disposition_code": "inquiry"}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == 200, await response.text()
            async with asyncio.timeout(10):
                while not bridge.agents.is_available(agent_extension):
                    await asyncio.sleep(0.1)
            async with http.get(f"{url}/api/health") as response:
                health = await response.json()
            assert health["calllog"]["state"] == "ok" and health["calllog"]["spooled"] == 0

    later = await asyncio.gather(
        *(place_call(live.ami, did=did, caller=unknown_number(), talk_seconds=1) for did in ("4001", "4002") * 3)
    )
    rows = [await stored_call(live, call.linkedid) for call in later]
    assert [r.disposition for r in rows] == ["answered"] * 6
    assert [r.caller_number for r in rows] == [c.caller for c in later]
