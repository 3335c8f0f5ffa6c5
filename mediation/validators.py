"""Checks and normalises the identity details typed at intake: resident ID numbers and phones."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from mediation.clock import local_today
from mediation.i18n import gettext as _

# GB 11643-1999: weights 2^(17-i) mod 11 for the 17 body digits, then ISO 7064 MOD 11-2.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^[0-9]{17}[0-9X]$")
_ID15 = re.compile(r"^[0-9]{15}$")
_EARLIEST_BIRTH = date(1900, 1, 1)

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# A local number never starts with 0: that would be a second trunk prefix.
_LOCAL = re.compile(r"^[1-9][0-9]{6,7}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


class ValidationError(ValueError):
    """Bad input; ``message`` is already translated and fit to show beside the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def id_check_char(body17: str) -> str:
    """The check character for the first 17 digits of an ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def validate_id_number(value: str | None, *, today: date | None = None) -> str:
    """Return the ID number as 18 upper-case characters, or raise ``ValidationError``.

    Old 15-digit numbers (issued before 1999, no check digit) are converted to 18.
    """
    number = re.sub(r"\s", "", unicodedata.normalize("NFKC", value or "")).upper()
    if _ID15.match(number):
        # 6 address digits + YYMMDD (always 19YY) + 3 sequence digits.
        number = number[:6] + "19" + number[6:]
        number += id_check_char(number)
        legacy = True
    elif _ID18.match(number):
        legacy = False
    else:
        raise ValidationError(
            _(
                "An ID number has 18 characters: 17 digits and a last digit or X "
                "(old 15-digit numbers are also accepted)."
            )
        )
    if number[0] not in "12345678":
        raise ValidationError(_("This ID number does not start with a valid region code."))
    _check_birth_date(number[6:14], today or local_today())
    if not legacy and id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The last character of this ID number does not match; please check every digit.")
        )
    return number


def _check_birth_date(digits: str, today: date) -> date:
    # As the ID number writes it (the date may not exist, so no date formatting).
    shown = _("%(year)s-%(month)s-%(day)s", year=digits[:4], month=digits[4:6], day=digits[6:])
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in this ID number (%(date)s) does not exist.", date=shown)
        ) from None
    if born > today:
        raise ValidationError(
            _("The date of birth in this ID number (%(date)s) is in the future.", date=shown)
        )
    if born < _EARLIEST_BIRTH:
        raise ValidationError(
            _("The date of birth in this ID number (%(date)s) is before 1900.", date=shown)
        )
    return born


def birth_date_from_id(id_number: str) -> date:
    """Date of birth encoded in a valid ID number (15 or 18 characters)."""
    number = validate_id_number(id_number)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_from_id(id_number: str) -> str:
    """Return "M" or "F": the 17th digit is odd for men and even for women."""
    number = validate_id_number(id_number)
    return "M" if int(number[16]) % 2 else "F"


def validate_phone(value: str | None) -> str:
    """Return a mobile as 11 digits or a landline as "0573-85012345"; else ``ValidationError``.

    Accepts +86 / 0086 / 86 prefixes, spaces, hyphens, brackets and full-width digits.
    """
    raw = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    international = False
    if raw.startswith("+86"):
        raw, international = raw[3:], True
    elif raw.startswith("0086"):
        raw, international = raw[4:], True
    elif raw.startswith("86") and len(raw) == 13 and _MOBILE.match(raw[2:]):
        raw = raw[2:]
    if _MOBILE.match(raw):
        return raw
    if international and re.match(r"[1-9]", raw):
        # International format drops the trunk 0 of the area code: +86 573 85012345.
        raw = "0" + raw
    if re.fullmatch(r"0(10|[2-9])[0-9]+", raw):
        # 010 and 02X are the only 3-digit area codes; every other one has 4 digits.
        split = 3 if raw.startswith(("010", "02")) else 4
        area, local = raw[:split], raw[split:]
        if _LOCAL.match(local):
            return f"{area}-{local}"
    raise ValidationError(
        _(
            "Enter a mobile number (11 digits starting with 1) or a landline with its area "
            "code, for example 0573-85012345."
        )
    )


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def validate_credit_code(value: str | None) -> str:
    """Unified social credit code of an organisation (GB 32100-2015): 18 characters, checked."""
    code = "".join((value or "").split()).upper()
    if len(code) != 18 or any(ch not in _CREDIT_CHARS for ch in code):
        raise ValidationError(
            _("An organisation's unified social credit code has 18 digits and capital letters.")
        )
    total = sum(
        _CREDIT_CHARS.index(ch) * w for ch, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True)
    )
    check = (31 - total % 31) % 31
    if _CREDIT_CHARS[check] != code[17]:
        raise ValidationError(
            _("The check character of this unified social credit code does not match.")
        )
    return code
