"""The kept mediator figures (``mediator_rollup``) equal a direct count after every step of a
realistic story: assign, object, replace, settle, terminate, mediate again and conclude again,
move a case to another town — across Beijing month boundaries, for the county, a town and a
community, whole months and custom ranges. The reference is the direct count the dashboard
made before the rollup (``_direct_mediator_figures``, the former ``mediator_figures``).

Everything happens in May–July 2036 (Beijing dates), a year nothing else reaches. Times are
UTC as the server sees them: 2036-05-31T15:30Z is 23:30 on 31 May in Beijing, 16:30Z is 00:30
on 1 June.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from piccolo.query.functions.aggregate import Count

from mediation import db
from mediation.cases import services
from mediation.cases.changes import update_case
from mediation.cases.queries import case_for
from mediation.cases.tables import Case, CaseMediator
from mediation.grid.tables import Grid, Mediator, Region, Staff
from mediation.reports import mediator_rollup, rollups
from mediation.reports import services as figures
from mediation.reports.periods import Period, statutory_period
from tests.cases.conftest import deposit_case, grid_id, user

pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

DONGHU = "330482001001-01"  # 当湖街道 东湖社区
XINDAI = "330482101001-01"  # 新埭镇
DANGHU_TOWN = "330482001"
XINDAI_TOWN = "330482101"

PERIODS = (
    statutory_period("month", 2036, 5),
    statutory_period("month", 2036, 6),
    statutory_period("month", 2036, 7),
    statutory_period("quarter", 2036, 2),
    statutory_period("year", 2036),
    Period("custom", date(2036, 5, 25), date(2036, 7, 5)),  # edges around whole June
    Period("custom", date(2036, 5, 31), date(2036, 6, 1)),  # days only, across the boundary
    Period("custom", date(2036, 4, 1), date(2036, 7, 31)),  # whole months only
)


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


def at(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=UTC), tick=False)


# ---------------------------------------------------------------- the former direct count


async def _direct_mediator_figures(
    scope: figures.Scope, period: Period
) -> list[figures.MediatorRow]:
    """``mediator_figures`` as it was before the rollup: counted from the rows."""
    from mediation.cases.services import OPEN_STATUSES

    start, end = figures._day_bounds(period)
    rows: dict[int, figures.MediatorRow] = {}

    def row(mediator: int) -> figures.MediatorRow:
        return rows.setdefault(mediator, figures.MediatorRow(mediator))

    whole = await figures._covers_every_case(scope)

    def scoped(query):
        if not whole:
            query = query.where(CaseMediator.case.region_path.like(scope.path + "%"))
        return query

    in_period = (CaseMediator.assigned_at >= start, CaseMediator.assigned_at < end)
    assigned = await scoped(
        CaseMediator.select(
            CaseMediator.mediator, Count(distinct=[CaseMediator.case], alias="n")
        ).where(*in_period)
    ).group_by(CaseMediator.mediator)
    for r in assigned:
        row(r["mediator"]).assigned = int(r["n"])
    objected = await scoped(
        CaseMediator.select(CaseMediator.mediator, Count(alias="n")).where(
            *in_period, CaseMediator.active.eq(False)
        )
    ).group_by(CaseMediator.mediator)
    for r in objected:
        row(r["mediator"]).objections = int(r["n"])
    if db.is_postgres():
        days = "c.concluded_on - c.registered_on"
    else:
        days = "CAST(julianday(c.concluded_on) - julianday(c.registered_on) AS INTEGER)"
    sql = (
        f"SELECT cm.mediator AS mediator, c.outcome AS outcome, {days} AS days, "
        'count(DISTINCT c.id) AS n FROM "case" c JOIN case_mediator cm ON cm."case" = c.id '
        "WHERE cm.active AND c.concluded_on >= {} AND c.concluded_on <= {} "
        "AND c.outcome IN ('settled', 'terminated')"
    )
    args: list[Any] = [period.start, period.end]
    if not whole:
        sql += " AND c.region_path LIKE {}"
        args.append(scope.path + "%")
    sql += f" GROUP BY cm.mediator, c.outcome, {days}"
    durations: dict[int, dict[int, int]] = defaultdict(dict)
    for r in await CaseMediator.raw(sql, *args):
        entry, n = row(r["mediator"]), int(r["n"])
        if r["outcome"] == "settled":
            entry.settled += n
        else:
            entry.terminated += n
        histogram = durations[r["mediator"]]
        spent = max(int(r["days"]), 0)
        histogram[spent] = histogram.get(spent, 0) + n
    for mediator, histogram in durations.items():
        row(mediator).median_days = figures._median(histogram)
    if whole:
        from mediation.cases.mediators import _mediator_loads

        for mediator, n in (await _mediator_loads()).items():
            row(mediator).load = n
    else:
        loads = await scoped(
            CaseMediator.select(CaseMediator.mediator, Count(CaseMediator.case, alias="n"))
            .where(
                CaseMediator.active.eq(True),
                CaseMediator.case.status.is_in(list(OPEN_STATUSES)),
            )
            .group_by(CaseMediator.mediator)
        )
        for r in loads:
            row(r["mediator"]).load = int(r["n"])
    if rows:
        for r in await Mediator.select(Mediator.id, Mediator.staff.display_name).where(
            Mediator.id.is_in(list(rows))
        ):
            rows[r["id"]].name = r["staff.display_name"] or ""
    return sorted(rows.values(), key=lambda m: (-m.assigned, -m.load, m.name))


# ---------------------------------------------------------------- helpers


async def _scopes() -> list[figures.Scope]:
    county = await Region.select(Region.path, Region.code).where(Region.level == "county").first()
    out = [
        figures.Scope("", "", "", ""),
        figures.Scope(county["path"], county["code"], "", "county"),
    ]
    for code in (DANGHU_TOWN, XINDAI_TOWN, DONGHU.split("-")[0]):
        row = await Region.select(Region.path, Region.level).where(Region.code == code).first()
        out.append(figures.Scope(row["path"], code, "", row["level"]))
    return out


async def _kept_rows(mediators: list[int]) -> set[tuple]:
    """The kept rows of these mediators (on PostgreSQL other modules' rows share the
    database: they are not compared)."""
    rows = await CaseMediator.raw(
        "SELECT region_path, month, mediator, measure, days, n FROM mediator_rollup "
        "WHERE n <> 0 AND mediator IN (" + ", ".join("{}" for _ in mediators) + ")",
        *mediators,
    )
    return {
        (r["region_path"], str(r["month"]), r["mediator"], r["measure"], r["days"], r["n"])
        for r in rows
    }


async def _assert_exact(step: str, mediators: list[int]) -> None:
    """The kept sums equal a rebuild from the rows, and every scope and period's figures
    equal the direct count."""
    kept = await _kept_rows(mediators)
    assert kept or step == "nothing yet", step
    async with db.write_transaction():
        await mediator_rollup.rebuild()
    assert await _kept_rows(mediators) == kept, step
    for scope in await _scopes():
        for period in PERIODS:
            got = {r.id: r for r in await figures.mediator_figures(scope, period)}
            direct = {r.id: r for r in await _direct_mediator_figures(scope, period)}
            assert got == direct, (step, scope.path, period)


async def _mediator(name: str) -> int:
    county = await Region.select(Region.id).where(Region.level == "county").first()
    staff = Staff(
        username=f"mr-{uuid.uuid4().hex[:10]}",
        display_name=name,
        password_hash="-",
        roles=["mediator"],
        region=county["id"],
    )
    await staff.save()
    profile = Mediator(staff=staff.id, skills=[], dialects=[], max_cases=20)
    await profile.save()
    return profile.id


async def _register(grid_code: str, when: str) -> int:
    admin = await user("admin")
    with at(when):
        return await services.register_case(
            deposit_case(await grid_id(grid_code), location=""), admin
        )


async def _move(case_id: int, action: str, when: str, **facts) -> None:
    admin = await user("admin")
    with at(when):
        await services.transition_case(admin, case_id, action, facts)


async def _assign(case_id: int, mediator: int, when: str) -> int:
    with at(when):
        await services.assign_mediator(await user("admin"), case_id, mediator)
    row = (
        await CaseMediator.select(CaseMediator.id)
        .where(
            CaseMediator.case == case_id,
            CaseMediator.mediator == mediator,
            CaseMediator.active.eq(True),
        )
        .first()
    )
    return row["id"]


async def _object(case_id: int, assignment: int, when: str) -> None:
    with at(when):
        await services.end_assignment_on_objection(case_id, assignment, "与申请人系亲属", None)


def _of(rows: list[figures.MediatorRow], mediator: int) -> tuple:
    row = next((r for r in rows if r.id == mediator), figures.MediatorRow(mediator))
    return (row.assigned, row.objections, row.settled, row.terminated, row.median_days)


TERMINATE = {"termination_reason": "positions_too_far", "referral_advice": "litigation"}


# ---------------------------------------------------------------- tests


def test_an_assignment_at_2330_in_beijing_on_the_last_day_counts_in_that_month():
    case = {
        "id": 1,
        "region_path": "/330482/330482001/330482001001/",
        "registered_on": date(2036, 5, 20),
        "concluded_on": date(2036, 6, 10),
        "outcome": "settled",
    }
    late = datetime(2036, 5, 31, 15, 30, tzinfo=UTC)  # 23:30 on 31 May in Beijing
    after_midnight = datetime(2036, 5, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 June
    got = mediator_rollup.contributions(case, [(7, late, False), (8, after_midnight, True)])
    path = case["region_path"]
    assert got == {
        (date(2036, 5, 1), path, 7, "assigned", -1): 1,
        (date(2036, 5, 1), path, 7, "objected", -1): 1,
        (date(2036, 6, 1), path, 8, "assigned", -1): 1,
        (date(2036, 6, 1), path, 8, "settled", 21): 1,
    }
    rows = mediator_rollup.expand(got)
    # Each at every region containing the community: all, county, town, community.
    assert {r[0] for r in rows} == {
        "",
        "/330482/",
        "/330482/330482001/",
        "/330482/330482001/330482001001/",
    }
    assert len(rows) == 4 * len(got)


async def test_the_kept_mediator_figures_follow_every_change(database):
    admin = await user("admin")
    # The demo county's build fills the rollup (its history has assignments).
    assert (await CaseMediator.raw("SELECT count(*) AS n FROM mediator_rollup"))[0]["n"] > 0
    mine = [await _mediator(n) for n in ("月末调解员甲", "月末调解员乙", "月末调解员丙")]
    m1, m2, m3 = mine
    await _assert_exact("nothing yet", mine)
    may, june, july = PERIODS[0], PERIODS[1], PERIODS[2]
    county = figures.Scope("", "", "", "")

    # A (东湖): m1 assigned at 23:30 on 31 May in Beijing.
    a = await _register(DONGHU, "2036-05-20T02:00:00")
    await _move(a, "accept", "2036-05-20T03:00:00")
    first = await _assign(a, m1, "2036-05-31T15:30:00")
    await _assert_exact("assigned on the last evening of May", mine)
    assert _of(await figures.mediator_figures(county, may), m1) == (1, 0, 0, 0, None)
    assert _of(await figures.mediator_figures(county, june), m1) == (0, 0, 0, 0, None)

    # A party objects to m1 in June (the objection counts in May, with the assignment);
    # m2 replaces m1 at 00:30 on 1 June in Beijing.
    await _object(a, first, "2036-06-02T02:00:00")
    await _assign(a, m2, "2036-05-31T16:30:00")
    await _assert_exact("objected and replaced", mine)
    assert _of(await figures.mediator_figures(county, may), m1) == (1, 1, 0, 0, None)
    assert _of(await figures.mediator_figures(county, june), m2) == (1, 0, 0, 0, None)

    # A settled on 10 June (21 days after registration).
    await _move(a, "start_mediation", "2036-06-03T02:00:00", any_party_refuses=False)
    await _move(a, "settle", "2036-06-10T03:00:00", agreement_form="written")
    await _assert_exact("settled", mine)
    assert _of(await figures.mediator_figures(county, june), m2) == (1, 0, 1, 0, 21)

    # B (新埭): m1, terminated at 23:30 on 30 June in Beijing.
    b = await _register(XINDAI, "2036-05-25T02:00:00")
    await _move(b, "accept", "2036-05-25T03:00:00")
    await _assign(b, m1, "2036-05-28T02:00:00")
    await _move(b, "start_mediation", "2036-05-29T02:00:00", any_party_refuses=False)
    await _move(b, "terminate", "2036-06-30T15:30:00", **TERMINATE)
    await _assert_exact("terminated on the last evening of June", mine)
    assert _of(await figures.mediator_figures(county, june), m1) == (0, 0, 0, 1, 36)
    assert _of(await figures.mediator_figures(county, july), m1) == (0, 0, 0, 0, None)

    # C (东湖): two mediators, settled at 08:00 on 1 July in Beijing.
    c = await _register(DONGHU, "2036-06-01T02:00:00")
    await _move(c, "accept", "2036-06-01T03:00:00")
    await _assign(c, m3, "2036-06-01T04:00:00")
    third = await _assign(c, m1, "2036-06-01T05:00:00")
    await _move(c, "start_mediation", "2036-06-02T02:00:00", any_party_refuses=False)
    await _move(c, "settle", "2036-07-01T00:00:00", agreement_form="oral")
    await _assert_exact("settled with two mediators", mine)
    assert _of(await figures.mediator_figures(county, july), m3) == (0, 0, 1, 0, 30)
    assert _of(await figures.mediator_figures(county, july), m1) == (0, 0, 1, 0, 30)

    # A is not performed, mediated again and terminated in July: its conclusion moves.
    await _move(a, "start_performance", "2036-06-11T02:00:00")
    await _move(a, "record_breach", "2036-06-20T02:00:00")
    await _move(a, "remediate", "2036-06-21T02:00:00", any_party_refuses=False)
    await _assert_exact("mediated again", mine)
    await _move(a, "terminate", "2036-07-03T02:00:00", **TERMINATE)
    await _assert_exact("concluded again in July", mine)
    assert _of(await figures.mediator_figures(county, june), m2) == (1, 0, 0, 0, None)
    assert _of(await figures.mediator_figures(county, july), m2) == (0, 0, 0, 1, 44)

    # C moves to 新埭 (a correction of its grid): its figures move between the towns.
    danghu = (await _scopes())[2]
    xindai = (await _scopes())[3]
    before = _of(await figures.mediator_figures(danghu, july), m3)
    record = await case_for(admin, c)
    assert record is not None
    grid = await Grid.select(Grid.id, Grid.region.path).where(Grid.code == XINDAI).first()
    async with db.write_transaction():
        await update_case(
            record, {Case.grid: grid["id"], Case.region_path: grid["region.path"]}, admin, None
        )
    await _assert_exact("moved to another town", mine)
    assert before == (0, 0, 1, 0, 30)
    assert _of(await figures.mediator_figures(danghu, july), m3) == (0, 0, 0, 0, None)
    assert _of(await figures.mediator_figures(xindai, july), m3) == (0, 0, 1, 0, 30)

    # A party objects to m1 on C after it settled: m1 no longer counts it as settled.
    await _object(c, third, "2036-07-02T02:00:00")
    await _assert_exact("objected after the conclusion", mine)
    assert _of(await figures.mediator_figures(county, july), m1) == (0, 0, 0, 0, None)
    assert _of(await figures.mediator_figures(county, june), m1) == (1, 1, 0, 1, 36)
    # A custom range across the months: 25 May – 5 July.
    custom = PERIODS[5]
    assert _of(await figures.mediator_figures(county, custom), m1) == (3, 2, 0, 1, 36)
    assert _of(await figures.mediator_figures(county, custom), m2) == (1, 0, 0, 1, 44)

    # Rebuilding every rollup (after a bulk load, the demo) rebuilds this one too.
    kept = await _kept_rows(mine)
    await CaseMediator.raw("DELETE FROM mediator_rollup WHERE mediator = {}", m1)
    assert await _kept_rows(mine) != kept
    await rollups.rebuild_rollups()
    assert await _kept_rows(mine) == kept


async def test_a_custom_range_reads_its_whole_months_from_the_rollup(database, monkeypatch):
    """Only the days at the edges are counted from the rows: the whole months come from the
    rollup even when the rows are gone (a period of whole months counts nothing)."""
    calls: list[tuple[date, date]] = []
    original = figures._counted_mediator_tally

    async def counted(tally, scope, whole, first, last):
        calls.append((first, last))
        await original(tally, scope, whole, first, last)

    monkeypatch.setattr(figures, "_counted_mediator_tally", counted)
    county = figures.Scope("", "", "", "")
    await figures.mediator_figures(county, statutory_period("quarter", 2036, 2))
    assert calls == []
    await figures.mediator_figures(county, PERIODS[5])
    assert calls == [(date(2036, 5, 25), date(2036, 5, 31)), (date(2036, 7, 1), date(2036, 7, 5))]
