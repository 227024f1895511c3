"""Which outside numbers agents may call or transfer to: the toll-fraud allow-list
(``dialing.allowed_numbers``); through the sandbox in tests/test_bridge_outbound.py."""

from __future__ import annotations

import pytest

from config import load_settings
from telephony.outbound.dialer import NotAllowed, allowed_number, dialable_number


@pytest.mark.parametrize(
    ("number", "allowed"),
    [("13800138000", True), ("+86 138 0013 8000", True), ("010-6552 9988", True), ("+86 10 6552 9988", True), ("6552 9988", True),
     ("400 810 8888", True), ("+44 20 7946 0958", False), ("00 882 1234 5678", False), ("1900 123 456", False), ("95555", False),
     ("12345", False), ("+1 900 555 0199", False)],
)  # fmt: skip
def test_the_default_allow_list_is_mainland_numbers_only(number: str, allowed: bool) -> None:
    patterns = load_settings().dialing.allowed_numbers
    if allowed:
        assert allowed_number(number, patterns) == dialable_number(number)
    else:
        with pytest.raises(NotAllowed, match="dialing.allowed_numbers"):
            allowed_number(number, patterns)


def test_an_operator_allows_more_and_a_bad_pattern_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, dialing={"allowed_numbers": [r"0044[0-9]{10}"]})
    assert allowed_number("+44 20 7946 0958", settings.dialing.allowed_numbers) == "00442079460958"
    with pytest.raises(NotAllowed):
        allowed_number("13800138000", settings.dialing.allowed_numbers)
    with pytest.raises(Exception, match="not a regular expression"):
        load_settings(data_dir=tmp_path, dialing={"allowed_numbers": ["(00"]})
