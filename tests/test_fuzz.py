"""Fuzzing the two doors a PBX (or whoever reaches its ports) knocks on: the AMI decoder and the
FastAGI server. Arbitrary bytes, cut anywhere, invalid UTF-8, messages that never end: no crash,
bounded memory, every well-formed message decoded exactly and in order, and no AGI command but
``SET VARIABLE`` with a clean value, whatever the caller's data."""

from __future__ import annotations

import asyncio
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.ami.protocol import MAX_MESSAGE_CHARS, AmiProtocol
from telephony.routing.fastagi import FastAgiServer
from telephony.routing.router import RouteDecision

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Recorder:
    forgetable_actions = ("ping", "login")
    awaiting_actions: list = []

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        self.lost: list[object] = []

    def dispatch(self, event) -> None:  # type: ignore[no-untyped-def]
        self.events.append({k: v for k, v in event.items() if k != "content"})

    def connection_lost(self, exc, protocol=None) -> None:  # type: ignore[no-untyped-def]
        self.lost.append(exc)


class FakeTransport:
    closed = False

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def protocol() -> tuple[AmiProtocol, Recorder, FakeTransport]:
    decoder, recorder, transport = AmiProtocol(), Recorder(), FakeTransport()
    decoder.connection_made(transport)
    decoder.factory = recorder
    return decoder, recorder, transport


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


@FUZZ
@given(chunks=st.lists(st.binary(max_size=400), max_size=40))
def test_the_ami_decoder_survives_any_bytes(chunks: list[bytes]) -> None:
    decoder, _, _ = protocol()
    for chunk in [BANNER, *chunks]:
        decoder.data_received(chunk)
    assert len(decoder._pending) <= MAX_MESSAGE_CHARS


KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True).filter(lambda k: k.lower() not in {"event", "response", "actionid", "result"})
VALUES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=80)
MESSAGES = st.lists(st.dictionaries(KEYS, VALUES, max_size=8).filter(lambda d: len({k.lower() for k in d}) == len(d)), min_size=1, max_size=12)


@FUZZ
@given(messages=MESSAGES, points=st.lists(st.integers(min_value=0), max_size=30))
def test_every_well_formed_message_comes_out_whole_and_in_order_however_it_is_cut(messages: list[dict[str, str]], points: list[int]) -> None:
    wire = BANNER + "".join(
        "Event: Fuzz\r\n" + f"Seq: {n}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        for n, headers in enumerate(messages)
    ).encode()
    decoder, recorder, _ = protocol()
    for chunk in cut(wire, points):
        decoder.data_received(chunk)
    assert recorder.events == [{"Event": "Fuzz", "Seq": str(n), **headers} for n, headers in enumerate(messages)]


@settings(max_examples=20, deadline=None)
@given(chunk=st.integers(min_value=1000, max_value=200_000))
def test_a_message_that_never_ends_drops_the_connection_not_the_memory(chunk: int) -> None:
    decoder, recorder, transport = protocol()
    decoder.data_received(BANNER + b"Event: Endless\r\nValue: ")
    sent = 0
    while not decoder.closed and sent < 2 * MAX_MESSAGE_CHARS:
        decoder.data_received(b"x" * chunk)
        sent += chunk
        assert len(decoder._pending) <= MAX_MESSAGE_CHARS + chunk
    assert decoder.closed and transport.closed and len(recorder.lost) == 1  # the client reconnects and resyncs
    decoder.data_received(b"\r\n\r\nEvent: After\r\n\r\n")
    assert recorder.events == []


# FastAGI -------------------------------------------------------------------------------------------------


class EchoingRouter:
    """The worst router: it puts what the caller sent (DID, caller ID) into the decision, so the
    fuzz checks that no such text ever leaves the server as anything but a clean variable value."""

    async def route(self, *, did: str, caller: str, default_queue: str | None = None) -> RouteDecision | None:
        return RouteDecision(route="queue", queue=did, preferred_agent=caller, closed_action=default_queue or "")


class Wire:
    def __init__(self) -> None:
        self.written = bytearray()

    def write(self, data: bytes) -> None:
        self.written += data

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        pass


CLEAN_COMMAND = re.compile(r'SET VARIABLE CC_[A-Z_]+ "[^"\\\r\n]*"')
HEADER_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)


async def serve(data: bytes) -> bytes:
    reader = asyncio.StreamReader(limit=2**16)
    reader.feed_data(data)
    reader.feed_eof()
    wire = Wire()
    await FastAgiServer(EchoingRouter())._serve(reader, wire)  # type: ignore[arg-type]
    return bytes(wire.written)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_fastagi_survives_any_bytes(data: bytes) -> None:
    written = asyncio.run(serve(data))
    assert all(CLEAN_COMMAND.fullmatch(line) for line in written.decode().splitlines())


@FUZZ
@given(did=HEADER_TEXT, caller=HEADER_TEXT, queue=HEADER_TEXT, replies=st.lists(st.sampled_from([b"200 result=1\n", b"510 Invalid\n", b""]), max_size=12))
def test_no_agi_command_is_built_from_caller_data(did: str, caller: str, queue: str, replies: list[bytes]) -> None:
    environment = f"agi_network: yes\nagi_network_script: route\nagi_arg_1: {did}\nagi_callerid: {caller}\nagi_arg_2: {queue}\n\n"
    written = asyncio.run(serve(environment.encode() + b"".join(replies) + b"200 result=1\n" * 12)).decode()
    for line in written.splitlines():
        assert CLEAN_COMMAND.fullmatch(line), line  # only SET VARIABLE, one per line, nothing smuggled after a quote


def test_a_huge_agi_environment_is_refused_whole() -> None:
    written = asyncio.run(serve(b"agi_network_script: route\nagi_callerid: " + b"9" * 200_000 + b"\n\n"))
    assert written == b""
