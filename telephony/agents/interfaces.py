"""From an agent's extension to the dial string of their phone, and back."""

from __future__ import annotations

import re


class InterfacePattern:
    """``Local/{extension}@sim-phones/n`` or ``PJSIP/{extension}``: one per Asterisk server."""

    def __init__(self, template: str) -> None:
        self.template = template
        before, after = template.split("{extension}", 1)
        extension = r"(?P<extension>[0-9]+)"  # agent extensions are digits (a trunk's channel is not an agent's)
        self._regex = re.compile(re.escape(before) + extension + re.escape(after) + r"$")
        # The same interface as Dial's DialString gives it: without the technology ("1001@sim-phones/nm").
        tech, _, rest = before.partition("/")
        self._dialstring = re.compile(re.escape(rest) + extension + re.escape(after) + r"$") if rest or tech else None
        # A channel created on it: "PJSIP/1001-0000002a", "Local/1001@sim-phones-00000003;1".
        channel_after = after.rsplit("/", 1)[0] if before.startswith("Local/") and "/" in after else after
        self._channel = re.compile(re.escape(before) + extension + re.escape(channel_after) + r"-")

    def interface(self, extension: str) -> str:
        return self.template.format(extension=extension)

    def extension(self, interface: str | None) -> str | None:
        """The extension of an interface (or of a channel name built on it); None when not an agent's."""
        if not interface:
            return None
        match = self._regex.match(interface) or (self._dialstring.match(interface) if self._dialstring else None)
        return match.group("extension") if match else None

    def extension_of_channel(self, channel: str | None) -> str | None:
        """The agent extension a channel name belongs to, if it was created on an agent interface."""
        match = self._channel.match(channel or "")
        return match.group("extension") if match else None
