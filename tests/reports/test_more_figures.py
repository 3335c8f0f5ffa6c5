"""Mediators, on-time rates per clock, agreement performance and the monthly trend equal a
direct count over a small hand-made set of cases; each figure leads to a list of as many.

Everything happens in February–April 2035 (Beijing dates), a year nothing else reaches. Times
are UTC as the server sees them: 2035-02-28T16:30Z is 00:30 on 1 March in Beijing.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from html import unescape

import pytest
import time_machine

from mediation.cases import services
from mediation.cases.services import OPEN_STATUSES
from mediation.cases.tables import Agreement, AgreementClause, Case, CaseMediator
from mediation.grid.tables import Mediator, Region, Staff
from mediation.reports import services as figures
from mediation.reports.periods import statutory_period
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import login

# Module-scoped fixtures write rows the tests share: one fresh database for the module.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

DONGHU = "330482001001-01"  # 当湖街道 东湖社区
XINDAI = "330482101001-01"  # 新埭镇
DANGHU_TOWN = "330482001"
MARCH = statutory_period("month", 2035, 3)
COUNTY = figures.Scope("", "", "", "")


def at(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=UTC), tick=False)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


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


async def _mediator(name: str) -> int:
    county = await Region.select(Region.id).where(Region.level == "county").first()
    staff = Staff(
        username=f"s14-{uuid.uuid4().hex[:10]}",
        display_name=name,
        password_hash="-",
        roles=["mediator"],
        region=county["id"],
    )
    await staff.save()
    profile = Mediator(staff=staff.id, skills=[], dialects=[], max_cases=20)
    await profile.save()
    return profile.id


async def _assign(case_id: int, mediator: int, when: str) -> int:
    """Assigned as staff do it (the kept mediator figures follow), at ``when`` (UTC)."""
    with at(when):
        await services.assign_mediator(await user("admin"), case_id, mediator)
    row = (
        await CaseMediator.select(CaseMediator.id, CaseMediator.assigned_at)
        .where(CaseMediator.case == case_id, CaseMediator.mediator == mediator)
        .first()
    )
    assert row["assigned_at"] == utc(when)
    return row["id"]


@pytest.fixture(scope="module")
async def made(database):
    """Four cases, two mediators of our own, two agreements with clauses."""
    m1 = await _mediator("测试调解员甲")
    m2 = await _mediator("测试调解员乙")
    ids: dict[str, int] = {"m1": m1, "m2": m2}
    # A: 当湖, accepted the day it came, settled a week later with m1.
    a = ids["a"] = await _register(DONGHU, "2035-03-05T02:00:00")
    await _move(a, "accept", "2035-03-05T03:00:00")
    await _assign(a, m1, "2035-03-05T04:00:00")
    await _move(a, "start_mediation", "2035-03-05T05:00:00", any_party_refuses=False)
    await _move(a, "settle", "2035-03-12T03:00:00", agreement_form="written")
    # B: 当湖, accepted two weeks late; a party objects to m1, m2 takes over and terminates.
    b = ids["b"] = await _register(DONGHU, "2035-03-06T02:00:00")
    first = await _assign(b, m1, "2035-03-06T04:00:00")
    await services.end_assignment_on_objection(b, first, "与申请人系亲属", actor=None)
    await _assign(b, m2, "2035-03-07T04:00:00")
    await _move(b, "accept", "2035-03-20T02:00:00")
    await _move(b, "start_mediation", "2035-03-21T02:00:00", any_party_refuses=False)
    await _move(
        b,
        "terminate",
        "2035-03-25T02:00:00",
        termination_reason="positions_too_far",
        referral_advice="litigation",
    )
    # C: 新埭, registered on 28 February; m1 assigned at 00:30 on 1 March in Beijing; open.
    c = ids["c"] = await _register(XINDAI, "2035-02-28T10:00:00")
    await _move(c, "accept", "2035-02-28T12:00:00")
    await _assign(c, m1, "2035-02-28T16:30:00")
    await _move(c, "start_mediation", "2035-03-01T02:00:00", any_party_refuses=False)
    # D: 当湖, February, m2, still in mediation.
    d = ids["d"] = await _register(DONGHU, "2035-02-20T02:00:00")
    await _move(d, "accept", "2035-02-20T03:00:00")
    await _assign(d, m2, "2035-02-20T04:00:00")
    await _move(d, "start_mediation", "2035-02-21T02:00:00", any_party_refuses=False)
    # Clauses: A's due 15 and 20 March (one performed) and 10 April; C's due 18 March, done.
    for case_id, clauses in (
        (a, [(date(2035, 3, 15), date(2035, 3, 14)), (date(2035, 3, 20), None)]),
        (a, [(date(2035, 4, 10), None)]),
        (c, [(date(2035, 3, 18), date(2035, 3, 18))]),
    ):
        agreement = Agreement(
            case=case_id, status="effective", committee="测试人民调解委员会", committee_short="测"
        )
        await agreement.save()
        for seq, (deadline, done) in enumerate(clauses, start=1):
            await AgreementClause(
                agreement=agreement.id,
                seq=seq,
                obligor="李二房东",
                obligation="退还押金",
                deadline=deadline,
                done_on=done,
            ).save()
    # A draft's clause never counts.
    draft = Agreement(case=a, status="draft", committee="测试", committee_short="测")
    await draft.save()
    await AgreementClause(
        agreement=draft.id, seq=1, obligor="x", obligation="y", deadline=date(2035, 3, 16)
    ).save()
    return ids


# ---------------------------------------------------------------- direct counts


async def _direct_mediators(ids: dict, scope_path: str) -> dict[int, dict]:
    """The mediator figures counted straight from the assignment and case rows."""
    rows = await CaseMediator.select(
        CaseMediator.mediator,
        CaseMediator.case,
        CaseMediator.active,
        CaseMediator.assigned_at,
        CaseMediator.case.region_path,
        CaseMediator.case.status,
        CaseMediator.case.outcome,
        CaseMediator.case.concluded_on,
        CaseMediator.case.registered_on,
    ).where(CaseMediator.mediator.is_in([ids["m1"], ids["m2"]]))
    start, end = utc("2035-02-28T16:00:00"), utc("2035-03-31T16:00:00")  # March in Beijing
    out: dict[int, dict] = {}
    for mediator in (ids["m1"], ids["m2"]):
        mine = [
            r
            for r in rows
            if r["mediator"] == mediator and r["case.region_path"].startswith(scope_path)
        ]
        in_march = [r for r in mine if start <= r["assigned_at"] < end]
        concluded = [
            r
            for r in mine
            if r["active"]
            and r["case.concluded_on"] is not None
            and MARCH.start <= r["case.concluded_on"] <= MARCH.end
        ]
        out[mediator] = {
            "assigned": len({r["case"] for r in in_march}),
            "objections": sum(1 for r in in_march if not r["active"]),
            "settled": sum(1 for r in concluded if r["case.outcome"] == "settled"),
            "terminated": sum(1 for r in concluded if r["case.outcome"] == "terminated"),
            "load": sum(1 for r in mine if r["active"] and r["case.status"] in OPEN_STATUSES),
        }
    return out


def _as_dict(row: figures.MediatorRow) -> dict:
    return {k: getattr(row, k) for k in ("assigned", "objections", "settled", "terminated", "load")}


async def _figures_of(scope, ids) -> dict[int, figures.MediatorRow]:
    rows = await figures.mediator_figures(scope, MARCH)
    return {r.id: r for r in rows if r.id in (ids["m1"], ids["m2"])}


async def test_mediator_figures_equal_a_direct_count_for_the_county(made):
    got = await _figures_of(COUNTY, made)
    direct = await _direct_mediators(made, "")
    for mediator in (made["m1"], made["m2"]):
        assert _as_dict(got[mediator]) == direct[mediator]
    m1, m2 = got[made["m1"]], got[made["m2"]]
    # m1: A, B (objected to) and C (assigned after midnight on 1 March in Beijing).
    assert (m1.assigned, m1.objections, m1.settled, m1.terminated) == (3, 1, 1, 0)
    assert (m2.assigned, m2.terminated) == (1, 1)
    assert m1.median_days == 7  # A: 5 → 12 March
    assert m2.median_days == 19  # B: 6 → 25 March
    assert m1.name == "测试调解员甲"
    # The county by its own path (its loads as the database keeps them) gives the same.
    row = await Region.select(Region.path, Region.code).where(Region.level == "county").first()
    county = figures.Scope(row["path"], row["code"], "", "county")
    by_path = await _figures_of(county, made)
    for mediator in (made["m1"], made["m2"]):
        assert _as_dict(by_path[mediator]) == direct[mediator]
        assert by_path[mediator].median_days == got[mediator].median_days


async def test_a_town_sees_its_own_cases_in_the_mediator_figures(made):
    town = await _town_scope()
    got = await _figures_of(town, made)
    direct = await _direct_mediators(made, town.path)
    assert _as_dict(got[made["m1"]]) == direct[made["m1"]]
    assert got[made["m1"]].assigned == 2  # C lies in 新埭镇
    assert _as_dict(got[made["m2"]]) == direct[made["m2"]]


async def _town_scope() -> figures.Scope:
    row = await Region.select(Region.path, Region.name).where(Region.code == DANGHU_TOWN).first()
    return figures.Scope(row["path"], DANGHU_TOWN, row["name"], "town")


async def test_on_time_rates_per_clock(made):
    """Acceptance within 2 working days, handling (mediation started) within 7 working days,
    mediation within 30 days of its start (the shipped deadline policy)."""
    got = await figures.ontime_figures(COUNTY, MARCH)
    # Accepted in March: A the same day (on time), B two weeks after registration (late).
    assert got["accept"] == {"done": 2, "on_time": 1}
    # Mediation started in March: A and C in time, B on the 21st, 15 days after registration.
    assert got["handle"] == {"done": 3, "on_time": 2}
    # Concluded in March: A after 7 days, B after 4 days of mediation.
    assert got["mediation"] == {"done": 2, "on_time": 2}
    town = await figures.ontime_figures(await _town_scope(), MARCH)
    assert town["handle"] == {"done": 2, "on_time": 1}


async def _ontime_case_by_case(scope: figures.Scope, period) -> dict[str, dict[str, int]]:
    """The on-time figures as the dashboard computed them before they were kept: every case
    that finished a clock in the period, its clocks computed from its columns now."""
    from mediation.cases.holidays import refresh_calendar
    from mediation.cases.queries import clocks_for

    policy = await services.current_policy()
    calendar = await refresh_calendar(force=True)
    out = {name: {"done": 0, "on_time": 0} for name in figures.CLOCK_MEASURES}
    rows = await Case.select().where(Case.region_path.like(scope.path + "%"))
    for case in rows:
        done = {}
        for name, (_measure, column) in figures.CLOCK_MEASURES.items():
            day = case[column]
            if name == "mediation" and case["outcome"] not in ("settled", "terminated"):
                day = None
            if day is not None and period.start <= day <= period.end:
                done[name] = day
        if not done:
            continue
        for item in await clocks_for(case, None, policy, calendar):
            if item.clock.name in done:
                out[item.clock.name]["done"] += 1
                out[item.clock.name]["on_time"] += done[item.clock.name] <= item.clock.due
    return out


@pytest.fixture(scope="module")
async def may_holiday(made):
    """A holiday schedule for 2035 (1–4 May off) and a case registered on Monday 30 April,
    accepted on Tuesday 8 May: two working days counting the holiday, late without it."""
    from mediation.cases.holidays import refresh_calendar
    from mediation.cases.tables import HolidayDay, HolidayYear

    await HolidayYear(year=2035, source="test", updated_at=utc("2035-01-01T00:00:00")).save()
    for day in range(1, 5):
        await HolidayDay(day=date(2035, 5, day), year=2035, kind="holiday", name="劳动节").save()
    await refresh_calendar(force=True)
    e = await _register(DONGHU, "2035-04-30T02:00:00")
    await _move(e, "accept", "2035-05-08T02:00:00")
    return e


async def test_kept_on_time_figures_equal_the_clocks_computed_case_by_case(made, may_holiday):
    town = await _town_scope()
    may = statutory_period("month", 2035, 5)
    across = figures.Period("custom", date(2035, 2, 25), date(2035, 5, 10))
    for scope in (COUNTY, town):
        for period in (MARCH, may, across):
            got = await figures.ontime_figures(scope, period)
            assert got == await _ontime_case_by_case(scope, period), (scope.path, period)
    kept = await Case.select(Case.accept_on_time).where(Case.id == may_holiday).first()
    assert kept["accept_on_time"] is True  # 1–4 May are not working days
    assert (await figures.ontime_figures(COUNTY, may))["accept"]["on_time"] >= 1


async def test_agreement_performance_counts_due_clauses_of_effective_agreements(made):
    with at("2035-04-20T02:00:00"):
        county = await figures.performance_figures(COUNTY, MARCH)
        town = await figures.performance_figures(await _town_scope(), MARCH)
    assert county == {"due": 3, "performed": 2}
    assert town == {"due": 2, "performed": 1}
    with at("2035-03-16T02:00:00"):  # only the clause due on the 15th is due yet
        assert await figures.performance_figures(COUNTY, MARCH) == {"due": 1, "performed": 1}


async def test_the_monthly_trend_equals_a_direct_count(made):
    trend = await figures.monthly_trend(COUNTY, date(2035, 3, 31), months=3)
    assert [t.month for t in trend] == [date(2035, 1, 1), date(2035, 2, 1), date(2035, 3, 1)]
    cases = await Case.select(Case.registered_on, Case.concluded_on, Case.outcome).where(
        Case.registered_on >= date(2035, 1, 1)
    )
    for t in trend:
        month = statutory_period("month", 2035, t.month.month)
        assert t.received == sum(1 for c in cases if month.start <= c["registered_on"] <= month.end)
        assert t.settled == sum(
            1
            for c in cases
            if c["outcome"] == "settled"
            and c["concluded_on"]
            and month.start <= c["concluded_on"] <= month.end
        )
    assert trend[2].received >= 2 and trend[1].received >= 2


# ---------------------------------------------------------------- the page and its links


def _mediator_row(html: str, name: str) -> list[tuple[str, int]]:
    """(link, number) of each linked figure in a mediator's row of the dashboard."""
    table = html.split('id="mediators"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
    return [
        (unescape(href), int(float(n.replace(",", ""))))
        for href, n in re.findall(r'<a href="([^"]+)">([\d.,]+)</a>', row)
    ]


async def _count_cases(client, href: str) -> int:
    total, page_no = 0, 1
    while True:
        response = await client.get(f"{href}&page={page_no}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        total += len(re.findall(r'<a [^>]*href="/cases/\d+"', response.text))
        if f"page={page_no + 1}" not in response.text:
            return total
        page_no += 1


MARCH_QUERY = "/reports?period=custom&start=2035-03-01&end=2035-03-31"


async def test_each_mediator_figure_links_to_a_list_of_as_many_cases(client, made):
    await login(client, "centre1")  # administrators do not open case lists
    page = await client.get(MARCH_QUERY)
    assert page.status_code == 200
    for name in ("测试调解员甲", "测试调解员乙"):
        links = _mediator_row(page.text, name)
        assert len(links) == 6  # assigned, settled, terminated, median, load, objections
        for href, shown in links:
            if "event=concluded" in href:
                continue  # the median days: its list is the concluded cases
            assert await _count_cases(client, href) == shown, (name, href)
    objected = [h for h, _n in _mediator_row(page.text, "测试调解员甲") if "objected" in h][0]
    response = await client.get(objected)
    assert f'href="/cases/{made["b"]}"' in response.text
    assert "测试调解员甲" in response.text  # the list says whose cases it shows


async def test_a_town_centre_sees_only_its_town_in_the_mediator_rows(client, made):
    await login(client, "centre1")
    page = await client.get(MARCH_QUERY)
    assigned_href, assigned = _mediator_row(page.text, "测试调解员甲")[0]
    assert assigned == 2
    listed = await client.get(assigned_href)
    assert f'href="/cases/{made["a"]}"' in listed.text
    assert f'href="/cases/{made["c"]}"' not in listed.text


async def test_on_time_and_performance_figures_link_to_their_lists(client, made):
    await login(client, "centre1")
    page = await client.get(MARCH_QUERY)
    ontime = page.text.split('id="ontime"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<a href="([^"]+)">([\d,]+)</a>', ontime)
    assert len(rows) == 3
    for href, shown in rows:
        assert await _count_cases(client, unescape(href)) == int(shown.replace(",", ""))
    # Clauses are due up to today: look from 20 April 2035.
    with time_machine.travel(utc("2035-04-20T02:00:00"), tick=True):
        await login(client, "centre1")
        page = await client.get(MARCH_QUERY)
        performance = page.text.split('id="performance"', 1)[1].split("</tr>", 1)[0]
        performed_href, due_href = [
            unescape(h) for h in re.findall(r'<a href="([^"]+)">', performance)
        ]
        assert "date_to=2035-03-31" in due_href
        listed = await client.get(due_href)
        performed = await client.get(performed_href)
    assert f'href="/cases/{made["a"]}"' in performed.text
    # Clauses due in March in 当湖: A's; C's lies in 新埭镇, D has none.
    assert f'href="/cases/{made["a"]}"' in listed.text
    assert f'href="/cases/{made["c"]}"' not in listed.text
    assert f'href="/cases/{made["d"]}"' not in listed.text
    assert 'id="legend-performance"' in page.text


async def test_the_monthly_trend_chart_is_drawn_with_its_table(client, made):
    await login(client, "admin")
    page = await client.get(MARCH_QUERY)
    assert "2035-03" in page.text and "2034-04" in page.text
    # Drawn as an image: an inline SVG's style sheet would be refused by the page's CSP.
    images = re.findall(r'<img src="(/reports/charts/trend\?[^"]+)" alt=""', page.text)
    assert len(images) == 1 and "<svg" not in page.text
    trend = (await client.get(unescape(images[0]))).text
    assert "近十二个月每月纠纷数" in trend and "<style" in trend
