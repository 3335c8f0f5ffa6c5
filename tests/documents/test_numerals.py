"""Chinese financial capital numerals (大写金额) and amount formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation.documents.numerals import format_amount, money_in_capitals

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "零元整"),
        ("0.00", "零元整"),
        (1500, "壹仟伍佰元整"),
        (Decimal("10005.50"), "壹万零伍元伍角整"),
        (1_000_000, "壹佰万元整"),
        ("0.05", "伍分"),
        ("1.05", "壹元零伍分"),
        ("100.10", "壹佰元壹角整"),
        (20000, "贰万元整"),
        # 10 is 壹拾, never a bare 拾, so nothing can be written in front of it.
        (10, "壹拾元整"),
        (Decimal("0.5"), "伍角整"),
        ("0.55", "伍角伍分"),
        (100100, "壹拾万零壹佰元整"),
        (100_000_001, "壹亿零壹元整"),
        (100_010_000, "壹亿零壹万元整"),
        (1_200_000_000_000, "壹万贰仟亿元整"),
        ("1,500", "壹仟伍佰元整"),
        # Worked examples of 《正确填写票据和结算凭证的基本规定》 (PBoC).
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1409.50", "壹仟肆佰零玖元伍角整"),
    ],
)
def test_money_in_capitals(amount, expected):
    assert money_in_capitals(amount) == expected


@pytest.mark.parametrize("amount", [-1, "-0.01", Decimal("-1500")])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="negative"):
        money_in_capitals(amount)


@pytest.mark.parametrize("amount", ["1.005", "abc", "", "NaN", "Infinity", 10**16])
def test_invalid_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        money_in_capitals(amount)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money_in_capitals(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1500, "1,500.00"),
        ("10005.5", "10,005.50"),
        (0, "0.00"),
        ("0.05", "0.05"),
        (Decimal("1234567.89"), "1,234,567.89"),
    ],
)
def test_format_amount(amount, expected):
    assert format_amount(amount) == expected


DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def parse_capitals(text: str) -> Decimal:
    """An independent reader of capitals, to check money_in_capitals round-trips."""
    text = text.removesuffix("整")
    if "元" in text:
        integer_text, fraction_text = text.split("元")
    else:
        integer_text, fraction_text = "", text
    total = section = number = 0
    for char in integer_text:
        if char in DIGITS:
            number = DIGITS[char]
        elif char in SMALL:
            assert number, f"unit without a digit in {text}"
            section += number * SMALL[char]
            number = 0
        elif char == "万":
            total += (section + number) * 10**4
            section = number = 0
        elif char == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
        else:
            raise AssertionError(f"unexpected {char!r} in {text}")
    total += section + number
    cents = 0
    fraction_text = fraction_text.removeprefix("零")
    if "角" in fraction_text:
        jiao, fraction_text = fraction_text.split("角")
        cents += DIGITS[jiao] * 10
    if "分" in fraction_text:
        cents += DIGITS[fraction_text.removesuffix("分")]
    return Decimal(total) + Decimal(cents) / 100


@given(st.integers(min_value=0, max_value=10**18 - 1))
def test_capitals_round_trip(fen):
    amount = Decimal(fen) / 100
    text = money_in_capitals(amount)
    assert parse_capitals(text) == amount
    assert text.endswith("整") == (fen % 10 == 0)
    assert "零零" not in text
    assert not text.startswith("零") or text == "零元整"
    assert not text.startswith(("拾", "佰", "仟", "万", "亿"))
