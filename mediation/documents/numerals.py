"""Money in Chinese financial capital numerals (大写金额), as written on agreements and bank forms.

The rules follow 《支付结算办法》 附件一《正确填写票据和结算凭证的基本规定》 (PBoC, 1997):

* digits are 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿; "10" is written 壹拾 (never a bare 拾),
  so nothing can be prefixed to the amount;
* an amount ending at 元 is followed by 整 (1500 → 壹仟伍佰元整);
* after 角 the rule says 整 *may* be written; we always write it (10005.50 → 壹万零伍元伍角整),
  because a closing 整 leaves no room to append a 分 digit to a printed amount;
* an amount with 分 takes no 整 (1.05 → 壹元零伍分);
* a zero between digits is written 零, a run of zeros as one 零 (10005 → 壹万零伍); a 0 in the
  角 position followed by a non-zero 分 is written 零 after 元 (1.05 → 壹元零伍分);
* below one yuan the 元 part is left out (0.05 → 伍分); nothing at all is 零元整.

Negative amounts, amounts finer than one fen, and amounts of 10^16 yuan or more are refused.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
LIMIT = Decimal(10) ** 16  # 壹亿亿: far beyond any agreement
FEN = Decimal("0.01")


def _to_decimal(amount: Decimal | int | str) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("pass money as Decimal, int or str, not float")
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    if value < 0:
        raise ValueError(f"negative amount: {amount!r}")
    if value != value.quantize(FEN):
        raise ValueError(f"amount finer than one fen (0.01): {amount!r}")
    if value >= LIMIT:
        raise ValueError(f"amount too large: {amount!r}")
    return value.quantize(FEN)


def _group(number: int) -> str:
    """0 < number < 10000 → e.g. 1005 → 壹仟零伍 (no leading 零; the caller adds it)."""
    out: list[str] = []
    pending_zero = False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[digit] + SMALL_UNITS[position])
    return "".join(out)


def _integer(number: int) -> str:
    """number > 0 → capitals without 元: 10005 → 壹万零伍, 100100 → 壹拾万零壹佰.

    Above 亿 the count of 亿 is itself written with 万 (1.2e12 → 壹万贰仟亿), as on bank forms.
    """
    for unit, size in (("亿", 10**8), ("万", 10**4)):
        if number >= size:
            high, low = divmod(number, size)
            out = _integer(high) + unit
            if low:
                # A gap of zeros right after the unit is read as one 零: 壹万零伍, 壹亿零壹万.
                out += ("零" if low < size // 10 else "") + _integer(low)
            return out
    return _group(number)


def money_in_capitals(amount: Decimal | int | str) -> str:
    """1500 → 壹仟伍佰元整; 10005.50 → 壹万零伍元伍角整; 1.05 → 壹元零伍分; 0 → 零元整."""
    value = _to_decimal(amount)
    fen_total = int(value * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if fen_total == 0:
        return "零元整"
    out = _integer(yuan) + "元" if yuan else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return out


def format_amount(amount: Decimal | int | str) -> str:
    """Arabic figures with thousands separators and two decimals: 1500 → "1,500.00"."""
    return f"{_to_decimal(amount):,.2f}"
