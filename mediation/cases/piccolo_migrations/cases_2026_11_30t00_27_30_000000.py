"""Seed the holiday calendar from chinesecalendar; record when existing cases concluded.

Every year the installed library covers becomes a stored schedule (source noted), so working
days are counted as before. A case already settled or terminated gets ``concluded_on``: the
county's date of its latest settle or terminate event, so its mediation clock is judged on the
day mediation ended rather than the day the case was closed.
"""

import os
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Date, Integer, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-11-30T00:27:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "Seed the holiday calendar; concluded_on of settled and terminated cases"

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
SOURCE = "chinesecalendar（国务院办公厅历年部分节假日安排的通知）"


class HolidayYear(Table, tablename="holiday_year"):
    year = Integer()
    source = Varchar(length=300)
    updated_at = Timestamptz()


class HolidayDay(Table, tablename="holiday_day"):
    day = Date()
    year = Integer()
    kind = Varchar(length=16)
    name = Varchar(length=60)


class Case(Table, tablename="case"):
    concluded_on = Date(null=True)


class CaseEvent(Table, tablename="case_event"):
    case = Integer()
    at = Timestamptz()
    action = Varchar(length=32)


async def _seed_holidays() -> None:
    from chinese_calendar import constants

    have = {r["year"] for r in await HolidayYear.select(HolidayYear.year)}
    rows = [(d, "holiday", h) for d, h in constants.holidays.items()]
    rows += [(d, "workday", h) for d, h in constants.workdays.items()]
    years = sorted({d.year for d, _kind, _h in rows} - have)
    if not years:
        return
    now = datetime.now(UTC)
    await HolidayYear.insert(
        *[HolidayYear(year=y, source=SOURCE, updated_at=now) for y in years]
    )
    days = [
        HolidayDay(day=d, year=d.year, kind=kind, name=NAMES.get(str(h), str(h)))
        for d, kind, h in sorted(rows, key=lambda r: r[0])
        if d.year in years
    ]
    for start in range(0, len(days), 200):
        await HolidayDay.insert(*days[start : start + 200])


async def _unseed_holidays() -> None:
    await HolidayDay.delete(force=True)
    await HolidayYear.delete(force=True)


async def _concluded_on() -> None:
    zone = ZoneInfo(os.environ.get("TIME_ZONE") or "Asia/Shanghai")
    events = await CaseEvent.select(CaseEvent.case, CaseEvent.at).where(
        CaseEvent.action.is_in(["settle", "terminate"])
    ).order_by(CaseEvent.id)
    latest: dict[int, datetime] = {}
    for event in events:
        latest[event["case"]] = event["at"]
    by_day: dict = defaultdict(list)
    for case_id, at in latest.items():
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        by_day[at.astimezone(zone).date()].append(case_id)
    for day, ids in by_day.items():
        for start in range(0, len(ids), 500):
            await Case.update({Case.concluded_on: day}).where(
                Case.id.is_in(ids[start : start + 500])
            )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_seed_holidays)
    manager.add_raw(_concluded_on)
    manager.add_raw_backwards(_unseed_holidays)
    return manager
