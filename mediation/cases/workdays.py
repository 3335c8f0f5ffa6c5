"""Official holidays and make-up working days (调休) as data: the calendar working days follow.

The State Council publishes each year's schedule around November. A year the calendar holds is
counted exactly; a year it does not hold is counted Monday to Friday, and every answer that
depended on such a year says so (``missing_years``), so nothing is silently assumed.

The calendar used when none is passed is the process's current one: the stored table, loaded
and refreshed by ``mediation.cases.holidays``; before that, the schedule the ``chinese_calendar``
library ships (the table is seeded from it).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from mediation.i18n import format_date
from mediation.i18n import gettext as _

log = logging.getLogger(__name__)

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)
# What people type in a spreadsheet for each kind.
_KIND_WORDS = {
    "holiday": HOLIDAY,
    "休": HOLIDAY,
    "放假": HOLIDAY,
    "假": HOLIDAY,
    "休息": HOLIDAY,
    "workday": WORKDAY,
    "班": WORKDAY,
    "上班": WORKDAY,
    "调休上班": WORKDAY,
    "补班": WORKDAY,
}
# chinese_calendar's holiday names, in the words of the State Council's notices.
LIBRARY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
LIBRARY_SOURCE = "chinesecalendar（国务院办公厅历年部分节假日安排的通知）"
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class HolidayCalendar:
    """Holidays and make-up working days of the years it covers."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    names: Mapping[date, str] = field(default_factory=dict, compare=False)
    # Working-day sums already worked out, (start, n) -> day: a sweep over many cases asks the
    # same few thousand questions again and again.
    _sums: dict[tuple[date, int], date] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def covers(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        """A working day; in a year the calendar does not hold, Monday to Friday."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The day ``n`` working days after ``start`` (before it for a negative ``n``); the
        start day is never counted."""
        known = self._sums.get((start, n))
        if known is not None:
            return known
        step = timedelta(days=1 if n >= 0 else -1)
        day, left = start, abs(n)
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        if len(self._sums) < 200_000:
            self._sums[(start, n)] = day
        return day

    def missing_years(self, first: date, last: date) -> tuple[int, ...]:
        """Years between two days (either order) whose schedule the calendar lacks."""
        low, high = sorted((first.year, last.year))
        return tuple(y for y in range(low, high + 1) if y not in self.years)

    @classmethod
    def from_days(
        cls, years: Iterable[int], days: Iterable[tuple[date, str, str]]
    ) -> HolidayCalendar:
        """From (day, kind, name) rows; only days of the covered years count."""
        years = frozenset(years)
        holidays: set[date] = set()
        workdays: set[date] = set()
        names: dict[date, str] = {}
        for day, kind, name in days:
            if day.year not in years:
                continue
            (holidays if kind == HOLIDAY else workdays).add(day)
            names[day] = name
        return cls(years, frozenset(holidays), frozenset(workdays), names)


@cache
def library_calendar() -> HolidayCalendar:
    """The schedule the installed chinese_calendar ships (2004–2026 in version 1.11)."""
    years, days = library_schedule()
    return HolidayCalendar.from_days(years, days)


def library_schedule() -> tuple[list[int], list[tuple[date, str, str]]]:
    """(years, (day, kind, name) rows) from chinese_calendar, for seeding the table."""
    from chinese_calendar import constants

    years = sorted({d.year for d in constants.holidays} | {d.year for d in constants.workdays})
    days = [(d, HOLIDAY, LIBRARY_NAMES.get(str(h), str(h))) for d, h in constants.holidays.items()]
    days += [(d, WORKDAY, LIBRARY_NAMES.get(str(h), str(h))) for d, h in constants.workdays.items()]
    return years, sorted(days)


_current: HolidayCalendar | None = None
_estimated: set[int] = set()


def current() -> HolidayCalendar:
    """The process's calendar: the stored table once loaded, else the library's schedule."""
    return _current if _current is not None else library_calendar()


def set_current(calendar: HolidayCalendar) -> None:
    global _current
    _current = calendar
    _estimated.intersection_update(y for y in _estimated if not calendar.covers(y))


def note_estimate(years: Iterable[int]) -> None:
    """A deadline was counted Monday to Friday for these years: log it once per process."""
    for year in years:
        if year not in _estimated:
            _estimated.add(year)
            log.warning(
                "no holiday schedule for %s: deadlines in that year are estimated Monday to "
                "Friday until an administrator enters it at /admin/holidays",
                year,
            )


def estimated_years() -> tuple[int, ...]:
    """Years this process has had to estimate (shown on the administrator's home page)."""
    return tuple(sorted(_estimated))


# --- a year's schedule as published --------------------------------------------------------


class ScheduleError(ValueError):
    """A schedule that cannot be stored; ``problems`` are (line, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"{line}: {message}" for line, message in problems))
        self.problems = problems


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_day(text: str) -> date | None:
    """2027-01-01, 2027/1/1, 2027.1.1 or 2027年1月1日; None if it is none of these."""
    match = _DATE.match(text or "")
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse_schedule(year: int, text: str) -> list[tuple[date, str, str]]:
    """Rows ``date,kind,name`` (a header row is allowed) for one year, checked as a whole.

    kind: ``holiday`` (休/放假) or ``workday`` (班/上班: a make-up working day on a weekend).
    A bad row is reported with its line; nothing is returned unless every row is good.
    """
    problems: list[tuple[int, str]] = []
    rows: list[tuple[date, str, str]] = []
    seen: dict[date, int] = {}
    for number, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if number == 1 and parse_day(cells[0]) is None and cells[0].lower() in ("date", "日期"):
            continue
        if len(cells) < 2:
            problems.append((number, _("Give a date and whether it is a holiday or a workday.")))
            continue
        day = parse_day(cells[0])
        kind = _KIND_WORDS.get(cells[1].lower())
        name = cells[2] if len(cells) > 2 else ""
        if day is None:
            problems.append((number, _("%(value)s is not a date.", value=cells[0][:40])))
            continue
        if day.year != year:
            problems.append(
                (number, _("%(day)s is not in %(year)s.", day=format_date(day, "long"), year=year))
            )
            continue
        if kind is None:
            problems.append(
                (
                    number,
                    _(
                        "%(value)s: write holiday (休) or workday (班).",
                        value=cells[1][:20],
                    ),
                )
            )
            continue
        if kind == WORKDAY and day.weekday() < 5:
            problems.append(
                (
                    number,
                    _(
                        "%(day)s is a weekday: a make-up working day is a weekend day.",
                        day=format_date(day, "long"),
                    ),
                )
            )
            continue
        if len(name) > 60:
            problems.append((number, _("The name is too long (at most 60 characters).")))
            continue
        if day in seen:
            problems.append(
                (
                    number,
                    _(
                        "%(day)s is already on line %(line)s.",
                        day=format_date(day, "long"),
                        line=seen[day],
                    ),
                )
            )
            continue
        seen[day] = number
        rows.append((day, kind, name))
    if not rows and not problems:
        problems.append((0, _("The schedule is empty: list the year's holidays and workdays.")))
    if problems:
        raise ScheduleError(problems)
    return sorted(rows)


def schedule_csv(rows: Iterable[tuple[date, str, str]]) -> str:
    """The rows back as the CSV the import reads."""
    from mediation.exports import csv_text

    return csv_text(
        ["date", "kind", "name"], ((day.isoformat(), kind, name) for day, kind, name in rows)
    )


def rolled_to_working_day(day: date, calendar: HolidayCalendar | None = None) -> date:
    """Civil Procedure Law Art. 85: a period whose last day is a statutory holiday (a rest day)
    ends on the first working day after it."""
    calendar = calendar or current()
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day
