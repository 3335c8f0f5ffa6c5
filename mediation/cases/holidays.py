"""The stored holiday calendar: loaded into the process, refreshed, edited by the administrator.

Working-day arithmetic runs thousands of times per sweep; it reads the calendar held in memory
(``workdays.current()``), never the table. This process reloads it at once after an edit made
here and otherwise at most every ``REFRESH_SECONDS``, so other app servers follow an edit
within that time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from mediation.accounts.services import CurrentUser
from mediation.cases import workdays
from mediation.cases.tables import HolidayDay, HolidayYear
from mediation.clock import local_today
from mediation.db import write_transaction
from mediation.i18n import gettext as _

REFRESH_SECONDS = 60.0
_loaded_at: float | None = None


async def load_calendar() -> workdays.HolidayCalendar:
    """Read the table and make it the process's calendar."""
    global _loaded_at
    years = [r["year"] for r in await HolidayYear.select(HolidayYear.year)]
    rows = await HolidayDay.select(HolidayDay.day, HolidayDay.kind, HolidayDay.name)
    calendar = workdays.HolidayCalendar.from_days(
        years, ((r["day"], r["kind"], r["name"]) for r in rows)
    )
    workdays.set_current(calendar)
    _loaded_at = time.monotonic()
    return calendar


async def refresh_calendar(force: bool = False) -> workdays.HolidayCalendar:
    """The process's calendar, reloaded if it is older than REFRESH_SECONDS (or ``force``)."""
    if force or _loaded_at is None or time.monotonic() - _loaded_at > REFRESH_SECONDS:
        return await load_calendar()
    return workdays.current()


@dataclass
class YearSummary:
    year: int
    source: str
    holidays: int
    workdays: int
    updated_at: object


async def years() -> list[YearSummary]:
    rows = await HolidayYear.select(
        HolidayYear.year, HolidayYear.source, HolidayYear.updated_at
    ).order_by(HolidayYear.year, ascending=False)
    counts: dict[tuple[int, str], int] = {}
    for r in await HolidayDay.select(HolidayDay.year, HolidayDay.kind):
        key = (r["year"], r["kind"])
        counts[key] = counts.get(key, 0) + 1
    return [
        YearSummary(
            r["year"],
            r["source"],
            counts.get((r["year"], workdays.HOLIDAY), 0),
            counts.get((r["year"], workdays.WORKDAY), 0),
            r["updated_at"],
        )
        for r in rows
    ]


async def year_days(year: int) -> list[tuple[date, str, str]]:
    rows = (
        await HolidayDay.select(HolidayDay.day, HolidayDay.kind, HolidayDay.name)
        .where(HolidayDay.year == year)
        .order_by(HolidayDay.day)
    )
    return [(r["day"], r["kind"], r["name"]) for r in rows]


async def year_source(year: int) -> str | None:
    row = await HolidayYear.select(HolidayYear.source).where(HolidayYear.year == year).first()
    return None if row is None else row["source"]


class HolidayError(ValueError):
    def __init__(self, message: str, field: str = "", problems=()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = list(problems)


def check_year(text: str) -> int:
    try:
        year = int(str(text).strip())
    except ValueError:
        year = 0
    if not workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR:
        raise HolidayError(
            _(
                "Enter a year between %(first)s and %(last)s.",
                first=workdays.FIRST_YEAR,
                last=workdays.LAST_YEAR,
            ),
            "year",
        )
    return year


async def save_year(user: CurrentUser, year_text: str, source: str, schedule: str) -> int:
    """Store (or replace) one year's schedule as published; every row is checked first."""
    year = check_year(year_text)
    source = source.strip()
    if not source:
        raise HolidayError(
            _("Name the notice the schedule comes from (e.g. 国办发明电〔2026〕X号)."), "source"
        )
    if len(source) > 300:
        raise HolidayError(_("At most %(n)s characters.", n=300), "source")
    try:
        rows = workdays.parse_schedule(year, schedule)
    except workdays.ScheduleError as exc:
        raise HolidayError(
            _("The schedule was not saved: correct the lines below."), "schedule", exc.problems
        ) from exc
    before = await year_days(year)
    old_source = await year_source(year)
    async with write_transaction():
        await HolidayDay.delete().where(HolidayDay.year == year)
        await HolidayYear.delete().where(HolidayYear.year == year)
        await HolidayYear(year=year, source=source, updated_by=user.id).save()
        await HolidayDay.insert(
            *[HolidayDay(day=day, year=year, kind=kind, name=name) for day, kind, name in rows]
        )
    from mediation.grid.services import record_audit

    await record_audit(
        user,
        "update" if old_source is not None else "create",
        "holiday_year",
        str(year),
        {"source": old_source, "days": len(before)} if old_source is not None else {},
        {"source": source, "days": len(rows)},
    )
    await refresh_calendar(force=True)
    return year


def warnings(calendar: workdays.HolidayCalendar, today: date | None = None) -> list[int]:
    """Years the administrator must enter now: this year, next year from 1 November, and any
    year a deadline has already had to be estimated in."""
    today = today or local_today()
    missing = set() if calendar.covers(today.year) else {today.year}
    if today.month >= 11 and not calendar.covers(today.year + 1):
        missing.add(today.year + 1)
    missing.update(y for y in workdays.estimated_years() if not calendar.covers(y))
    return sorted(missing)
