"""The suggestion figures kept by the database (``mediation.suggestions.stats``) equal a direct
count of the suggestions after every kind of change, and equal a recount from scratch.

A hand-made set in 2031 (a year no other test writes), filed and handled through the services
with the clock set: two suggestions filed at 06:30 Beijing time on 1 November (22:30 UTC on
31 October), grouped, routed, answered once for both (the group reply reaches each proposer),
rated (one proposer reopens), rewarded; one filed on 31 October in another town and answered
late in the evening (Beijing) of 1 November; one with no area; one filed at 00:30 Beijing on
1 December. Figures are compared with the direct count (``counted_suggestion_figures`` in
tests/reports/suggestion_count.py) for the root, the county, a town and a community, for whole
months, custom ranges across month edges and a single day.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from mediation.clock import local_date
from mediation.grid.tables import Department, Region
from mediation.reports import services as figures
from mediation.reports.periods import Period
from mediation.suggestions import filing, moves, points, queries, services, stats, sweep, topics
from mediation.suggestions.staff_controllers import award_reward
from mediation.suggestions.tables import DirectReportPoint, Suggestion
from tests.cases.conftest import user
from tests.reports.suggestion_count import counted_suggestion_figures

# The first test counts every suggestion of 2031: a fresh copy of the demo county for the module.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]


def _shown(got: figures.SuggestionFigures) -> dict:
    """Everything the dashboard shows, the order of equal counts aside."""
    return {
        "received": got.received,
        "routed": got.routed,
        "replied": got.replied,
        "adopted": got.adopted,
        "rated": got.rated,
        "reopened": got.reopened,
        "median": got.median_days_to_reply,
        "channel": got.by_channel,
        "outcome": got.by_outcome,
        "rating": got.by_rating,
        "reward": got.by_reward,
        "point": sorted(got.by_point),
        "departments": sorted(
            (d["id"], d["name"], d["routed"], d["replied"], d["adopted"]) for d in got.by_department
        ),
    }


# The modules of the suggestions service that read the clock, by the name they read it with.
CLOCK_READERS = {"utc_now": (moves, points), "today": (filing, points, queries, sweep, topics)}


class Clock:
    """The services' clock, set by the test: ``today`` is the county date of ``now``."""

    def __init__(self, monkeypatch) -> None:
        self.now = datetime(2031, 10, 1, tzinfo=UTC)
        for module in CLOCK_READERS["utc_now"]:
            monkeypatch.setattr(module, "utc_now", lambda: self.now)
        for module in CLOCK_READERS["today"]:
            monkeypatch.setattr(module, "today", lambda: local_date(self.now))

    def at(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def _file(region: int | None, channel: str = "web", point: int | None = None):
    values = {
        "topic": f"路灯不亮（{uuid.uuid4().hex[:6]}）",
        "reason": "小区门口的路灯坏了一个多月，晚上出行不安全。",
        "measures": "请尽快维修路灯，并定期巡查。",
        "name": "周玥",
        "phone": "13812340000",
        "region": str(region) if region else "",
    }
    _cleaned, errors, receipt = await services.submit_suggestion(values, channel, point)
    assert errors == {}, errors
    code, secret = receipt
    row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
    return row["id"], code, secret


async def _region(code: str) -> dict:
    return await Region.select(Region.id, Region.path).where(Region.code == code).first()


async def _kept_tables() -> dict[str, list]:
    out = {}
    for table, column in ((stats.DAY_TABLE, "day"), (stats.MONTH_TABLE, "month")):
        rows = await Suggestion.raw(
            f"SELECT {column} AS d, region_path, dim, value, n FROM {table} WHERE n <> 0"
        )
        out[table] = sorted(
            (str(r["d"]), r["region_path"], r["dim"], r["value"], r["n"]) for r in rows
        )
    return out


async def _same(scopes: list[figures.Scope], periods: list[Period]) -> None:
    for scope in scopes:
        for period in periods:
            kept = _shown(await figures.suggestion_figures(scope, period))
            counted = _shown(await counted_suggestion_figures(scope, period))
            assert kept == counted, (scope.path, period)


async def test_kept_suggestion_figures_follow_every_change(database, monkeypatch):
    clock = Clock(monkeypatch)
    admin = await user("admin")
    handler = await user("handler1")
    county, town, community = (
        await _region("330482"),
        await _region("330482001"),
        await _region("330482001001"),
    )
    other_town, other_community = await _region("330482002"), await _region("330482002001")
    departments = [
        r["id"] for r in await Department.select(Department.id).order_by(Department.id).limit(2)
    ]
    point = await DirectReportPoint.select(DirectReportPoint.id).first()
    point_id = point["id"] if point else None

    # 06:30 on 1 November in Beijing is 22:30 on 31 October in UTC.
    clock.at(2031, 10, 31, 22, 30)
    a, code_a, secret_a = await _file(community["id"], "direct_report_point", point_id)
    b, code_b, secret_b = await _file(community["id"])
    clock.at(2031, 10, 31, 3, 0)
    c, code_c, secret_c = await _file(other_community["id"])
    d, _code_d, _secret_d = await _file(None)
    # 00:30 on 1 December in Beijing.
    clock.at(2031, 11, 30, 16, 30)
    e, _code_e, _secret_e = await _file(community["id"])
    rows = {
        r["id"]: r["received_on"]
        for r in await Suggestion.select(Suggestion.id, Suggestion.received_on).where(
            Suggestion.id.is_in([a, b, c, d, e])
        )
    }
    assert rows == {
        a: date(2031, 11, 1),
        b: date(2031, 11, 1),
        c: date(2031, 10, 31),
        d: date(2031, 10, 31),
        e: date(2031, 12, 1),
    }

    root = figures.Scope("", "", "", "")
    scopes = [
        root,
        figures.Scope(county["path"], "330482", "", "county"),
        figures.Scope(town["path"], "330482001", "", "town"),
        figures.Scope(community["path"], "330482001001", "", "community"),
        figures.Scope(other_town["path"], "330482002", "", "town"),
    ]
    periods = [
        Period("month", date(2031, 10, 1), date(2031, 10, 31)),
        Period("month", date(2031, 11, 1), date(2031, 11, 30)),
        Period("custom", date(2031, 10, 25), date(2031, 12, 5)),  # edges and a whole month
        Period("custom", date(2031, 10, 31), date(2031, 11, 1)),  # two days, two months
        Period("custom", date(2031, 11, 1), date(2031, 11, 1)),
        Period("year", date(2031, 1, 1), date(2031, 12, 31)),
    ]
    await _same(scopes, periods)

    # Registered, B grouped under A; A routed and answered: the reply reaches B as well.
    clock.at(2031, 11, 2, 1, 0)
    for sid in (a, b, c):
        await services.move(admin, sid, "register", {})
    await services.group_with(admin, b, a)
    await services.move(admin, a, "transfer", {"department": str(departments[0])})
    await services.move(handler, a, "start_handling", {})
    clock.at(2031, 11, 3, 22, 30)  # 06:30 on 4 November in Beijing: three days after
    await services.move(
        handler, a, "reply", {"outcome": "adopted", "reply_text": "已修复路灯，并纳入巡查。"}
    )
    await services.move(admin, c, "transfer", {"department": str(departments[1])})
    clock.at(2031, 11, 1, 15, 0)  # 23:00 on 1 November in Beijing: one day after
    await services.move(admin, c, "start_handling", {})
    await services.move(
        admin, c, "reply", {"outcome": "not_adopted", "reply_text": "暂不具备实施条件。"}
    )
    replied = await Suggestion.select(Suggestion.id, Suggestion.outcome).where(
        Suggestion.id.is_in([a, b]), Suggestion.replied_at.is_not_null()
    )
    assert {r["id"]: r["outcome"] for r in replied} == {a: "adopted", b: "adopted"}
    await _same(scopes, periods)

    # Rated (B's proposer is not satisfied: reopened), rewarded.
    assert await services.rate(code_a, secret_a, "satisfied") is False
    assert await services.rate(code_b, secret_b, "not_satisfied") is True
    assert await services.rate(code_c, secret_c, "basically_satisfied") is False
    await award_reward(admin, a, "first")
    await _same(scopes, periods)

    november = _shown(await figures.suggestion_figures(scopes[1], periods[1]))
    assert november["received"] == 2  # A and B, filed 22:30 UTC on 31 October
    assert (november["routed"], november["replied"], november["adopted"]) == (2, 2, 2)
    assert november["rated"] == 1 and november["reopened"] == 1
    assert november["median"] == 3
    assert november["reward"] == {"first": 1}
    assert november["channel"] == {"direct_report_point": 1, "web": 1}
    assert [dept[0] for dept in november["departments"]] == [departments[0]]
    if point_id:
        assert [p[0] for p in november["point"]] == [point_id]
    october = _shown(await figures.suggestion_figures(root, periods[0]))
    assert october["received"] == 2 and october["median"] == 1  # C and D
    county_october = _shown(await figures.suggestion_figures(scopes[1], periods[0]))
    assert county_october["received"] == 1  # D has no area: counted at the root only
    in_town = _shown(await figures.suggestion_figures(scopes[2], periods[3]))
    assert in_town["received"] == 2 and in_town["reopened"] == 1

    # Changed and removed by direct writes: the triggers follow those too.
    await Suggestion.update({Suggestion.region_path: other_community["path"]}).where(
        Suggestion.id == b
    )
    await Suggestion.update({Suggestion.received_on: date(2031, 10, 30)}).where(Suggestion.id == d)
    await Suggestion.delete().where(Suggestion.id == e)
    await _same(scopes, periods)
    other = _shown(await figures.suggestion_figures(scopes[4], periods[1]))
    assert other["received"] == 1 and other["reopened"] == 1  # B, moved
    december = Period("month", date(2031, 12, 1), date(2031, 12, 31))
    assert _shown(await figures.suggestion_figures(root, december))["received"] == 0

    # The running sums equal a recount from the suggestions.
    kept = await _kept_tables()
    assert any(row[0] == "2031-11-01" for row in kept[stats.DAY_TABLE])
    await stats.rebuild_suggestion_stats(reinstall_triggers=True)
    assert await _kept_tables() == kept


async def test_figures_read_one_statement_of_kept_rows(database):
    """The dashboard's suggestion figures read the kept rows in one statement (plus the names
    of the points and departments shown), whatever the period's shape."""
    from piccolo.engine import engine_finder

    engine = engine_finder()
    seen: list[str] = []
    original = type(engine).run_querystring

    async def counting(self, querystring, in_pool=True):
        seen.append(str(querystring))
        return await original(self, querystring, in_pool=in_pool)

    root = figures.Scope("", "", "", "")
    period = Period("custom", date(2025, 1, 20), date(2026, 12, 10))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(engine), "run_querystring", counting)
        got = await figures.suggestion_figures(root, period)
    assert got.received > 0
    reads = [q for q in seen if "suggestion_stat" in q]
    assert len(reads) == 1
    assert "FROM suggestion " not in reads[0] and len(seen) <= 3
    assert _shown(got) == _shown(await counted_suggestion_figures(root, period))
