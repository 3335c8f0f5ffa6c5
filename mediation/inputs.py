"""Parsing of untrusted input shared by every form and API: ids, pages, amounts, lengths, search.

Each parser either returns a value the database can store or refuses with a message fit to
show beside the field: a value is never silently cut, rounded or reinterpreted.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar.params import Parameter
from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator

from mediation.i18n import gettext as _
from mediation.validators import ValidationError

# Ids are PostgreSQL ``integer`` (serial) columns: a larger number names nothing.
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1
# Far beyond any list's last page, small enough that page × page size stays an int64 offset.
MAX_PAGE = 1_000_000
# Amounts are stored as numeric(14, 2): below a trillion yuan, in fen.
MAX_AMOUNT = Decimal("1e12")
# Dates typed by people: a year outside this range is a typo, and year 9999 + a duration
# overflows Python's datetime.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199

Page = Annotated[
    int, Parameter(ge=1, le=MAX_PAGE, description="Page number, from 1", required=False)
]
OptionalId = Annotated[
    int | None, Parameter(ge=1, le=DB_INT_MAX, description="A record's id", required=False)
]


def in_db_range(value: int) -> bool:
    return DB_INT_MIN <= value <= DB_INT_MAX


def db_id(value: Any) -> int | None:
    """A record id from a form or query value; None if it is not one (too large, not a number)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= DB_INT_MAX else None


def too_long(value: str, limit: int) -> str | None:
    """The message for a text over its limit, naming the limit; None if it fits."""
    if len(value) > limit:
        return _("This is too long (at most %(n)s characters).", n=limit)
    return None


_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")


def parse_amount(raw: str) -> Decimal:
    """An amount in yuan: ``1500``, ``1500.50``, ``1,500.50``. Commas only as thousands
    separators: ``1,5`` is refused, not read as 15 (nor as 1.5, the European decimal comma)."""
    text = raw.strip().replace("，", ",")
    if _GROUPED.match(text):
        text = text.replace(",", "")
    refused = ValidationError(_("Enter an amount in yuan, e.g. 1500 or 1500.50."))
    if not _PLAIN.match(text):
        raise refused
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise refused from exc
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise refused
    return amount


def parse_local_datetime(raw: str, zone: ZoneInfo) -> datetime:
    """A date and time typed in a ``datetime-local`` field, in the county's zone."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationError(_("Enter a date and time.")) from exc
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a year between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR)
        )
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def like_contains(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, its ``%``, ``_`` and ``\\`` taken literally.
    Use with ``ESCAPE '\\'`` (PostgreSQL's default escape; SQLite needs the clause)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _LikeEscaped(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '\\'"


class _ILikeEscaped(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '\\'"


def contains(column: Column, term: str) -> Where:
    """``column`` contains ``term`` as typed, ignoring ASCII case (SQLite's LIKE already does)."""
    postgres = column._meta.engine_type in ("postgres", "cockroach")
    operator = _ILikeEscaped if postgres else _LikeEscaped
    return Where(column=column, value=like_contains(term), operator=operator)
