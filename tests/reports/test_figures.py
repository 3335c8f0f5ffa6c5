"""Dashboard figures equal a direct count over a small hand-made set of cases.

The cases are registered with the clock frozen in 2031, a year the demo county never reaches,
so the figures of that year hold these cases only. Times are UTC as a server sees them:
2031-01-31T16:30Z is 00:30 on 1 February in Beijing and belongs to February.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from mediation.cases import services
from mediation.cases.tables import Case
from mediation.reports import rollups
from mediation.reports import services as figures
from mediation.reports.periods import Period, statutory_period
from mediation.reports.tables import CaseRollup, CaseStat
from tests.cases.conftest import deposit_case, grid_id, user

# Module-scoped fixtures write rows the tests share: one fresh database for the module.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

DONGHU = "330482001001-01"  # 当湖街道 东湖社区
XINDAI = "330482101001-01"  # 新埭镇


def at(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=UTC), tick=False)


async def _register(grid_code: str, when: str, **overrides) -> int:
    worker = await user("admin")
    with at(when):
        return await services.register_case(
            deposit_case(await grid_id(grid_code), **overrides), worker
        )


async def _move(case_id: int, action: str, when: str, **facts) -> None:
    admin = await user("admin")
    if action in ("start_mediation", "remediate"):
        facts.setdefault("mediator_count", 1)
        facts.setdefault("any_party_refuses", False)
    with at(when):
        await services.transition_case(admin, case_id, action, facts)


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
async def hand_made(database):
    """Seven cases in January–March 2031 (Beijing dates), in two towns."""
    ids = {}
    # Registered 23:30 on 31 January in Beijing: January.
    ids["jan_late"] = await _register(DONGHU, "2031-01-31T15:30:00", amount=Decimal("1200.50"))
    # Registered 00:30 on 1 February in Beijing (still 31 January in UTC): February.
    ids["feb_early"] = await _register(
        DONGHU, "2031-01-31T16:30:00", category="neighbour", colour="red"
    )
    ids["settled"] = await _register(DONGHU, "2031-02-03T02:00:00", amount=Decimal("3000"))
    await _move(ids["settled"], "accept", "2031-02-03T03:00:00")
    await _move(ids["settled"], "start_mediation", "2031-02-04T03:00:00")
    # Settled at 07:10 on 1 March in Beijing (28 February in UTC): a March conclusion.
    await _move(ids["settled"], "settle", "2031-02-28T23:10:00", agreement_form="written")
    ids["terminated"] = await _register(XINDAI, "2031-02-10T02:00:00", source="phone")
    await _move(ids["terminated"], "accept", "2031-02-10T03:00:00")
    await _move(ids["terminated"], "start_mediation", "2031-02-11T03:00:00")
    await _move(
        ids["terminated"],
        "terminate",
        "2031-02-20T03:00:00",
        termination_reason="positions_too_far",
        referral_advice="litigation",
    )
    ids["oral"] = await _register(XINDAI, "2031-02-12T02:00:00", category="neighbour")
    await _move(ids["oral"], "accept", "2031-02-12T03:00:00")
    await _move(ids["oral"], "start_mediation", "2031-02-12T04:00:00")
    await _move(ids["oral"], "settle", "2031-02-14T04:00:00", agreement_form="oral")
    # Escalated from the grid up to the county, step by step: still 当湖街道's case.
    ids["escalated"] = await _register(DONGHU, "2031-02-15T02:00:00", colour="yellow")
    for hour in (3, 4, 5):
        await _move(ids["escalated"], "escalate", f"2031-02-15T0{hour}:00:00")
    ids["declined"] = await _register(DONGHU, "2031-02-16T02:00:00")
    await _move(ids["declined"], "decline", "2031-02-16T03:00:00", decline_reason="before_court")
    admin = await user("admin")
    with at("2031-02-17T02:00:00"):
        await services.change_colour(admin, ids["declined"], "red", "当事人情绪激动")
    return ids


def _direct(cases: list[dict], period: Period, measure: str, path: str = "") -> list[dict]:
    """The cases that make up a figure, counted straight from their columns."""
    column, condition = {
        "received": ("registered_on", lambda c: True),
        "accepted": ("accepted_on", lambda c: True),
        "mediating": ("mediation_started_on", lambda c: True),
        "settled": ("concluded_on", lambda c: c["outcome"] == "settled"),
        "terminated": ("concluded_on", lambda c: c["outcome"] == "terminated"),
        "declined": ("closed_on", lambda c: c["status"] == "declined"),
        "closed": ("closed_on", lambda c: c["status"] == "closed"),
    }[measure]
    return [
        c
        for c in cases
        if c[column] is not None
        and period.start <= c[column] <= period.end
        and condition(c)
        and c["region_path"].startswith(path)
    ]


async def _cases_of_2031() -> list[dict]:
    return await Case.select(*rollups.STAT_COLUMNS).where(Case.registered_on >= date(2031, 1, 1))


@pytest.mark.parametrize("month", [1, 2, 3])
async def test_each_monthly_figure_equals_a_direct_count(hand_made, month):
    period = statutory_period("month", 2031, month)
    cases = await _cases_of_2031()
    result = await figures.case_figures(figures.Scope("", "", "", ""), period)
    for measure in figures.FLOW_MEASURES:
        assert result.totals[measure]["n"] == len(_direct(cases, period, measure)), measure
    settled = _direct(cases, period, "settled")
    concluded = settled + _direct(cases, period, "terminated")
    assert result.totals["settled"]["amount"] == sum(
        (Decimal(c["amount"] or 0) for c in settled), Decimal(0)
    )
    if concluded:
        assert result.success_rate == len(settled) / len(concluded)
    else:
        assert result.success_rate is None
    for category in {c["category"] for c in cases}:
        received = [c for c in _direct(cases, period, "received") if c["category"] == category]
        assert result.by["category"].get(category, {}).get("received", 0) == len(received)


async def test_a_case_registered_after_midnight_beijing_counts_in_the_new_month(hand_made):
    rows = (
        await Case.select(Case.registered_on)
        .where(Case.id.is_in([hand_made["jan_late"], hand_made["feb_early"]]))
        .order_by(Case.id)
    )
    assert [r["registered_on"] for r in rows] == [date(2031, 1, 31), date(2031, 2, 1)]
    jan = await figures.case_figures(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 1)
    )
    assert jan.totals["received"]["n"] == 1
    assert jan.totals["received"]["amount"] == Decimal("1200.50")


async def test_a_settlement_at_seven_in_the_morning_beijing_is_a_march_conclusion(hand_made):
    march = await figures.case_figures(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 3)
    )
    assert march.totals["settled"]["n"] == 1
    assert march.forms == {"written": 1}
    assert march.totals["settled"]["amount"] == Decimal("3000")
    # Registered 3 February, settled 1 March (Beijing): 26 days.
    assert march.median_days == 26


async def test_february_success_rate_median_and_agreement_forms(hand_made):
    feb = await figures.case_figures(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 2)
    )
    assert feb.totals["settled"]["n"] == 1 and feb.totals["terminated"]["n"] == 1
    assert feb.success_rate == 0.5
    assert feb.forms == {"oral": 1}
    assert feb.median_days == (2 + 10) / 2


async def test_escalated_case_stays_in_its_town_at_county_level(hand_made):
    feb = statutory_period("month", 2031, 2)
    admin, centre = await user("admin"), await user("centre1")
    town = await figures.scope_for(centre)
    county = await figures.scope_for(admin)
    in_town = await figures.case_figures(town, feb)
    in_county = await figures.case_figures(county, feb)
    assert in_town.by["level"]["county"]["received"] == 1
    assert in_county.by["level"]["county"]["received"] == 1
    other_town = await figures.scope_for(admin, "330482101")
    assert "county" not in (await figures.case_figures(other_town, feb)).by["level"]


async def test_a_town_sees_only_its_town(hand_made):
    feb = statutory_period("month", 2031, 2)
    cases = await _cases_of_2031()
    centre = await user("centre1")
    town = await figures.scope_for(centre)
    assert town.code == "330482001"
    result = await figures.case_figures(town, feb)
    for measure in figures.FLOW_MEASURES:
        direct = _direct(cases, feb, measure, town.path)
        assert result.totals[measure]["n"] == len(direct), measure
    assert set(result.regions) <= {"330482001001", "330482001002", "330482001003"}
    # A region outside the user's subtree cannot be chosen: the user's own scope is kept.
    assert (await figures.scope_for(centre, "330482101")).code == "330482001"


async def test_colour_change_moves_the_case_between_colours(hand_made):
    feb = statutory_period("month", 2031, 2)
    result = await figures.case_figures(figures.Scope("", "", "", ""), feb)
    cases = await _cases_of_2031()
    for colour in ("red", "yellow", "green"):
        direct = [c for c in _direct(cases, feb, "received") if c["colour"] == colour]
        assert result.by["colour"].get(colour, {}).get("received", 0) == len(direct)


async def test_running_sums_equal_a_rebuild_from_the_cases(hand_made):
    """The rows kept in step with every change are exactly what a recount produces."""

    async def snapshot():
        rows = await CaseStat.select().where(CaseStat.day >= date(2031, 1, 1))
        return {
            r["key"]: (r["n"], r["persons"], Decimal(str(r["amount"])))
            for r in rows
            if r["n"] or r["persons"] or r["amount"]
        }

    async def monthly():
        rows = await CaseRollup.select().where(CaseRollup.month >= date(2031, 1, 1))
        return {
            r["key"]: (r["n"], r["persons"], Decimal(str(r["amount"])))
            for r in rows
            if r["n"] or r["persons"] or r["amount"]
        }

    kept, kept_monthly = await snapshot(), await monthly()
    assert kept, "the hand-made cases left no figures"
    assert kept_monthly, "the hand-made cases left no monthly figures"
    await rollups.rebuild_rollups()
    assert await snapshot() == kept
    assert await monthly() == kept_monthly
    # The monthly sums rebuilt from the daily ones are the same again.
    await rollups.rebuild_monthly()
    assert await monthly() == kept_monthly


@pytest.mark.parametrize(
    "start,end",
    [
        (date(2031, 1, 20), date(2031, 3, 5)),  # edges on both sides of a whole month
        (date(2031, 2, 10), date(2031, 2, 20)),  # inside one month: days only
        (date(2031, 1, 31), date(2031, 3, 1)),  # one day either side of February
        (date(2031, 2, 1), date(2031, 3, 10)),  # a whole month, then days
    ],
)
async def test_a_custom_range_equals_a_direct_count(hand_made, start, end):
    """Whole months come from the monthly sums, the days at the edges from the daily ones."""
    period = Period("custom", start, end)
    cases = await _cases_of_2031()
    centre = await user("centre1")
    for scope in (figures.Scope("", "", "", ""), await figures.scope_for(centre)):
        result = await figures.case_figures(scope, period)
        for measure in figures.FLOW_MEASURES:
            direct = _direct(cases, period, measure, scope.path)
            assert result.totals[measure]["n"] == len(direct), (measure, scope.code)
        received = _direct(cases, period, "received", scope.path)
        for colour in ("red", "yellow", "green"):
            n = len([c for c in received if c["colour"] == colour])
            assert result.by["colour"].get(colour, {}).get("received", 0) == n
        concluded = _direct(cases, period, "settled", scope.path) + _direct(
            cases, period, "terminated", scope.path
        )
        days = sorted(max((c["concluded_on"] - c["registered_on"]).days, 0) for c in concluded)
        if days:
            middle = len(days) // 2
            median = days[middle] if len(days) % 2 else (days[middle - 1] + days[middle]) / 2
            assert result.median_days == median
        else:
            assert result.median_days is None


# ---------------------------------------------------------------- the statutory report


@pytest.mark.parametrize("kind,number", [("month", 2), ("month", 3), ("quarter", 1), ("year", 1)])
async def test_each_statutory_cell_equals_a_direct_count(hand_made, kind, number):
    from mediation.reports.statutory import build_report

    period = statutory_period(kind, 2031, number)
    cases = await _cases_of_2031()
    settled = _direct(cases, period, "settled")
    mediated = settled + _direct(cases, period, "terminated")
    report = await build_report(figures.Scope("", "", "", ""), period, "平湖市")
    for row in report.rows:
        mine = [c for c in mediated if c["category"] == row["code"]]
        won = [c for c in mine if c["outcome"] == "settled"]
        assert row["mediated"] == len(mine), row["code"]
        assert row["settled"] == len(won), row["code"]
        assert row["written"] == len([c for c in won if c["agreement_form"] == "written"])
        assert row["oral"] == len([c for c in won if c["agreement_form"] == "oral"])
        assert row["amount"] == sum((Decimal(c["amount"] or 0) for c in won), Decimal(0))
    assert report.total["mediated"] == len(mediated)
    assert report.total["settled"] == len(settled)


async def test_the_statutory_rows_are_the_standard_categories_in_order(hand_made):
    from mediation.cases.categories import STANDARD_CATEGORIES
    from mediation.reports.statutory import build_report

    report = await build_report(
        figures.Scope("", "", "", ""), statutory_period("year", 2031), "平湖市"
    )
    assert [r["code"] for r in report.rows] == [c for c, _zh, _en in STANDARD_CATEGORIES]


async def test_prevention_cells_count_cases_and_persons(hand_made):
    from mediation.reports.statutory import build_report

    admin = await user("admin")
    case = await Case.select(Case.version).where(Case.id == hand_made["oral"]).first()
    await services.record_conclusion_figures(
        admin,
        hand_made["oral"],
        {"prevented_petition_persons": "12", "found_by_screening": "1"},
        case["version"],
    )
    report = await build_report(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 2), "平湖市"
    )
    cells = {p["measure"]: (p["cases"], p["persons"]) for p in report.prevention}
    assert cells["prevent_petition"] == (1, 12)
    assert cells["screened"] == (1, None)
    assert cells["prevent_criminal"] == (0, 0)
    assert cells["prevent_suicide"] == (0, None)


async def test_the_spreadsheet_has_the_form_layout_and_neutralised_text(hand_made):
    import io

    from openpyxl import load_workbook

    from mediation.reports.statutory import build_report, report_xlsx

    report = await build_report(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 2), "平湖市"
    )
    body = report_xlsx(report, '=HYPERLINK("http://x")', date(2031, 3, 2))
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A1"].value == "人民调解工作统计表"
    assert sheet["A5"].value == "纠纷类型" and sheet["B5"].value == "调解纠纷（件）"
    rows = {sheet.cell(row=r, column=1).value: r for r in range(6, 6 + len(report.rows) + 1)}
    neighbour = rows["邻里"]
    # Neighbours in February 2031: the oral settlement (新埭镇) only.
    assert [sheet.cell(row=neighbour, column=c).value for c in range(2, 8)] == [1, 1, 0, 1, 0, 0]
    total = rows["合计"]
    assert sheet.cell(row=total, column=2).value == report.total["mediated"]
    preparer = [
        cell.value
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert preparer == ['填报人：=HYPERLINK("http://x")']
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


async def test_cases_from_before_the_rollups_get_their_outcome_and_figures(hand_made):
    """What ``migrate`` does once for a database that had cases before the figures existed."""
    case_id = hand_made["terminated"]
    await Case.update({Case.outcome: ""}).where(Case.id == case_id)
    await CaseStat.delete(force=True)
    assert await rollups.ensure_rollups() is True
    row = await Case.select(Case.outcome, Case.concluded_on).where(Case.id == case_id).first()
    assert row == {"outcome": "terminated", "concluded_on": date(2031, 2, 20)}
    feb = await figures.case_figures(
        figures.Scope("", "", "", ""), statutory_period("month", 2031, 2)
    )
    assert feb.totals["terminated"]["n"] == 1
    assert await rollups.ensure_rollups() is False  # once only


async def test_a_first_fill_cut_short_leaves_nothing_half_done(hand_made, monkeypatch):
    """Filling the monthly sums is all or nothing: a server stopped half-way leaves the table
    empty (not half full), so the next start fills it again."""
    rows_before = await CaseRollup.count()
    assert rows_before > 0
    await CaseRollup.delete(force=True)  # as on a database whose daily sums predate them
    write = rollups._write_monthly

    async def write_then_die(coarse):
        await write(coarse)
        raise RuntimeError("killed half-way")

    monkeypatch.setattr(rollups, "_write_monthly", write_then_die)
    with pytest.raises(RuntimeError):
        await rollups.ensure_rollups()
    assert await CaseRollup.count() == 0
    monkeypatch.setattr(rollups, "_write_monthly", write)
    assert await rollups.ensure_rollups() is True
    assert await CaseRollup.count() == rows_before
