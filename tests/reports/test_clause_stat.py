"""The clauses of effective agreements kept per deadline day and community (``clause_stat``,
kept by database triggers) equal a count from the clauses themselves after every kind of
change, and the agreement-performance figure read from them equals a direct count.

Everything happens in 2036 (Beijing dates), a year nothing else reaches.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
import time_machine

from mediation import db
from mediation.cases import services
from mediation.cases.tables import Agreement, AgreementClause, Case
from mediation.reports import rollups
from mediation.reports import services as figures
from mediation.reports.periods import statutory_period
from tests.cases.conftest import deposit_case, grid_id, user

# The module writes rows its tests share: one fresh database for the module.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

DONGHU = "330482001001-01"  # 当湖街道 东湖社区
XINDAI = "330482101001-01"  # 新埭镇
MARCH = statutory_period("month", 2036, 3)
COUNTY = figures.Scope("", "", "", "")


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


async def _register(grid_code: str) -> int:
    admin = await user("admin")
    with time_machine.travel(datetime(2036, 3, 2, 2, tzinfo=UTC), tick=False):
        return await services.register_case(
            deposit_case(await grid_id(grid_code), location=""), admin
        )


async def _agreement(case_id: int, status: str, clauses: list[tuple[date, date | None]]) -> int:
    agreement = Agreement(case=case_id, status=status, committee="测试", committee_short="测")
    await agreement.save()
    for seq, (deadline, done) in enumerate(clauses, start=1):
        await AgreementClause(
            agreement=agreement.id,
            seq=seq,
            obligor="李二",
            obligation="退还押金",
            deadline=deadline,
            done_on=done,
        ).save()
    return agreement.id


async def _kept() -> Counter:
    rows = await AgreementClause.raw("SELECT day, region_path, due, performed FROM clause_stat")
    kept: Counter = Counter()
    for r in rows:
        day = r["day"] if isinstance(r["day"], date) else date.fromisoformat(r["day"])
        if r["due"] or r["performed"]:
            kept[(day, r["region_path"])] = (r["due"], r["performed"])
    return kept


async def _counted() -> Counter:
    """The same counts straight from the clauses, their agreements and cases."""
    rows = await AgreementClause.select(
        AgreementClause.deadline,
        AgreementClause.done_on,
        AgreementClause.agreement.status,
        AgreementClause.agreement.case.region_path,
    )
    counted: dict = {}
    for r in rows:
        if r["agreement.status"] != "effective" or r["deadline"] is None:
            continue
        key = (r["deadline"], r["agreement.case.region_path"])
        due, performed = counted.get(key, (0, 0))
        counted[key] = (due + 1, performed + (r["done_on"] is not None))
    return Counter(counted)


async def _direct_performance(scope: figures.Scope, period) -> dict[str, int]:
    """The figure as it was counted before the kept table: the due clauses themselves."""
    last = min(period.end, figures.today_in_county())
    query = AgreementClause.select(AgreementClause.done_on).where(
        AgreementClause.agreement.status == "effective",
        AgreementClause.deadline >= period.start,
        AgreementClause.deadline <= last,
    )
    if scope.path:
        query = query.where(AgreementClause.agreement.case.region_path.like(scope.path + "%"))
    rows = await query
    return {"due": len(rows), "performed": sum(1 for r in rows if r["done_on"] is not None)}


async def _check(step: str) -> None:
    assert await _kept() == await _counted(), step


async def test_kept_clause_counts_follow_every_change(database):
    a = await _register(DONGHU)
    b = await _register(XINDAI)
    await _check("before")
    draft = await _agreement(a, "draft", [(date(2036, 3, 10), None), (date(2036, 3, 20), None)])
    await _check("a draft's clauses do not count")
    await Agreement.update({Agreement.status: "issued"}).where(Agreement.id == draft)
    await _check("issued")
    await Agreement.update({Agreement.status: "effective"}).where(Agreement.id == draft)
    await _check("effective")
    assert (await _kept())[(date(2036, 3, 10), (await _path(a)))] == (1, 0)

    other = await _agreement(b, "effective", [(date(2036, 3, 10), date(2036, 3, 9))])
    await _check("an effective agreement with a performed clause")
    first = await AgreementClause.select(AgreementClause.id).where(
        AgreementClause.agreement == draft, AgreementClause.seq == 1
    )
    clause = first[0]["id"]
    await AgreementClause.update({AgreementClause.done_on: date(2036, 3, 11)}).where(
        AgreementClause.id == clause
    )
    await _check("a clause performed")
    await AgreementClause.update({AgreementClause.deadline: date(2036, 4, 2)}).where(
        AgreementClause.id == clause
    )
    await _check("a deadline moved into the next month")
    await AgreementClause.update({AgreementClause.deadline: None}).where(
        AgreementClause.id == clause
    )
    await _check("a deadline taken off")
    await AgreementClause.update({AgreementClause.deadline: date(2036, 3, 31)}).where(
        AgreementClause.id == clause
    )
    await _check("a deadline put back")
    await AgreementClause.update({AgreementClause.agreement: other}).where(
        AgreementClause.id == clause
    )
    await _check("a clause moved to an agreement of another community")
    await AgreementClause(
        agreement=other, seq=5, obligor="王五", obligation="赔礼道歉", deadline=date(2036, 3, 31)
    ).save()
    await _check("a clause added to an effective agreement")
    await AgreementClause.delete().where(AgreementClause.id == clause)
    await _check("a clause deleted")
    await Agreement.update({Agreement.status: "issued"}).where(Agreement.id == other)
    await _check("no longer effective (a direct write)")
    await Agreement.update({Agreement.status: "effective"}).where(Agreement.id == other)
    await _check("effective again")
    await Agreement.delete().where(Agreement.id == draft)
    await _check("an effective agreement deleted")
    assert await _kept() != Counter(), "the other community's clauses are still counted"
    # The app never deletes a case; this direct delete takes the case's share of the figures
    # off as a deleting path would, so the database stays consistent for other tests.
    before = await rollups.stat_row(b)
    async with db.write_transaction():
        await Case.delete().where(Case.id == b)
        await rollups.apply_change(before, None)
    await _check("a case deleted with its effective agreement")


async def _path(case_id: int) -> str:
    row = await Case.select(Case.region_path).where(Case.id == case_id).first()
    assert row is not None
    return row["region_path"]


async def test_agreement_performance_equals_a_direct_count(database):
    a = await _register(DONGHU)
    b = await _register(XINDAI)
    await _agreement(
        a,
        "effective",
        [
            (date(2036, 2, 29), date(2036, 2, 28)),
            (date(2036, 3, 1), None),
            (date(2036, 3, 31), None),
        ],
    )
    await _agreement(b, "effective", [(date(2036, 3, 15), date(2036, 3, 16))])
    await _agreement(b, "draft", [(date(2036, 3, 16), None)])
    town = await figures.scope_for(await user("centre1"))
    assert town.path and town.path != COUNTY.path
    across = figures.Period("custom", date(2036, 2, 20), date(2036, 3, 20))
    for now in ("2036-03-10T02:00:00", "2036-03-31T15:59:00", "2036-04-20T02:00:00"):
        with time_machine.travel(datetime.fromisoformat(now).replace(tzinfo=UTC), tick=False):
            for scope in (COUNTY, town):
                for period in (MARCH, across):
                    got = await figures.performance_figures(scope, period)
                    assert got == await _direct_performance(scope, period), (now, scope, period)
    # 06:30 on 1 April in Beijing (22:30 UTC on 31 March): every March clause is due.
    with time_machine.travel(datetime(2036, 3, 31, 22, 30, tzinfo=UTC), tick=False):
        assert await figures.performance_figures(COUNTY, MARCH) == {"due": 3, "performed": 1}
    # 06:30 on 31 March in Beijing: the clause due that day counts, as it did before.
    with time_machine.travel(datetime(2036, 3, 30, 22, 30, tzinfo=UTC), tick=False):
        assert await figures.performance_figures(COUNTY, MARCH) == {"due": 3, "performed": 1}
    with time_machine.travel(datetime(2036, 3, 14, 22, 30, tzinfo=UTC), tick=False):
        assert await figures.performance_figures(COUNTY, MARCH) == {"due": 2, "performed": 1}
