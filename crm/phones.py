"""Phone numbers as the CRM stores and looks them up.

Every way of writing one number gives one key: ``13800138000``, ``+86 138 0013 8000``,
``0086 138 0013 8000`` and ``+86-138-0013-8000`` are all ``+8613800138000``. Numbers without a
country code are read in the configured default region. Short numbers that are not public phone
numbers (an extension ``1001``, a service number ``10086``) keep their digits.
"""

from __future__ import annotations

import re

import phonenumbers

_ALLOWED = re.compile(r"^[\d\s()+.\-/]+$")


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(raw: str, default_region: str = "CN") -> str:
    text = (raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits or not _ALLOWED.match(text) or "+" in text.lstrip("(")[1:]:  # "+86 …" and "(+86) …", never "1+2"
        raise InvalidPhoneNumber(f"not a phone number: {raw!r}")
    if len(digits) > 20:
        raise InvalidPhoneNumber(f"too many digits for a phone number: {raw!r}")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return digits
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return digits
