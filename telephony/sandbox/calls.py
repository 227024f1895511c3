"""Simulated customer calls into the sandbox, driven and watched over AMI.

A call is an Originate of ``Local/<DID>@cc-inbound``: the ``;2`` half enters our inbound dialplan
exactly as a trunk call would (AGI routing, recording, queue); the ``;1`` half is the customer,
speaking in a loop (``sim-customer``). We hang the customer up after ``talk_seconds`` of talk, or
after ``hangup_after_wait`` seconds unanswered (an abandoned call).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from telephony.ami import AmiClient, AmiError

MAX_WAIT_S = 120.0
SURVEY_S = 30.0  # the survey asks twice, then says goodbye
KEY_DELAY_S = 0.5


@dataclass
class SimulatedCallResult:
    linkedid: str
    did: str
    caller: str
    outcome: str = "failed"  # answered | abandoned | failed | ended_unanswered
    queue: str | None = None
    agent: str | None = None
    agent_interface: str | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    survey_key: str | None = None  # the key pressed in the satisfaction survey after the agent hung up
    events: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def place_call(
    client: AmiClient,
    *,
    did: str,
    caller: str,
    caller_name: str = "",
    talk_seconds: float = 5.0,
    hangup_after_wait: float | None = None,
    language: str = "en",
    speak_once: bool = False,
    rename_to: str | None = None,
    record_heard: bool = False,
    survey_key: str | None = None,
) -> SimulatedCallResult:
    """Place one call and follow it to its end; return what happened. With ``speak_once`` the
    caller says their piece once and then listens in silence (so the agent's silences are real).
    ``rename_to`` is a caller name the caller's side sets once answered (any text, CR and LF too).
    With ``record_heard`` the caller's side records what it hears (:func:`heard_file`). When the
    agent hangs up first and the queue asks the satisfaction survey, the caller presses
    ``survey_key`` (none: the caller says nothing and the survey gives up)."""
    call_id = uuid.uuid4().hex[:16]
    customer_leg, inbound_leg = f"sim-{call_id}-c", f"sim-{call_id}-i"
    result = SimulatedCallResult(linkedid=customer_leg, did=did, caller=caller)
    wait_limit = hangup_after_wait if hangup_after_wait is not None else MAX_WAIT_S
    events = client.events()
    try:
        started = time.monotonic()
        await client.originate(
            Channel=f"Local/{did}@cc-inbound/n",
            Context="sim-customer",
            Exten="s",
            Priority="1",
            CallerID=f'"{caller_name}" <{caller}>' if caller_name else caller,
            ChannelId=customer_leg,
            OtherChannelId=inbound_leg,
            Timeout=str(int((wait_limit + 30) * 1000)),
            Variable=[
                f"SIM_LANG={language}",
                f"SIM_MAX_SECONDS={int(wait_limit + talk_seconds + 60)}",
                f"SIM_SCRIPT={'once' if speak_once else 'loop'}",
                *([f"SIM_RENAME_URI={urllib.parse.quote(rename_to, safe='')}"] if rename_to else []),
                *([f"SIM_HEARD={customer_leg}"] if record_heard else []),
            ],
        )
        answered_at = await _follow_until_answered(events, result, started, wait_limit)
        if answered_at is None:
            await _hang_up(client, customer_leg)  # the caller gives up
            if result.outcome == "failed":
                return result
            await _wait_hangup(events, result, customer_leg)
            result.outcome = "abandoned" if "QueueCallerAbandon" in result.events else "ended_unanswered"
            return result
        await _talk(client, events, result, customer_leg, talk_seconds, survey_key)
        result.talk_s = round(time.monotonic() - answered_at, 2)
        if "CCSurvey" not in result.events:
            await _hang_up(client, customer_leg)
        await _wait_hangup(events, result, customer_leg, timeout=SURVEY_S if "CCSurvey" in result.events else 10.0)
        return result
    finally:
        events.close()


async def _follow_until_answered(events, result, started: float, wait_limit: float) -> float | None:
    deadline = started + wait_limit
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            event = await events.get(timeout=remaining)
        except TimeoutError:
            return None
        if not _belongs(event, result.linkedid):
            continue
        name = event.event
        if name == "OriginateResponse" and event.get("Response") == "Failure":
            result.events.append(name)
            result.outcome = "failed"
            return None
        if name in ("QueueCallerJoin", "AgentCalled", "AgentConnect", "QueueCallerAbandon", "AgentRingNoAnswer"):
            result.events.append(name)
        if name == "QueueCallerJoin":
            result.queue = event.get("Queue")
            result.outcome = "queued"
        elif name == "AgentConnect":
            result.outcome = "answered"
            result.agent = event.get("MemberName")
            result.agent_interface = event.get("Interface")
            result.wait_s = round(time.monotonic() - started, 2)
            return time.monotonic()
        elif name == "DialEnd" and event.get("DialStatus") == "ANSWER" and result.outcome != "queued":
            # Answered outside a queue: the routing rang the customer's preferred agent directly.
            result.events.append("DialEnd")
            result.outcome = "answered"
            result.agent_interface = event.get("DialString") or None
            result.wait_s = round(time.monotonic() - started, 2)
            return time.monotonic()
        elif name == "Hangup" and event.get("Uniqueid") == result.linkedid:
            result.events.append(name)
            result.outcome = "ended_unanswered" if result.outcome != "failed" else "failed"
            return None


async def _talk(client: AmiClient, events, result, customer_leg: str, seconds: float, survey_key: str | None) -> None:
    """Let the conversation run; stop early if someone else ends the call, or when the agent has
    hung up and the survey asks the caller (who presses ``survey_key`` into its prompt)."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            event = await events.get(timeout=remaining)
        except TimeoutError:
            return
        _note_closing(event, result, customer_leg)
        if "Hangup" in result.events:
            return
        if event.event == "UserEvent" and event.get("UserEvent") == "CCSurvey" and _belongs(event, result.linkedid):
            result.events.append("CCSurvey")
            if survey_key is not None:
                await asyncio.sleep(KEY_DELAY_S)  # a caller hears the question begin before pressing
                await press_keys(client, _channel_of(customer_leg, event), survey_key)
                result.survey_key = survey_key
            return


def _note_closing(event, result, customer_leg: str) -> None:
    """Keep the events that close a call: the caller's Hangup and app_queue's last word. When the
    agent hangs up first, AgentComplete comes before the caller's Hangup, while the talk is followed."""
    if _belongs(event, result.linkedid) and event.event in ("AgentComplete", "QueueCallerAbandon"):
        result.events.append(event.event)
    if event.event == "Hangup" and event.get("Uniqueid") == customer_leg:
        result.events.append("Hangup")


async def _hang_up(client: AmiClient, channel: str) -> None:
    try:
        await client.action("Hangup", Channel=channel, Cause="16")
    except AmiError:
        pass  # already gone


async def _wait_hangup(events, result, customer_leg: str, timeout: float = 10.0) -> None:
    """Wait for the customer's Hangup and for app_queue's closing event of the call."""
    closing = {"answered": "AgentComplete", "queued": "QueueCallerAbandon"}.get(result.outcome)
    if "DialEnd" in result.events:
        closing = None  # no queue involved
    deadline = time.monotonic() + timeout
    while "Hangup" not in result.events or (closing and closing not in result.events):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            event = await events.get(timeout=remaining)
        except TimeoutError:
            return
        _note_closing(event, result, customer_leg)


def _channel_of(customer_leg: str, survey_event) -> str:  # type: ignore[no-untyped-def]
    """The caller's channel name: the ``;1`` half of the Local channel whose ``;2`` runs the survey."""
    channel = survey_event.get("Channel", "")
    return channel[:-1] + "1" if channel.endswith(";2") else customer_leg


def _belongs(event, linkedid: str) -> bool:
    return event.get("Linkedid") == linkedid or event.get("Uniqueid") == linkedid


def heard_file(recordings_dir: Path, linkedid: str) -> Path:
    """What the simulated caller of a ``record_heard`` call heard (16-bit mono WAV)."""
    return recordings_dir / "heard" / f"{linkedid}.wav"


def recording_files(recordings_dir: Path, linkedid: str) -> list[Path]:
    """The WAV files MixMonitor wrote for a call (mixed, caller side, agent side)."""
    return sorted(recordings_dir.glob(f"*/{linkedid}-*.wav"))


async def wait_for_recordings(recordings_dir: Path, linkedid: str, timeout: float = 5.0) -> list[Path]:
    """MixMonitor closes its files just after the hangup; wait until all three are there."""
    deadline = time.monotonic() + timeout
    while True:
        files = recording_files(recordings_dir, linkedid)
        if len(files) >= 3 or time.monotonic() > deadline:
            return files
        await asyncio.sleep(0.1)


async def press_keys(client: AmiClient, caller_channel: str, digits: str) -> None:
    """The simulated caller presses ``digits`` on their phone: DTMF sent out of their channel."""
    for digit in digits:
        await client.action("PlayDTMF", Channel=caller_channel, Digit=digit, Duration="120")
        await asyncio.sleep(0.2)
