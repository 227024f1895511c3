"""From an agent's extension to the dial string of their phone, and back. Most agents' phones follow
the server's pattern; an agent whose phone is the browser (issue 13) is ``PJSIP/<extension>``."""

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


BROWSER_PHONE = "PJSIP/{extension}"


class AgentInterfaces:
    """The server's pattern, and the extensions whose phone is a browser phone instead. It answers
    like an InterfacePattern, so the trackers and controls need not know which phone an agent has."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._usual = InterfacePattern(template)
        self._browser = InterfacePattern(BROWSER_PHONE)
        self.browser_phones: set[str] = set()

    def use_browser_phone(self, extension: str, browser: bool = True) -> None:
        (self.browser_phones.add if browser else self.browser_phones.discard)(extension)

    def interface(self, extension: str) -> str:
        pattern = self._browser if extension in self.browser_phones else self._usual
        return pattern.interface(extension)

    def extension(self, interface: str | None) -> str | None:
        return self._usual.extension(interface) or self._browser_extension(self._browser.extension(interface))

    def extension_of_channel(self, channel: str | None) -> str | None:
        return self._usual.extension_of_channel(channel) or self._browser_extension(self._browser.extension_of_channel(channel))

    def _browser_extension(self, extension: str | None) -> str | None:
        # Only a browser phone's: PJSIP/<digits> may also be a trunk named by its number.
        return extension if extension in self.browser_phones else None
