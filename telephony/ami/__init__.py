"""Our thin adapter over panoramisk's AMI codec."""

from telephony.ami.client import AmiClient, AmiError, EventStream

__all__ = ["AmiClient", "AmiError", "EventStream"]
