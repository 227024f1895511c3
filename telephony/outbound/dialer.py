"""Click-to-dial and ChanSpy, both by ``Originate`` to a person's own phone first.

Click-to-dial rings the agent's interface; when the agent answers, that leg runs ``cc-outbound``,
which records and dials the customer with the configured outbound caller ID. The call gets the
Linkedid we chose (``ChannelId``), so the tracker follows it as an outbound call from its first
event. A leader's spy call rings the leader's phone, then runs ``ChanSpy`` on the agent's channel.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from telephony.agents.state import AgentState
from telephony.ami import AmiError
from telephony.asterisks import Asterisks
from telephony.calls.live import OUTBOUND_LINKEDIDS
from telephony.events import DomainEvent
from telephony.outbound.monitors import Monitors, SpyLeg

CLICK_TO_DIAL, CAMPAIGN = OUTBOUND_LINKEDIDS  # the Linkedid prefixes of the calls placed here
SPY_OPTIONS = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}
DIALABLE = re.compile(r"^[0-9]{3,20}$")
RING_AGENT_MS = 30_000


class DialError(Exception):
    """The call could not be placed; the message says why."""


class NotDialable(DialError):
    """The number itself is not one Asterisk can dial."""


class NotAllowed(NotDialable):
    """The number is not one this center may call (``dialing.allowed_numbers``)."""


def dialable_number(number: str) -> str:
    """Digits Asterisk can dial: separators dropped, a leading + becomes the international prefix 00."""
    cleaned = re.sub(r"[\s\-().]", "", number or "")
    if cleaned.startswith("+"):
        cleaned = "00" + cleaned[1:]
    if not DIALABLE.match(cleaned):
        raise NotDialable(f"{number!r} is not a phone number that can be dialled")
    return cleaned


def allowed_number(number: str, patterns: list[str]) -> str:
    """The digits to dial, if they are a number and one of the allowed ``patterns`` matches them whole."""
    digits = dialable_number(number)
    if not any(re.fullmatch(pattern, digits) for pattern in patterns):
        raise NotAllowed(f"{digits} is not a number this center may call; an administrator allows it in dialing.allowed_numbers")
    return digits


def spy_prefix(interface: str) -> str:
    """The channel-name prefix ChanSpy matches for an interface: ``PJSIP/1001`` → ``PJSIP/1001-``,
    ``Local/1001@sim-phones/nm`` → ``Local/1001@sim-phones-`` (the dash keeps 1001 from matching 10010)."""
    if interface.startswith("Local/") and "/" in interface[6:]:
        interface = interface[: interface.rindex("/")]
    return interface + "-"


class Dialer:
    def __init__(self, asterisks: Asterisks, publish: Callable[[DomainEvent], None] = lambda event: None) -> None:
        self._asterisks = asterisks
        self._publish = publish
        self.monitors = Monitors()  # the leaders' ChanSpy legs up now (the bridge gives it their Hangups)

    async def click_to_dial(
        self, agent: str, number: str, *, agent_name: str = "", server: str | None = None, home: str | None = None
    ) -> str:
        """Ring ``agent``'s phone (on the server it is on, else ``home``), then ``number``; return the
        new call's Linkedid."""
        linkedid = f"{CLICK_TO_DIAL}{uuid.uuid4().hex[:16]}"
        await self._ring_agent_then(agent, number, linkedid, display=agent_name, server=server, home=home)
        return linkedid

    async def dial_for_campaign(
        self, agent: str, number: str, *, linkedid: str, campaign_id: int, customer_id: int | None, caller_id: str = "",
        ring_s: int = 30, server: str | None = None,
    ) -> None:
        """A campaign's call, as click-to-dial (the agent's phone first) with the Linkedid the campaign
        wrote for this attempt, the campaign's own caller ID (``CC_CALLERID``) when it has one, its
        ring time (``CC_RING_S``) and ``CC_ATTEMPT``: Asterisk marks the dial (telephony/calls/dial_marks.py)."""
        await self._ring_agent_then(
            agent, number, linkedid, display=f"campaign {campaign_id}", server=server, campaign_id=campaign_id,
            customer_id=customer_id, variables=["CC_ATTEMPT=1", f"CC_RING_S={int(ring_s)}", *([f"CC_CALLERID={caller_id}"] if caller_id else [])],
        )  # fmt: skip

    async def _ring_agent_then(
        self, agent: str, number: str, linkedid: str, *, display: str, server: str | None, home: str | None = None,
        campaign_id: int | None = None, customer_id: int | None = None, variables: list[str] | None = None,
    ) -> None:
        target = allowed_number(number, self._asterisks.settings.dialing.allowed_numbers)
        server = self._asterisks.server_of_agent(agent, server, home=home)  # the agent's phone is rung where they are
        state = self._asterisks.agents.get(agent)
        if state is not None and state.state in (AgentState.ON_CALL, AgentState.RINGING):
            raise DialError(f"agent {agent} is already on a call")
        interface = self._asterisks.interface(agent, server)
        self._asterisks.calls[server].expect_outbound(
            linkedid, agent=agent, number=target, interface=interface, campaign_id=campaign_id, customer_id=customer_id
        )
        try:
            await self._asterisks.client(server).originate(
                Channel=interface,
                Context="cc-outbound",
                Exten=target,
                Priority="1",
                CallerID=f'"{_quote_free(display or target)}" <{target}>',
                ChannelId=linkedid,
                OtherChannelId=f"{linkedid}-2",
                Timeout=str(RING_AGENT_MS),
                Variable=[f"CC_AGENT={agent}", *(variables or [])],
            )
        except AmiError as error:
            raise DialError(f"cannot place the call: {error}") from None

    async def spy(self, leader: str, agent: str, mode: str, *, server: str | None = None, leader_name: str = "") -> str:
        """Ring the leader's phone and let them listen to, whisper to, or barge in on ``agent``'s call;
        every board is told who is listening (``leader_name``) until that leg ends."""
        if mode not in SPY_OPTIONS:
            raise DialError(f"unknown spy mode {mode!r}; one of listen, whisper, barge")
        state = self._asterisks.agents.get(agent)
        if state is None or state.state != AgentState.ON_CALL:
            raise DialError(f"agent {agent} is not on a call")
        server = server or state.server
        pattern = self._asterisks.patterns[server]
        channel_id = f"cc-spy-{uuid.uuid4().hex[:16]}"
        try:
            await self._asterisks.client(server).originate(
                Channel=pattern.interface(leader),
                Application="ChanSpy",
                Data=f"{spy_prefix(pattern.interface(agent))},{SPY_OPTIONS[mode]}",
                CallerID=f'"{mode} {agent}" <{agent}>',
                ChannelId=channel_id,
                OtherChannelId=f"{channel_id}-2",
                Timeout=str(RING_AGENT_MS),
            )
        except AmiError as error:
            raise DialError(f"cannot start {mode}: {error}") from None
        self._publish(self.monitors.started(channel_id, SpyLeg(leader, leader_name or leader, agent, mode, server)))
        return channel_id

    async def stop_spy(self, leader: str, spy_id: str) -> None:
        """End a listen, whisper or barge ``leader`` started: its ChanSpy channel (the leader's
        phone leg) is hung up; the agent's call goes on."""
        leg = self.monitors.get(spy_id)
        if leg is None or leg.leader != leader:
            raise DialError("no such listening of yours (it may have ended)")
        try:  # its Hangup ends the leg in Monitors, for every board
            await self._asterisks.client(leg.server).action("Hangup", Channel=spy_id, Cause="16")  # a uniqueid names a channel too
        except AmiError as error:
            if "No such channel" not in str(error):
                raise DialError(f"cannot stop it: {error}") from None
            if (ended := self.monitors.ended(spy_id)) is not None:  # gone already, its Hangup not seen
                self._publish(ended)


def _quote_free(text: str) -> str:
    return re.sub(r'["<>\r\n]', "", text)[:40]
