"""What Asterisk itself kept of an attempt's dial (the ``cc-dial-mark`` dialplan: the global
variable ``CC_DIAL_<Linkedid>``), for the attempts whose calls ended while none of our processes
listened — killed, restarted, cut off from AMI. The call log cannot tell those apart: it has no row
for them, whether the customer was never dialled or answered and talked. The mark can: none means
the customer's number was never dialled; ``DIALLING`` that the Dial had not returned; otherwise the
Dial's ``DIALSTATUS`` (ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL). Read and cleared
with ``Getvar`` / ``Setvar`` (the bridge's ``call`` class); cleared once its attempt is settled.
Asterisk's own restart loses the marks — and with them calls it had cut anyway."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from telephony.ami import AmiClient, AmiError

PREFIX = "CC_DIAL_"
DIALLING = "DIALLING"
_LINKEDID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _variable(linkedid: str) -> str:
    if not _LINKEDID.match(linkedid):  # ours, but a field of an AMI action all the same
        raise ValueError(f"not an attempt's Linkedid: {linkedid!r}")
    return PREFIX + linkedid


async def dial_mark(clients: Iterable[AmiClient], linkedid: str) -> str | None:
    """The mark the call ``linkedid`` left on whichever Asterisk ran it; None when it left none.
    Raises AmiError or TimeoutError when an Asterisk cannot be asked (so nothing is settled on a guess)."""
    variable = _variable(linkedid)
    for client in clients:
        value = (await client.action("Getvar", Variable=variable)).get("Value")
        if value:
            return str(value)
    return None


async def forget_dial_mark(clients: Iterable[AmiClient], linkedid: str) -> None:
    """Clear the call's mark wherever it is, once its attempt is settled. An Asterisk that cannot be
    asked now keeps it: a few bytes, never misread (each Linkedid is one attempt's)."""
    variable = _variable(linkedid)
    for client in clients:
        with contextlib.suppress(AmiError, TimeoutError):
            await client.action("Setvar", Variable=variable, Value="")
