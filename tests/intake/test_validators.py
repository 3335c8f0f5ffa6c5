"""Resident ID numbers and phone numbers: what intake accepts, normalises and refuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation import i18n
from mediation.validators import (
    ValidationError,
    birth_date_from_id,
    gender_from_id,
    validate_id_number,
    validate_phone,
)

pytestmark = pytest.mark.pure

TODAY = date(2026, 11, 23)


def check_char(body17: str) -> str:
    """GB 11643-1999 check character, written out here independently of the module."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return "10X98765432"[total % 11]


def make_id(area: str = "330482", born: str = "19900101", seq: str = "123") -> str:
    body = area + born + seq
    return body + check_char(body)


@pytest.fixture(autouse=True)
def chinese():
    i18n.set_locale("zh_CN")
    yield
    i18n.set_locale("zh_CN")


# --- ID numbers ---------------------------------------------------------------------------


def test_the_independent_check_char_agrees_with_a_published_example():
    assert make_id("110105", "19491231", "002") == "11010519491231002X"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        make_id(),
        make_id("330402", "20000229", "046"),
        make_id("810000", "19991231", "017"),
        make_id("110101", "19000101", "001"),
    ],
)
def test_it_accepts_valid_id_numbers(number):
    assert validate_id_number(number, today=TODAY) == number


def test_it_upper_cases_a_lower_case_x():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


def test_it_strips_whitespace_around_and_inside_the_number():
    assert validate_id_number("  110105 19491231 002X\n") == "11010519491231002X"


def test_it_accepts_full_width_digits_typed_with_a_chinese_keyboard():
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"


def test_it_converts_a_15_digit_legacy_number_to_18_digits():
    assert validate_id_number("110105491231002") == "11010519491231002X"


def test_it_converts_another_legacy_number_with_a_computed_check_digit():
    converted = validate_id_number("330482850615123")
    assert converted == make_id("330482", "19850615", "123")
    assert len(converted) == 18


def test_it_rejects_a_wrong_checksum():
    with pytest.raises(ValidationError) as caught:
        validate_id_number("110105194912310021")
    assert "校验位" in caught.value.message


def test_it_rejects_every_single_digit_typo():
    number = make_id()
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(ValidationError):
                validate_id_number(typo, today=TODAY)


def test_it_rejects_february_30():
    with pytest.raises(ValidationError) as caught:
        validate_id_number(make_id(born="20230230"), today=TODAY)
    assert "2023年02月30日" in caught.value.message
    assert "不存在" in caught.value.message


def test_it_rejects_february_29_in_a_common_year():
    with pytest.raises(ValidationError, match="2023年02月29日"):
        validate_id_number(make_id(born="20230229"), today=TODAY)


def test_it_accepts_february_29_in_a_leap_year():
    number = make_id(born="20240229")
    assert validate_id_number(number, today=TODAY) == number


def test_it_rejects_month_13_in_a_legacy_number():
    with pytest.raises(ValidationError, match="1985年13月01日"):
        validate_id_number("330482851301123")


def test_it_rejects_a_date_of_birth_in_the_future():
    with pytest.raises(ValidationError) as caught:
        validate_id_number(make_id(born="20261124"), today=TODAY)
    assert "晚于今天" in caught.value.message


def test_it_accepts_someone_born_today():
    number = make_id(born="20261123")
    assert validate_id_number(number, today=TODAY) == number


def test_it_rejects_a_date_of_birth_before_1900():
    # The standard's own worked example: its checksum is right, but nobody born in 1880
    # is a party today.
    with pytest.raises(ValidationError, match="1900"):
        validate_id_number("440524188001010014")


@pytest.mark.parametrize("area", ["030482", "930482"])
def test_it_rejects_an_unknown_region_code(area):
    with pytest.raises(ValidationError) as caught:
        validate_id_number(make_id(area=area), today=TODAY)
    assert "地区码" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "1101051949123100",
        "11010519491231002XX",
        "1101051949123100X2",
        "11010519491231002Y",
        "11010519491231002",
        "11010549123100",
        "1101054912310021",
        "ABCDEFGHIJKLMNOPQR",
    ],
)
def test_it_rejects_wrong_length_or_characters(value):
    with pytest.raises(ValidationError) as caught:
        validate_id_number(value)
    assert "18位" in caught.value.message


def test_validation_error_is_a_value_error_with_the_message():
    with pytest.raises(ValueError) as caught:
        validate_id_number("123")
    assert str(caught.value) == caught.value.message


def test_its_messages_are_english_in_the_english_locale():
    i18n.set_locale("en")
    with pytest.raises(ValidationError) as caught:
        validate_id_number("110105194912310021")
    assert caught.value.message.startswith("The last character of this ID number")


def test_it_reads_the_date_of_birth():
    assert birth_date_from_id("11010519491231002X") == date(1949, 12, 31)


def test_it_reads_the_date_of_birth_of_a_legacy_number():
    assert birth_date_from_id("330482850615123") == date(1985, 6, 15)


def test_it_reads_the_gender_from_the_17th_digit():
    assert gender_from_id("11010519491231002X") == "F"
    assert gender_from_id(make_id(seq="123")) == "M"
    assert gender_from_id(make_id(seq="120")) == "F"


def test_reading_from_an_invalid_number_raises():
    with pytest.raises(ValidationError):
        gender_from_id("110105194912310021")


@given(
    area=st.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.from_regex(r"[0-9]{3}", fullmatch=True),
)
def test_every_well_formed_number_is_accepted_and_read_back(area, born, seq):
    number = make_id(area, born.strftime("%Y%m%d"), seq)
    assert validate_id_number(number, today=TODAY) == number
    assert validate_id_number(number.lower(), today=TODAY) == number
    assert birth_date_from_id(number) == born
    assert gender_from_id(number) == ("M" if int(seq[-1]) % 2 else "F")


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)))
def test_every_legacy_number_converts_to_a_valid_18_digit_number(born):
    legacy = "330482" + born.strftime("%y%m%d") + "321"
    converted = validate_id_number(legacy)
    assert converted == make_id("330482", born.strftime("%Y%m%d"), "321")


@given(born=st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2999, 12, 31)))
def test_no_future_date_of_birth_is_accepted(born):
    with pytest.raises(ValidationError):
        validate_id_number(make_id(born=born.strftime("%Y%m%d")), today=TODAY)


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0086 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0573-85012345", "0573-85012345"),
        ("057385012345", "0573-85012345"),
        ("0573 8501234", "0573-8501234"),
        ("(0573)85012345", "0573-85012345"),
        ("０５７３－８５０１２３４５", "0573-85012345"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021 62345678", "021-62345678"),
        ("+86 573 85012345", "0573-85012345"),
        ("+86 10 12345678", "010-12345678"),
        ("+86 (0573) 85012345", "0573-85012345"),
    ],
)
def test_it_accepts_and_normalises_phone_numbers(typed, normalised):
    assert validate_phone(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "110",
        "12345",
        "12812345678",
        "10012345678",
        "1381234567",
        "138123456789",
        "0573-0123456",
        "0573-123456",
        "0573-123456789",
        "0111-2345678",
        "0573-85012345-801",
        "+1 415 555 0100",
        "138abcd5678",
        "86138123456",
    ],
)
def test_it_rejects_what_is_not_a_mobile_or_landline(typed):
    with pytest.raises(ValidationError) as caught:
        validate_phone(typed)
    assert "0573-85012345" in caught.value.message
    assert "手机号码" in caught.value.message


def test_it_rejects_digits_from_other_scripts():
    with pytest.raises(ValidationError):
        validate_id_number("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")
    with pytest.raises(ValidationError):
        validate_phone("١٣٨١٢٣٤٥٦٧٨")


def test_it_checks_an_organisations_unified_social_credit_code():
    from mediation.validators import validate_credit_code

    assert validate_credit_code("91350100m000100y43") == "91350100M000100Y43"
    with pytest.raises(ValidationError):
        validate_credit_code("91350100M000100Y44")
    with pytest.raises(ValidationError):
        validate_credit_code("9135010")
