"""Who sees customers' phone numbers in full (handbook §6, 客户资料保密制度).

A role outside ``privacy.full_phones`` sees 138****8000: enough to tell two numbers apart, not
enough to copy the CRM. The number of a call the reader is or was on stays whole (they heard it
ring). Revealing one number is a deliberate, audited act (crm.audit); dialling one by its id needs
no reveal, since the dialler reads the number server-side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from config.privacy import PrivacySettings
from crm.models import Role

MASK = "*"


def mask_phone(number: str | None, default_region: str = "CN") -> str | None:
    """``13800138000`` → ``138****8000``; a foreign number keeps its country code (``+44 791****0123``);
    short ones keep their last two digits."""
    if not number:
        return number
    national, prefix = re.sub(r"\D", "", number), ""
    try:
        parsed = phonenumbers.parse(number, default_region)
        if phonenumbers.is_valid_number(parsed):
            national = str(parsed.national_number)
            if phonenumbers.region_code_for_number(parsed) != default_region:
                prefix = f"+{parsed.country_code} "
    except phonenumbers.NumberParseException:
        pass
    if len(national) >= 8:
        return prefix + national[:3] + MASK * (len(national) - 7) + national[-4:]
    return prefix + MASK * max(len(national) - 2, 2) + national[-2:]


@dataclass(frozen=True)
class Disclosure:
    """What one reader is shown of phone numbers."""

    user_id: int | None
    full: bool
    may_reveal: bool
    default_region: str = "CN"

    @classmethod
    def of(cls, user_id: int | None, role: Role | str, settings: PrivacySettings, default_region: str = "CN") -> Disclosure:
        full = Role(role) in {Role(r) for r in settings.full_phones}
        return cls(user_id, full, not full and Role(role) in {Role(r) for r in settings.reveal_phones}, default_region)

    @classmethod
    def everything(cls) -> Disclosure:
        return cls(None, True, False)

    def phone(self, number: str | None, *, on_their_call: bool = False) -> str | None:
        return number if self.full or on_their_call else mask_phone(number, self.default_region)

    def call_number(self, number: str | None, agent_id: int | None) -> str | None:
        """A call's caller or called number: whole for the call's own agent."""
        return self.phone(number, on_their_call=agent_id is not None and agent_id == self.user_id)

    def matches_shown(self, written: str, stored: str) -> bool:
        """Whether ``written`` is the stored number as this reader was shown it (an edit form sends
        the masked numbers back unchanged)."""
        return not self.full and MASK in written and written.strip() == self.phone(stored)
