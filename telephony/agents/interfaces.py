"""From an agent's extension to the dial string of their phone, and back."""

from __future__ import annotations

import re


class InterfacePattern:
    """``Local/{extension}@sim-phones/n`` or ``PJSIP/{extension}``: one per Asterisk server."""

    def __init__(self, template: str) -> None:
        self.template = template
        before, after = template.split("{extension}", 1)
        self._regex = re.compile(re.escape(before) + r"(?P<extension>[0-9A-Za-z_.-]+)" + re.escape(after) + r"$")

    def interface(self, extension: str) -> str:
        return self.template.format(extension=extension)

    def extension(self, interface: str | None) -> str | None:
        """The extension of an interface (or of a channel name built on it); None when not an agent's."""
        if not interface:
            return None
        match = self._regex.match(interface)
        return match.group("extension") if match else None
