"""The AMI codec with panoramisk's defects fixed: UTF-8 split across TCP chunks, wire order."""

import pytest

from telephony.ami.client import AmiClient, AmiError, _refuse_line_breaks
from telephony.ami.protocol import AmiProtocol

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
EVENTS = (
    "Event: QueueCallerJoin\r\nChannel: Local/4001@cc-inbound-00000001;2\r\nCallerIDNum: 13800138000\r\n"
    "CallerIDName: 张三\r\nQueue: support\r\nPosition: 1\r\nLinkedid: a\r\n\r\n"
    "Event: AgentCalled\r\nCallerIDName: 客户服务中心\r\nLinkedid: a\r\n\r\n"
    "Event: AgentConnect\r\nCallerIDName: 张三\r\nLinkedid: a\r\n\r\n"
).encode()


class Recorder:
    forgetable_actions = ("ping", "login")
    awaiting_actions: list = []

    def __init__(self) -> None:
        self.events = []

    def dispatch(self, event) -> None:
        self.events.append((event.event, event.get("CallerIDName")))


class FakeTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def feed(chunks: list[bytes]) -> list:
    protocol = AmiProtocol()
    protocol.connection_made(FakeTransport())
    protocol.factory = recorder = Recorder()
    for chunk in chunks:
        protocol.data_received(chunk)
    return recorder.events


EXPECTED = [("QueueCallerJoin", "张三"), ("AgentCalled", "客户服务中心"), ("AgentConnect", "张三")]


def test_whole_stream() -> None:
    assert feed([BANNER + EVENTS]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(BANNER + EVENTS)))
def test_any_single_cut_keeps_every_character_and_the_order(cut: int) -> None:
    data = BANNER + EVENTS
    assert feed([data[:cut], data[cut:]]) == EXPECTED


def test_byte_by_byte() -> None:
    data = BANNER + EVENTS
    assert feed([data[i : i + 1] for i in range(len(data))]) == EXPECTED


def test_line_breaks_in_values_are_refused() -> None:
    with pytest.raises(AmiError, match="line break"):
        _refuse_line_breaks({"CallerID": '"x\r\nAction: Command\r\nCommand: core stop now" <1>'})
    with pytest.raises(AmiError):
        _refuse_line_breaks({"Variable": ["A=1", "B=2\nAction: Hangup"]})
    _refuse_line_breaks({"CallerID": '"张三" <13800138000>', "Variable": ["A=1"]})


async def test_unreachable_ami_is_a_clear_error() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s", reconnect=False)
    with pytest.raises(AmiError, match="cannot reach AMI at 127.0.0.1:1"):
        await client.connect(timeout=2)
