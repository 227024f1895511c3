import pytest

from crm.phones import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    "written",
    ["13800138000", "+86 138 0013 8000", "0086 138 0013 8000", "0086-138-0013-8000", "+86-138-0013-8000", "86 13800138000", " 138 0013 8000 "],
)
def test_chinese_mobile_written_any_way_is_one_number(written: str) -> None:
    assert normalize_phone(written) == "+8613800138000"


def test_landline_and_foreign_numbers() -> None:
    assert normalize_phone("010-12345678") == "+861012345678"
    assert normalize_phone("(010) 1234 5678") == "+861012345678"
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    assert normalize_phone("415 555 2671", default_region="US") == "+14155552671"


def test_short_numbers_keep_their_digits() -> None:
    assert normalize_phone("1001") == "1001"
    assert normalize_phone("10086") == "10086"


@pytest.mark.parametrize("bad", ["", "   ", "abc", "12+34", "138<script>", "1" * 25])
def test_garbage_is_refused(bad: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(bad)
