"""Resynchronisation after an AMI (re)login: calls that ended unseen are closed, calls we missed
and clearly ours (in a queue, in a cc- context, our outbound and callback Linkedids) are adopted.
After a take-over (another worker owned the AMI connection and died) the calls it was following
are restored first: those gone are closed with what it knew of them, those still up keep it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, timedelta

from telephony.calls.live import CALLBACK_LINKEDID, OUTBOUND_LINKEDIDS, SURVEY_CONTEXT, AmiEvent, LiveCall, TrackerBase, duration_s
from telephony.calls.state import CallPhase, CallSnapshot
from telephony.events import CallAnswered, CallEvent, CallQueued, CallStarted


KEPT_FROM_ADOPTION = {"linkedid", "server", "phase", "position", "adopted", "held_since"}  # what Asterisk says now


class Resync(TrackerBase):
    _restored: dict[str, CallSnapshot] | None = None

    def restore(self, calls: Iterable[CallSnapshot]) -> None:
        """The calls another owner was following on this server when it died; the next
        :meth:`resync` closes those that are gone and fills in the ones still up."""
        self._restored = {call.linkedid: call for call in calls if call.server == self.server}

    def mark_snapshot(self) -> dict[str, set[str]]:
        """The channels of every call now, just before a snapshot is requested (see :meth:`resync`)."""
        return {linkedid: set(live.channels) for linkedid, live in self._calls.items()}

    def resync(
        self, channels: Iterable[AmiEvent], before: dict[str, set[str]] | None = None, at: datetime | None = None
    ) -> list[CallEvent]:
        """Bring the picture in line with ``CoreShowChannels`` after a (re)login.

        ``before`` is :meth:`mark_snapshot` taken when the snapshot was requested: only channels
        known then can be missing from it; calls and channels that appeared while it was being
        taken are left alone. Calls whose channels are all gone ended while we were not listening:
        they are closed now (hang-up side "system" unless known), so their call-log row is
        complete. Calls we had missed are adopted when they are clearly ours (in a queue or in a
        cc- context).
        """
        at = at or self._clock()
        if before is None:
            before = self.mark_snapshot()
        by_call: dict[str, list[AmiEvent]] = {}
        for channel in channels:
            by_call.setdefault(channel.get("Linkedid", ""), []).append(channel)
        events: list[CallEvent] = []
        for linkedid, known in before.items():
            live = self._calls.get(linkedid)
            if live is None:
                continue
            alive = {c.get("Uniqueid", "") for c in by_call.get(linkedid, [])}
            live.channels -= known - alive
            if not live.channels:
                events.append(self._end(live, at, lost=True))
        for linkedid, members in by_call.items():
            if linkedid and linkedid not in self._calls and linkedid not in before:
                events.extend(self._adopt(linkedid, members, at))
        restored, self._restored = self._restored or {}, None
        for linkedid, known in restored.items():
            if (live := self._calls.get(linkedid)) is not None:
                _fill_in(live.info, known)
            elif linkedid not in by_call:  # ended while nobody listened: its row is completed now
                self._calls[linkedid] = LiveCall(known.copy())
                events.append(self._end(self._calls[linkedid], at, lost=True))
        return events

    def _adopt(self, linkedid: str, channels: list[AmiEvent], at: datetime) -> list[CallEvent]:
        if any(c.get("Context") == SURVEY_CONTEXT for c in channels):
            return []  # the call ended when its survey began; only the caller's key is still to come
        queued = [c for c in channels if c.get("Application") == "Queue"]
        ours = queued or [c for c in channels if c.get("Context", "").startswith("cc-")]
        outbound = linkedid.startswith(OUTBOUND_LINKEDIDS) or any(c.get("Context") == "cc-outbound" for c in channels)
        if not ours and not outbound:
            return []
        first = next((c for c in channels if c.get("Uniqueid") == linkedid), (ours or channels)[0])
        duration = duration_s(first.get("Duration", ""))
        info = CallSnapshot(
            linkedid=linkedid, server=self.server, direction="outbound" if outbound else "inbound",
            started_at=at - timedelta(seconds=duration), adopted=True,
        )  # fmt: skip
        live = LiveCall(info, channels={c.get("Uniqueid", "") for c in channels})
        self._calls[linkedid] = live
        if (callback := CALLBACK_LINKEDID.match(linkedid)) is not None:
            return self._adopt_callback(live, int(callback.group(1)), channels, at)
        if outbound:
            self._adopt_outbound(live, first, channels, at)
            return [self._emit(live, CallStarted, at)]
        live.customer_channels = {first.get("Uniqueid", "")} | {c.get("Uniqueid", "") for c in queued}
        self._take_caller(live, first)
        events: list[CallEvent] = [self._emit(live, CallStarted, at)]
        if queued:
            info.queue = info.entry_queue = queued[0].get("ApplicationData", "").split(",")[0] or None
            if queued[0].get("BridgeId"):
                info.answered_at = info.queued_at = at
                info.phase = CallPhase.ANSWERED
            else:
                live.in_queue = True
                info.queued_at, info.phase = at, CallPhase.QUEUED
                events.append(self._emit(live, CallQueued, at, queue=info.queue or "", position=0))
        return events


    def _adopt_callback(self, live: LiveCall, callback_id: int, channels: list[AmiEvent], at: datetime) -> list[CallEvent]:
        """A queue callback's stand-in placed before a restart: still waiting in the queue, ringing its
        agent, calling the number, or talking. Followed from here, so its end still settles the attempt."""
        info, linkedid = live.info, live.info.linkedid
        info.direction, info.callback_id = "outbound", callback_id
        stand_in = {linkedid, f"{linkedid}-2"}
        live.customer_channels = set(stand_in)
        first = next((c for c in channels if c.get("Uniqueid") == linkedid), {})
        live.customer_channel = first.get("Channel") or None
        queued = next((c for c in channels if c.get("Uniqueid") == f"{linkedid}-2" and c.get("Application") == "Queue"), None)
        if queued is not None:
            info.queue = info.entry_queue = queued.get("ApplicationData", "").split(",")[0] or None
        for channel in channels:
            agent = self._agents.extension_of_channel(channel.get("Channel"))
            if agent and channel.get("Uniqueid") not in stand_in:
                live.agent_channels.add(channel.get("Uniqueid", ""))
                live.agent_channel, info.agent, info.agent_interface = channel.get("Channel"), agent, self._agents.interface(agent)
        events: list[CallEvent] = [self._emit(live, CallStarted, at)]
        if info.agent is None:  # the stand-in still waits for its turn
            live.in_queue = True
            info.queued_at, info.phase = at, CallPhase.QUEUED
            events.append(self._emit(live, CallQueued, at, queue=info.queue or "", position=0))
            return events
        info.answered_at, info.phase = at, CallPhase.ANSWERED
        if first.get("Context") == "cc-callback":
            info.called_number = first.get("Exten") or None
            if first.get("Application") == "Dial" and first.get("BridgeId"):
                info.dial_status = "ANSWER"  # the customer answered before the restart
            else:
                live.direct_dials = dict.fromkeys({c.get("Uniqueid", "") for c in channels} - stand_in - live.agent_channels)
        events.append(self._emit(live, CallAnswered, at, agent=info.agent, interface=info.agent_interface))
        return events

    def _adopt_outbound(self, live: LiveCall, agent_leg: AmiEvent, channels: list[AmiEvent], at: datetime) -> None:
        """Our click-to-dial or campaign call (its first channel, the agent's phone, has the Linkedid
        we chose): still ringing the agent, dialling the customer, or talking. Followed from here
        as if it had been placed now, so its Dial's end still tells how it went."""
        info, linkedid = live.info, live.info.linkedid
        live.agent_channels = {agent_leg.get("Uniqueid", "")}
        live.agent_channel = agent_leg.get("Channel") or None
        live.customer_channels = {c.get("Uniqueid", "") for c in channels} - {linkedid, f"{linkedid}-2"}
        info.agent = self._agents.extension_of_channel(agent_leg.get("Channel"))
        info.agent_interface = self._agents.interface(info.agent) if info.agent else None
        if agent_leg.get("Context") == "cc-outbound":
            info.called_number = agent_leg.get("Exten") or None
            if agent_leg.get("BridgeId"):  # the customer answered: they are talking
                info.answered_at, info.phase, info.dial_status = at, CallPhase.ANSWERED, "ANSWER"
            else:  # the customer's phone is ringing: the Dial's end says how it went
                live.direct_dials = dict.fromkeys(live.customer_channels)
                info.offered_at = at


def _fill_in(adopted: CallSnapshot, known: CallSnapshot) -> None:
    """An adopted call takes what the previous owner knew of it (the caller, when it was queued,
    offered and answered, the agent, its offers and transfers); Asterisk's present state stays."""
    for field in fields(CallSnapshot):
        value = getattr(known, field.name)
        if field.name not in KEPT_FROM_ADOPTION and value not in (None, [], 0, 0.0, False):
            setattr(adopted, field.name, value)
    adopted.adopted = False
