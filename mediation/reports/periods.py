"""Report periods in county dates: this month, last month, quarter, year, custom; the previous."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PERIODS = ("month", "last_month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(day: date) -> date:
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_for(kind: str, today: date, start: date | None = None, end: date | None = None):
    """The period ``kind`` around ``today`` (a county date); custom needs start ≤ end."""
    if kind == "last_month":
        first = _add_months(today.replace(day=1), -1)
        return Period(kind, first, _month_end(first))
    if kind == "quarter":
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, first, _month_end(_add_months(first, 2)))
    if kind == "year":
        return Period(kind, date(today.year, 1, 1), date(today.year, 12, 31))
    if kind == "custom" and start and end:
        return Period(kind, start, end)
    first = today.replace(day=1)
    return Period("month", first, _month_end(first))


def previous(period: Period) -> Period:
    """The period before: the previous month, quarter or year; for a custom range, the same
    number of days just before it."""
    if period.kind in ("month", "last_month"):
        first = _add_months(period.start, -1)
        return Period(period.kind, first, _month_end(first))
    if period.kind == "quarter":
        first = _add_months(period.start, -3)
        return Period(period.kind, first, _month_end(_add_months(first, 2)))
    if period.kind == "year":
        return Period(
            period.kind, date(period.start.year - 1, 1, 1), date(period.start.year - 1, 12, 31)
        )
    return Period(
        period.kind, period.start - timedelta(days=period.days), period.start - timedelta(days=1)
    )


def statutory_period(kind: str, year: int, number: int = 1) -> Period:
    """The statutory report's month (number 1–12), quarter (1–4) or year."""
    if kind == "month":
        first = date(year, number, 1)
        return Period("month", first, _month_end(first))
    if kind == "quarter":
        first = date(year, (number - 1) * 3 + 1, 1)
        return Period("quarter", first, _month_end(_add_months(first, 2)))
    return Period("year", date(year, 1, 1), date(year, 12, 31))
