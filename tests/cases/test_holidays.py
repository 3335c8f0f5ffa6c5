"""The holiday calendar is data: seeded from chinesecalendar, entered by the administrator, and
never silently assumed. A deadline in a year with no schedule says it is an estimate.

admin keeps the calendar; grid1 registers a case in 东湖社区第1网格 and reads its clocks.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
import time_machine
from piccolo.conf.apps import Finder

from mediation.cases import agreements, holidays, services, workdays
from mediation.cases.deadlines import add_days
from mediation.cases.tables import Case, HolidayDay, HolidayYear, Party
from mediation.grid.tables import AuditEvent
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

ESTIMATE = "2027年节假日安排尚未录入，按周一至周五估算"
# A 2027 schedule as the State Council might publish it (the test's own data).
SCHEDULE_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-20,workday,春节
"""


@pytest.fixture
async def no_2027():
    """The shared test database never keeps a 2027 schedule after a test."""

    async def drop() -> None:
        await HolidayDay.delete().where(HolidayDay.year == 2027)
        await HolidayYear.delete().where(HolidayYear.year == 2027)
        await AuditEvent.delete().where(
            AuditEvent.entity == "holiday_year", AuditEvent.entity_id == "2027"
        )
        await holidays.refresh_calendar(force=True)

    await drop()
    yield
    await drop()


async def _delete_case(case_id: int) -> None:
    """Remove a case made at a frozen future instant, so no later test meets future data."""
    referring = [
        (table, column)
        for table in Finder().get_table_classes()
        for column in table._meta.foreign_key_columns
        if column._foreign_key_meta.resolved_references is Case and table not in (Case, Party)
    ]
    from mediation.cases.tables import CaseCounter
    from mediation.reports import rollups

    # Its figures and its number go too: the statistics and the gap-free numbering of the
    # year must read as if the case had never been registered.
    await rollups.apply_change(await rollups.stat_row(case_id), None)
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    for table, column in referring:  # rows that may also refer to a party go first
        await table.delete().where(column == case_id)
    await Party.delete().where(Party.case == case_id)
    await Case.delete().where(Case.id == case_id)
    prefix, seq = number.rsplit("-", 1)
    await CaseCounter.update({CaseCounter.last_number: CaseCounter.last_number - 1}).where(
        CaseCounter.key == prefix, CaseCounter.last_number == int(seq)
    )


# ---------------------------------------------------------------- the seeded table


async def test_the_seeded_table_counts_2026_exactly_as_chinesecalendar():
    calendar = await holidays.load_calendar()
    assert calendar.covers(2026) and calendar.covers(2004) and not calendar.covers(2027)
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


async def test_working_day_counts_across_spring_festival_and_national_day_2026_are_unchanged():
    calendar = await holidays.load_calendar()
    # Spring Festival 2026: 15–23 Feb off, Sat 14 and Sat 28 Feb worked.
    assert add_days(date(2026, 2, 13), 1, "working", calendar) == date(2026, 2, 14)
    assert add_days(date(2026, 2, 14), 1, "working", calendar) == date(2026, 2, 24)
    assert add_days(date(2026, 2, 12), 5, "working", calendar) == date(2026, 2, 26)
    # National Day 2026: 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked.
    assert add_days(date(2026, 9, 30), 1, "working", calendar) == date(2026, 10, 8)
    assert add_days(date(2026, 9, 18), 1, "working", calendar) == date(2026, 9, 20)
    assert add_days(date(2026, 10, 9), 1, "working", calendar) == date(2026, 10, 10)


async def test_the_sweep_reads_the_calendar_once_not_per_case(monkeypatch):
    loads = []
    original = holidays.load_calendar

    async def counting():
        loads.append(1)
        return await original()

    monkeypatch.setattr(holidays, "load_calendar", counting)
    report = await services.sweep_deadlines()
    assert report.checked > 10
    assert len(loads) == 1


# ---------------------------------------------------------------- Art. 85


@pytest.mark.pure
def test_a_confirmation_window_ending_in_spring_festival_ends_on_the_first_working_day_after():
    # Effective 16 Jan 2026: day 30 is 15 Feb, inside the festival (15–23 Feb).
    assert agreements.confirmation_until(date(2026, 1, 16)) == date(2026, 2, 24)
    # A window ending on a working day stays where it is.
    assert agreements.confirmation_until(date(2026, 3, 2)) == date(2026, 4, 1)


@pytest.mark.pure
def test_a_performance_deadline_on_a_holiday_moves_to_the_next_working_day():
    assert agreements.performance_due(date(2026, 10, 3)) == date(2026, 10, 8)
    assert agreements.performance_due(date(2026, 10, 10)) == date(2026, 10, 10)  # worked Sat


# ---------------------------------------------------------------- a schedule as typed


@pytest.mark.pure
def test_a_schedule_with_bad_rows_is_refused_whole_with_every_line_named():
    text = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-01-05,workday,元旦\n"  # a Tuesday cannot be a make-up working day
        "2026-12-31,holiday,元旦\n"  # another year
        "2027-02-30,holiday,春节\n"  # no such day
        "2027-01-01,休,元旦\n"  # twice
        "2027-02-20,加班,春节\n"  # unknown kind
    )
    with pytest.raises(workdays.ScheduleError) as refused:
        workdays.parse_schedule(2027, text)
    assert [line for line, _message in refused.value.problems] == [3, 4, 5, 6, 7]


@pytest.mark.pure
def test_a_schedule_reads_chinese_kinds_and_dates():
    rows = workdays.parse_schedule(2027, "2027年1月1日,休,元旦\n2027/2/20,班,春节\n")
    assert rows == [
        (date(2027, 1, 1), workdays.HOLIDAY, "元旦"),
        (date(2027, 2, 20), workdays.WORKDAY, "春节"),
    ]


# ---------------------------------------------------------------- the estimate, then the data


@pytest.fixture
async def made_cases():
    """Cases a test registers at a future instant; deleted afterwards."""
    made: list[int] = []
    yield made
    for case_id in made:
        await _delete_case(case_id)


async def test_a_deadline_across_new_year_2027_is_an_estimate_until_the_schedule_is_entered(
    client, no_2027, made_cases, caplog, monkeypatch
):
    monkeypatch.setattr(workdays, "_estimated", set())
    # 10:00 Beijing on Wednesday 30 December 2026.
    with time_machine.travel(datetime(2026, 12, 30, 2, 0, tzinfo=UTC), tick=False):
        case_id = await services.register_case(
            deposit_case(await grid_id()), await user("grid1"), f"holiday-{id(client)}"
        )
        made_cases.append(case_id)
        await login(client, "grid1")
        with caplog.at_level(logging.WARNING, logger="mediation.cases.workdays"):
            page = text_of((await client.get(f"/cases/{case_id}")).text)
        # Two working days after Wed 30 Dec, counting Mon–Fri: Thu 31 Dec, Fri 1 Jan.
        assert "受理期限：期限2027年1月1日" in page.replace(" ", "")
        assert ESTIMATE in page
        assert any("no holiday schedule for 2027" in r.getMessage() for r in caplog.records)
        api = (await client.get(f"/api/cases/{case_id}")).json()
        accept = next(c for c in api["clocks"] if c["name"] == "accept")
        assert accept["due"] == "2027-01-01" and accept["estimated_years"] == [2027]

        client.cookies.clear()
        await login(client, "admin")
        home = text_of((await client.get("/admin/")).text)
        assert "2027年节假日安排尚未录入" in home

        # A bad schedule keeps what was typed and names the line.
        bad = SCHEDULE_2027.replace("2027-02-20,workday", "2027-02-22,workday")
        response = await post_form(
            client,
            "/admin/holidays",
            {"year": "2027", "source": "国办发明电〔2026〕7号", "schedule": bad},
            files={"file": ("", b"", "text/csv")},
        )
        assert response.status_code == 422
        assert "2027年2月22日是工作日：调休上班日应是周末。" in text_of(response.text)
        assert "国办发明电〔2026〕7号" in response.text and "2027-02-22,workday" in response.text
        assert not await HolidayYear.exists().where(HolidayYear.year == 2027)

        response = await post_form(
            client,
            "/admin/holidays",
            {"year": "2027", "source": "国办发明电〔2026〕7号", "schedule": SCHEDULE_2027},
            files={"file": ("", b"", "text/csv")},
        )
        assert response.status_code == 303, text_of(response.text)[:400]
        listing = text_of((await client.get("/admin/holidays")).text)
        assert "国办发明电〔2026〕7号" in listing
        home = text_of((await client.get("/admin/")).text)
        assert "2027年节假日安排尚未录入" not in home

        client.cookies.clear()
        await login(client, "grid1")
        page = text_of((await client.get(f"/cases/{case_id}")).text)
        # 1–3 Jan are holidays now: the second working day is Monday 4 January.
        assert "受理期限：期限2027年1月4日" in page.replace(" ", "")
        assert ESTIMATE not in page


async def test_a_schedule_imported_as_a_gb18030_file_is_stored(client, no_2027):
    await login(client, "admin")
    response = await post_form(
        client,
        "/admin/holidays",
        {"year": "2027", "source": "国务院办公厅关于2027年部分节假日安排的通知", "schedule": ""},
        files={"file": ("2027.csv", SCHEDULE_2027.encode("gb18030"), "text/csv")},
    )
    assert response.status_code == 303, text_of(response.text)[:400]
    calendar = await holidays.refresh_calendar()
    assert calendar.covers(2027)
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 20))  # a worked Saturday
    names = {r["day"]: r["name"] for r in await HolidayDay.select().where(HolidayDay.year == 2027)}
    assert names[date(2027, 2, 8)] == "春节"


async def test_only_an_administrator_keeps_the_calendar(client):
    await login(client, "centre1")
    assert (await client.get("/admin/holidays")).status_code == 403


async def test_from_november_the_admin_home_warns_that_next_year_is_missing(no_2027, monkeypatch):
    monkeypatch.setattr(workdays, "_estimated", set())
    calendar = await holidays.refresh_calendar()
    assert holidays.warnings(calendar, date(2026, 10, 31)) == []
    assert holidays.warnings(calendar, date(2026, 11, 1)) == [2027]
    assert holidays.warnings(calendar, date(2027, 3, 1)) == [2027]


# ---------------------------------------------------------------- clocks that stop in time


ENDINGS = {
    "settled": [("settle", {"agreement_form": "oral"}), ("start_performance", {})],
    "terminated": [
        ("terminate", {"termination_reason": "positions_too_far", "referral_advice": "litigation"})
    ],
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_the_mediation_clock_of_a_case_ended_in_time_and_closed_late_is_on_time(
    client, ending
):
    grid1 = await user("grid1")
    centre1 = await user("centre1")
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 Beijing, Monday 2 March
    with time_machine.travel(start, tick=False):
        case_id = await services.register_case(
            deposit_case(await grid_id()), grid1, f"clock-{ending}-{id(client)}"
        )
        await services.transition_case(grid1, case_id, "accept", {})
        choice = (await services.suggest_mediators(centre1, case_id))[0]
        await services.assign_mediator(centre1, case_id, choice.mediator.id)
        await services.transition_case(grid1, case_id, "start_mediation", {})
    with time_machine.travel(start + timedelta(days=12), tick=False):
        for action, facts in ENDINGS[ending]:
            await services.transition_case(grid1, case_id, action, facts)
    with time_machine.travel(start + timedelta(days=74), tick=False):
        if ending == "settled":
            await services.transition_case(grid1, case_id, "record_performed", {})
    with time_machine.travel(start + timedelta(days=75), tick=False):
        await services.transition_case(grid1, case_id, "close", {"follow_up_recorded": True})
        case = await services.case_detail(grid1, case_id)
        assert case is not None
        assert case.concluded_on == date(2026, 3, 14)
        assert case.closed_on == date(2026, 5, 16)
        clocks = {c.clock.name: c.state for c in case.clocks}
        assert clocks["mediation"].done and not clocks["mediation"].is_overdue
        await login(client, "grid1")
        page = text_of((await client.get(f"/cases/{case_id}")).text)
        mediation_line = page[page.index("调解期限") :][:80]
        assert "按时完成" in mediation_line, mediation_line
