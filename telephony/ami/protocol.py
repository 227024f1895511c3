"""The AMI wire protocol: panoramisk's codec with its decoding defect fixed.

panoramisk decodes every TCP chunk on its own with ``errors='ignore'``, so a UTF-8 character cut in
two by a chunk boundary (a Chinese caller name, say) is silently dropped. Here the bytes go through
one incremental decoder per connection, so a character split over any number of chunks survives.
Messages are handed on in the order they were read.

And a closed connection fails every action still waiting for its answer. panoramisk keeps the
"forgettable" ones (Login, Ping) unanswered forever, so a Login sent as Asterisk went down waited
out its whole timeout before the client tried again.

And a message has a bound (``MAX_MESSAGE_CHARS``): a peer that never ends one would otherwise
grow the buffer without limit; past it the connection is dropped, and the client reconnects and
resyncs.
"""

from __future__ import annotations

import codecs

from panoramisk import utils
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

MESSAGE_END = utils.EOL + utils.EOL
MAX_MESSAGE_CHARS = 1 << 20  # Asterisk's longest (a Command's output) stays far below


class AmiError(Exception):
    """AMI refused something, or could not be reached."""


class AmiProtocol(AMIProtocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.encoding = "utf-8"
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        text = self._pending + self._decoder.decode(data)
        if self.version is None and text.startswith("Asterisk Call Manager/"):
            banner, separator, text = text.partition(utils.EOL)
            if not separator:  # banner not complete yet
                self._pending = banner
                return
            self.version = banner.partition("/")[2].strip()
        *blocks, self._pending = text.split(MESSAGE_END)
        for block in blocks:
            message = Message.from_line(block.strip("\r\n"))  # not strip(): a last header with an empty value ends in ": "
            if message is not None:
                self.handle_message(message)
        if len(self._pending) > MAX_MESSAGE_CHARS:
            self._pending = ""
            self.connection_lost(AmiError(f"an AMI message longer than {MAX_MESSAGE_CHARS} characters; connection dropped"))

    def close(self) -> None:
        for action in list(self.responses.values()):
            if isinstance(action, Action) and not action.future.done():
                action.future.set_exception(AmiError(f"AMI connection closed before {action['action']} was answered"))
        self.responses.clear()
        super().close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.close()
            self.factory.connection_lost(exc, self)
