"""A real Asterisk 22 for demos and tests, in a cached Debian sid chroot."""

from telephony.sandbox.chroot import SandboxUnavailable
from telephony.sandbox.instance import Sandbox, SandboxStatus

__all__ = ["Sandbox", "SandboxStatus", "SandboxUnavailable"]
