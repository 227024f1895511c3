"""The browser phone in real headless Chromium against the sandbox's PJSIP (issue 13).

An agent whose phone is the browser logs in to the desktop; the page registers over the secure
WebSocket (Asterisk shows the contact) and follows the agent out of and back into the queues. A
queue call rings in the page and is answered there, with audio both ways over DTLS-SRTP: the
recording's agent leg holds the browser's microphone (Chromium's fake one, reading espeak-ng
speech) until the agent mutes, the caller leg the caller. Digits from the keypad reach Asterisk,
a rejected call goes to the next agent, auto-answer answers, click-to-dial rings the browser
first, the desktop's hold and transfer act on the browser's call; a refused microphone or a
refused registration says so, and a phone that goes away has its agent paused."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_ui.app import create_app
from config.settings import PHONE_PAUSE
from crm.demo_data import DEMO_PASSWORD
from crm.models import User
from crm.users import add_user
from telephony.ami import AmiClient
from telephony.sandbox.calls import heard_file, place_call, wait_for_recordings
from tests.audio import rms_between
from tests.browser import PHONE_ARGS, chromium
from tests.browser import log_in as browser_log_in
from tests.conftest import LiveStack, unavailable
from tests.live_calls import first_answered, reset_agents, stored_call, unknown_number
from tests.web import running

EXTENSION = "1099"
QUEUE, DID = "browser", "4993"  # linear: the browser agent first, a simulated one after it when a test adds one
NEXT_AGENT = "Local/1098@sim-phones/n"
SPEECH = "Good morning, thank you for calling. My name is Lee, how can I help you today? Let me check your order for you."


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the agent says into the fake microphone (Chromium loops the file)."""
    if shutil.which("espeak-ng") is None:
        unavailable("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path_factory.mktemp("voice") / "agent.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "160", "-w", str(path), SPEECH], check=True, capture_output=True)
    return path


@pytest.fixture
async def desktop(live: LiveStack):  # type: ignore[no-untyped-def]
    """The desktop, and an agent whose phone is the browser. The agent is in no team and is
    disabled again afterwards: the live database is shared, and the wallboard tests count agents."""
    await reset_agents(live)
    await _active(live, True)
    for pattern in live.service.bridge.patterns.values():  # as a phone login leaves it
        pattern.use_browser_phone(EXTENSION)
    try:
        async with running(create_app(live.service.settings, live.service.engine, live.service)) as url:
            yield url
    finally:
        if (agent := live.service.bridge.agents.get(EXTENSION)) is not None and agent.queues:
            await live.service.bridge.control.logout(EXTENSION)  # the queue must stay without agents
        await _active(live, False)


async def _active(live: LiveStack, active: bool) -> None:
    async with live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "webagent"))
        if user is None:
            user = await add_user(session, username="webagent", password=DEMO_PASSWORD, role="agent", extension=EXTENSION,
                                  phone_type="webrtc", queues=[QUEUE])  # fmt: skip
        user.active = active
        user.auto_answer = False


async def contacts(admin: AmiClient, extension: str = EXTENSION) -> str:
    return await admin.command(f"pjsip show contacts like {extension}")


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.2)


async def phone_state(page, state: str, timeout: float = 15_000) -> None:  # type: ignore[no-untyped-def]
    await page_until(page, f"document.querySelector('#phone-state').dataset.state === '{state}'", timeout)


async def page_until(page, expression: str, timeout: float = 15_000) -> None:  # type: ignore[no-untyped-def]
    """Polled with evaluate: wait_for_function never returns in a page whose permission prompt
    Chromium refused (the microphone test)."""
    deadline = time.monotonic() + timeout / 1000
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"not within {timeout / 1000} s: {expression}"
        await asyncio.sleep(0.2)


async def open_phone(page, url: str, username: str = "webagent", view: str = "#desktop-view") -> None:  # type: ignore[no-untyped-def]
    await browser_log_in(page, url, username, view)
    await phone_state(page, "registered")


async def available(page, live: LiveStack) -> None:  # type: ignore[no-untyped-def]
    await page.click("#go-available")  # into the queue, on PJSIP/1099: the browser is the phone
    await until(lambda: _member(live))


async def _member(live: LiveStack) -> bool:
    members = await live.ami.collect("QueueStatus", Queue=QUEUE)
    return any(m.get("Event") == "QueueMember" and m.get("Location") == f"PJSIP/{EXTENSION}" for m in members)


async def _registered(admin: AmiClient) -> bool:
    return f"{EXTENSION}/sip:" in await contacts(admin)


async def _unregistered(admin: AmiClient) -> bool:
    return not await _registered(admin)


def _agent(live: LiveStack):  # type: ignore[no-untyped-def]
    return live.service.bridge.agents.get(EXTENSION)


INBOUND_PACKETS = """async () => {
    const stats = await softphone.session.sessionDescriptionHandler.peerConnection.getStats();
    let received = 0;
    stats.forEach((report) => { if (report.type === "inbound-rtp" && report.kind === "audio") received += report.packetsReceived; });
    return received;
}"""


async def test_the_phone_registers_with_the_page_and_follows_the_agent_out_of_the_queues(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        assert "ready" in await page.text_content("#phone-state")
        listed = [c for c in await live.admin.collect("PJSIPShowContacts") if c.get("Endpoint") == EXTENSION]
        assert len(listed) == 1 and "transport=ws" in listed[0]["Uri"], listed  # one contact, over the WebSocket
        assert listed[0]["Status"] == "Reachable", listed  # qualified: it answers OPTIONS
        assert await page.eval_on_selector("#phone-mic", "(s) => s.options.length") >= 1  # the agent picks the headset
        await available(page, live)
        await page.click("#go-logged-out")
        await phone_state(page, "unregistered")
        await until(lambda: _unregistered(live.admin))
        await available(page, live)  # back in: the phone registers again
        await phone_state(page, "registered")
        await until(lambda: _registered(live.admin))
        await page.evaluate("import('/static/softphone.js').then((m) => m.stopPhone())")
        await until(lambda: _unregistered(live.admin))


async def test_a_desk_phone_user_gets_no_browser_phone(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await browser_log_in(page, f"{desktop}/desktop", "agent1002", "#desktop-view")
        await page.wait_for_timeout(500)
        assert await page.is_hidden("#phone-state")


async def test_a_queue_call_is_answered_in_the_page_with_audio_both_ways_mute_and_digits(
    live: LiveStack, desktop: str, speech: Path
) -> None:
    talk, mute_after = 8.0, 4.0
    async with chromium(args=(*PHONE_ARGS, f"--use-file-for-fake-audio-capture={speech}")) as page:
        await open_phone(page, f"{desktop}/desktop")
        await available(page, live)
        with live.admin.events(["DTMFEnd"]) as digits:
            call = asyncio.create_task(place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=talk))
            await page.wait_for_selector("#phone-answer:not([hidden])", timeout=15_000)
            assert "ringing" in await page.text_content("#phone-state")
            assert await page.evaluate("softphone.ringing !== null")  # the ring tone plays
            await page.click("#phone-answer")
            await phone_state(page, "in_call", 10_000)
            answered_at = time.monotonic()
            assert await page.evaluate("softphone.ringing === null")
            assert (await first_answered(live)).agent == EXTENSION
            await page.evaluate("desk.socket.io.engine.close()")  # socket.io drops and comes back: the call goes on
            for digit in "12#":
                await page.click(f"#phone-keypad [data-digit='{digit}']")
            heard = ""
            while len(heard) < 3:
                event = await digits.get(timeout=5)
                if event.get("Channel", "").startswith(f"PJSIP/{EXTENSION}-") and event.get("Direction") == "Received":
                    heard += event["Digit"]
            assert heard == "12#"
            await page.wait_for_function("desk.socket.connected", timeout=10_000)
            assert await page.evaluate(INBOUND_PACKETS) > 20  # the caller's audio reaches the page (no one-way audio)
            await asyncio.sleep(max(0.0, mute_after - (time.monotonic() - answered_at)))
            await page.click("#phone-mute")
            muted_at = time.monotonic()
            assert await page.get_attribute("#phone-mute", "aria-pressed") == "true"
            result = await call
            await phone_state(page, "registered", 10_000)
    assert result.outcome == "answered" and result.agent_interface == f"PJSIP/{EXTENSION}"
    files = {path.stem.rsplit("-", 1)[1]: path for path in await wait_for_recordings(Path(live.sandbox.recordings_dir), result.linkedid)}
    muted_for = talk - (muted_at - answered_at)  # the last seconds of the recording
    spoken = rms_between(files["agent"], -talk + 1.0, -muted_for - 0.5)
    silent = rms_between(files["agent"], -muted_for + 0.8, -0.3)
    assert spoken > 0.01, f"the browser's microphone is not in the agent leg ({spoken:.4f})"
    assert silent < spoken / 10, f"muted, the agent leg should be silent ({silent:.4f} against {spoken:.4f})"
    assert rms_between(files["caller"], -talk + 1.0, -0.3) > 0.01, "the caller's speech is not in the caller leg"


async def test_a_rejected_call_goes_to_the_next_agent(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        await available(page, live)
        await live.admin.action("QueueAdd", Queue=QUEUE, Interface=NEXT_AGENT, MemberName="1098")  # after the browser agent
        try:
            call = asyncio.create_task(place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=1))
            await page.wait_for_selector("#phone-reject:not([hidden])", timeout=15_000)
            await page.click("#phone-reject")
            await phone_state(page, "registered", 5_000)
            result = await call
        finally:
            await live.admin.action("QueueRemove", Queue=QUEUE, Interface=NEXT_AGENT)
    assert result.outcome == "answered" and result.agent_interface == NEXT_AGENT
    assert result.wait_s is not None and result.wait_s < 8, result.wait_s  # sooner than the browser's ring timeout


async def test_auto_answer_is_the_agents_choice_and_answers_by_itself(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        await page.check("#phone-auto-answer")
        await until(lambda: _auto_answer(live))
        await page.reload()  # kept by the server: a new page (and a new registration) has it too
        await phone_state(page, "registered")
        assert await page.is_checked("#phone-auto-answer")
        await available(page, live)
        call = asyncio.create_task(place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=2))
        await phone_state(page, "in_call", 15_000)  # nobody clicked
        result = await call
    assert result.outcome == "answered" and result.agent_interface == f"PJSIP/{EXTENSION}"


async def _auto_answer(live: LiveStack) -> bool:
    async with live.sessions() as session:
        return bool(await session.scalar(select(User.auto_answer).where(User.username == "webagent")))


async def test_click_to_dial_rings_the_browser_first_and_the_desk_controls_drive_its_call(live: LiveStack, desktop: str) -> None:
    number = unknown_number()
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        await page.fill("#dial-number", number)
        await page.click("#dial-form button[type=submit]")
        await page.wait_for_selector("#phone-answer:not([hidden])", timeout=10_000)  # the agent's own phone first
        assert not [c for c in live.service.bridge.live_calls() if c.answered_at]
        await page.click("#phone-answer")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=15_000)
        await page.click("#hold")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On hold'", timeout=5_000)
        await page.click("#resume")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=5_000)
        assert await page.evaluate(INBOUND_PACKETS) > 0
        await page.click("#hang-up")
        await phone_state(page, "registered", 10_000)  # the server's hang-up ended the browser's call
    calls = [c for c in live.service.bridge.live_calls() if c.called_number == number]
    assert not calls
    row = await _row_for(live, number)
    assert (row.direction, row.agent_extension, row.disposition, row.hold_count) == ("outbound", EXTENSION, "answered", 1)


async def _row_for(live: LiveStack, number: str):  # type: ignore[no-untyped-def]
    from crm.models import Call

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        async with live.sessions() as session:
            linkedid = await session.scalar(select(Call.linkedid).where(Call.called_number == number))
        if linkedid:
            return await stored_call(live, linkedid)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no call to {number} was logged")


async def test_a_blind_transfer_from_the_page_moves_the_browsers_call(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        await available(page, live)
        call = asyncio.create_task(place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=6))
        await page.wait_for_selector("#phone-answer:not([hidden])", timeout=15_000)
        await page.click("#phone-answer")
        await page.wait_for_function("document.querySelector('#call-status').textContent === 'On the call'", timeout=10_000)
        await page.select_option("#transfer-kind", "blind")
        await page.select_option("#transfer-to", "agent")
        await page.fill("#transfer-target", "1004")
        await page.click("#transfer")
        await phone_state(page, "registered", 10_000)  # the browser's leg is gone; the caller goes on with 1004
        result = await call
    row = await stored_call(live, result.linkedid)
    assert row.agent_extension == "1004" and row.transfers[0]["kind"] == "blind", (row.agent_extension, row.transfers)


async def test_a_refused_registration_says_why(live: LiveStack, desktop: str) -> None:
    async def wrong_password(route):  # type: ignore[no-untyped-def]
        response = await route.fetch()
        await route.fulfill(response=response, json={**await response.json(), "password": "not-the-password"})

    async with chromium(args=PHONE_ARGS) as page:
        await page.route("**/api/me/phone", wrong_password)
        await browser_log_in(page, f"{desktop}/desktop", "webagent", "#desktop-view")
        await phone_state(page, "failed")
        assert await page.get_attribute("#phone-state", "data-problem") == "registration"
        assert "refused" in await page.text_content("#phone-state")
    assert not await _registered(live.admin)


@pytest.mark.parametrize(
    ("problem", "args"),
    [
        # No --use-fake-ui-for-media-stream: the page's request for the microphone is refused.
        ("microphone_denied", ("--use-fake-device-for-media-stream", "--ignore-certificate-errors")),
        # Allowed, but no fake device: this machine has no microphone at all.
        ("no_microphone", ("--use-fake-ui-for-media-stream", "--ignore-certificate-errors")),
    ],
)
async def test_a_phone_without_a_microphone_says_why_and_pauses_the_agent(
    live: LiveStack, desktop: str, problem: str, args: tuple[str, ...]
) -> None:
    await live.service.bridge.control.login(EXTENSION, [QUEUE], name="webagent")
    await until(lambda: _is(live, lambda a: a.queues and not a.paused))
    async with chromium(args=args) as page:
        await browser_log_in(page, f"{desktop}/desktop", "webagent", "#desktop-view")
        await phone_state(page, "failed")
        assert await page.get_attribute("#phone-state", "data-problem") == problem
        assert "microphone" in await page.text_content("#phone-state")
        await until(lambda: _is(live, lambda a: a.paused and a.reason == PHONE_PAUSE))
        await page_until(page, "document.querySelector('#agent-reason').textContent.includes('browser phone')")
    assert not await _registered(live.admin)


async def _is(live: LiveStack, wanted) -> bool:  # type: ignore[no-untyped-def]
    agent = _agent(live)
    return agent is not None and bool(wanted(agent))


async def test_a_phone_that_goes_away_has_its_agent_paused(live: LiveStack, desktop: str) -> None:
    async with chromium(args=PHONE_ARGS) as page:
        await open_phone(page, f"{desktop}/desktop")
        await available(page, live)
    # The browser is gone without unregistering (a closed laptop, a crash): Asterisk drops the contact.
    await until(lambda: _unregistered(live.admin), timeout=15)
    await until(lambda: _is(live, lambda a: a.paused and a.reason == PHONE_PAUSE), timeout=10)


LEADER = "1097"
RECEIVED_LEVEL = """async () => {
    const stats = await softphone.session.sessionDescriptionHandler.peerConnection.getStats();
    let energy = 0, seconds = 0;
    stats.forEach((report) => {
        if (report.type === "inbound-rtp" && report.kind === "audio") { energy += report.totalAudioEnergy || 0; seconds += report.totalSamplesDuration || 0; }
    });
    return [energy, seconds];
}"""


@pytest.fixture
async def leader(live: LiveStack, desktop: str):  # type: ignore[no-untyped-def]
    """A supervisor whose phone is the browser too (no team: the wallboard tests count people)."""
    async with live.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "webleader"))
        if user is None:
            user = await add_user(session, username="webleader", password=DEMO_PASSWORD, role="supervisor", extension=LEADER,
                                  phone_type="webrtc")  # fmt: skip
        user.active = True
    try:
        yield "webleader"
    finally:
        async with live.sessions() as session, session.begin():
            (await session.scalar(select(User).where(User.username == "webleader"))).active = False


async def _written(path: Path) -> bool:
    """MixMonitor has closed the file: it holds audio and has stopped growing."""
    if not path.exists() or path.stat().st_size <= 44:  # a WAV header alone
        return False
    size = path.stat().st_size
    await asyncio.sleep(0.3)
    return path.stat().st_size == size


async def _heard(page, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """The loudness (RMS, 0 to 1) of what the page's phone received over the next ``seconds``."""
    energy, duration = await page.evaluate(RECEIVED_LEVEL)
    await asyncio.sleep(seconds)
    energy_after, duration_after = await page.evaluate(RECEIVED_LEVEL)
    return ((energy_after - energy) / max(duration_after - duration, 1e-6)) ** 0.5


@pytest.mark.parametrize("mode", ["whisper", "barge"])
async def test_a_leader_whispers_or_barges_from_the_wallboards_browser_phone(
    live: LiveStack, desktop: str, leader: str, speech: Path, mode: str
) -> None:
    talk = 14.0
    async with chromium(args=PHONE_ARGS) as agent_page, chromium(args=(*PHONE_ARGS, f"--use-file-for-fake-audio-capture={speech}")) as board:
        await open_phone(agent_page, f"{desktop}/desktop")
        await available(agent_page, live)
        await open_phone(board, f"{desktop}/wallboard", leader, "#board-view")
        call = asyncio.create_task(
            place_call(live.ami, did=DID, caller=unknown_number(), talk_seconds=talk, speak_once=True, record_heard=True)
        )
        await agent_page.wait_for_selector("#phone-answer:not([hidden])", timeout=15_000)
        await agent_page.click("#phone-answer")
        await phone_state(agent_page, "in_call", 10_000)
        answered_at = time.monotonic()
        await agent_page.click("#phone-mute")  # from here the caller hears no agent: only what a leader adds
        while await _heard(agent_page, 0.5) > 0.003:  # the caller says their piece once, then listens
            assert time.monotonic() - answered_at < talk - 5, "the caller did not fall silent"
        quiet = await _heard(agent_page, 0.5)
        await board.click(f"tr[data-agent='{EXTENSION}'] button[data-action={mode}]")
        await board.wait_for_selector("#phone-answer:not([hidden])", timeout=10_000)  # ChanSpy rings the leader's browser
        await board.click("#phone-answer")
        await phone_state(board, "in_call", 10_000)
        await asyncio.sleep(0.5)
        spoke_at = time.monotonic()
        agent_hears = await _heard(agent_page, 2.0)
        spoke_until = time.monotonic()
        assert agent_hears > 0.01 and agent_hears > 5 * quiet, f"the agent does not hear the leader ({agent_hears:.4f}, {quiet:.4f} before)"
        result = await call
    assert result.outcome == "answered" and result.agent_interface == f"PJSIP/{EXTENSION}"
    heard = heard_file(Path(live.sandbox.recordings_dir), result.linkedid)
    await until(lambda: _written(heard))
    end = answered_at + talk
    caller_hears = rms_between(heard, spoke_at - end + 0.3, spoke_until - end - 0.3)
    if mode == "whisper":
        assert caller_hears < 0.003, f"the caller hears the whisper ({caller_hears:.4f})"
    else:
        assert caller_hears > 0.01, f"the caller does not hear the barge ({caller_hears:.4f})"


async def test_a_lost_network_says_so_pauses_the_agent_and_the_phone_comes_back(live: LiveStack, desktop: str) -> None:
    sockets = []

    def through(route) -> None:  # type: ignore[no-untyped-def]  # the page's WebSocket, passed on to Asterisk
        route.connect_to_server()
        sockets.append(route)

    async with chromium(args=PHONE_ARGS) as page:
        await page.route_web_socket(re.compile(r"^wss://"), through)
        await open_phone(page, f"{desktop}/desktop")
        await available(page, live)
        await sockets[-1].close(code=4000, reason="the network went away")  # as the page sees a cut: no clean close
        await phone_state(page, "failed", 5_000)
        assert await page.get_attribute("#phone-state", "data-problem") == "network"
        assert "network" in await page.text_content("#phone-state")
        await until(lambda: _is(live, lambda a: a.paused and a.reason == PHONE_PAUSE))
        await phone_state(page, "registered", 15_000)  # it reconnects by itself
        assert len(sockets) >= 2
        await until(lambda: _registered(live.admin))
