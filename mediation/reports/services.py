"""Figures for the dashboard: sums over the case rollups, and suggestion counts, per period.

Case figures never scan the cases: they add up ``CaseStat`` rows of the period inside the
user's region subtree. Suggestion figures count suggestions received in the period (an
indexed date range).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from piccolo.query.functions.aggregate import Count, Sum

from mediation.accounts.services import CurrentUser
from mediation.cases import categories
from mediation.clock import local_date
from mediation.grid.tables import Department, Grid, Region
from mediation.reports import rollups
from mediation.reports.periods import Period
from mediation.reports.tables import CaseStat
from mediation.suggestions.tables import DirectReportPoint, Suggestion

FLOW_MEASURES = (
    rollups.RECEIVED,
    rollups.ACCEPTED,
    rollups.MEDIATING,
    rollups.SETTLED,
    rollups.TERMINATED,
    rollups.DECLINED,
    rollups.CLOSED,
)
PREVENTION_MEASURES = (
    rollups.PREVENT_SUICIDE,
    rollups.PREVENT_CRIMINAL,
    rollups.PREVENT_PETITION,
    rollups.PREVENT_FIGHT,
    rollups.SCREENED,
    rollups.PREVENTED,
)


@dataclass
class Scope:
    """Where the figures come from: a region path (``""``: everywhere) and its name."""

    path: str
    code: str
    name: str
    level: str


async def scope_for(user: CurrentUser, region_code: str = "") -> Scope:
    """The user's own region, or a region inside it chosen to drill down."""
    if region_code:
        row = (
            await Region.select(Region.code, Region.name, Region.path, Region.level)
            .where(Region.code == region_code)
            .first()
        )
        if row and user.can_see_path(row["path"]):
            return Scope(row["path"], row["code"], row["name"], row["level"])
    if user.region_path:
        code = [p for p in user.region_path.split("/") if p][-1]
        row = await Region.select(Region.level).where(Region.code == code).first()
        return Scope(user.region_path, code, user.region_name, row["level"] if row else "")
    return Scope("", "", "", "")


def _where(query, scope: Scope, period: Period):
    query = query.where(CaseStat.day >= period.start, CaseStat.day <= period.end)
    if scope.path:
        query = query.where(CaseStat.region_path.like(scope.path + "%"))
    return query


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


async def grouped(scope: Scope, period: Period, *dims: str, measures=None) -> list[dict]:
    """Sums of cases, persons and amounts per measure and ``dims`` in the period."""
    columns = [CaseStat.measure, *(getattr(CaseStat, d) for d in dims)]
    query = CaseStat.select(
        *columns,
        Sum(CaseStat.n, alias="n"),
        Sum(CaseStat.persons, alias="persons"),
        Sum(CaseStat.amount, alias="amount"),
    )
    query = _where(query, scope, period)
    if measures:
        query = query.where(CaseStat.measure.is_in(list(measures)))
    rows = await query.group_by(*columns)
    for row in rows:
        row["n"] = int(row["n"] or 0)
        row["persons"] = int(row["persons"] or 0)
        row["amount"] = _dec(row["amount"])
    return [r for r in rows if r["n"] or r["persons"]]


def _median(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen, lower, upper = 0, None, None
    for days, n in ordered:
        if lower is None and seen + n > lower_rank:
            lower = days
        if upper is None and seen + n > upper_rank:
            upper = days
            break
        seen += n
    return (lower + upper) / 2


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class CaseFigures:
    totals: dict[str, dict] = field(default_factory=dict)
    success_rate: float | None = None
    median_days: float | None = None
    by: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)
    regions: dict[str, dict[str, int]] = field(default_factory=dict)


async def case_figures(scope: Scope, period: Period, with_breakdowns: bool = True) -> CaseFigures:
    figures = CaseFigures()
    totals: dict[str, dict] = {
        m: {"n": 0, "persons": 0, "amount": Decimal(0)}
        for m in (*FLOW_MEASURES, *PREVENTION_MEASURES)
    }
    histogram: dict[int, int] = {}
    for row in await grouped(scope, period, "days", "detail"):
        entry = totals.setdefault(row["measure"], {"n": 0, "persons": 0, "amount": Decimal(0)})
        entry["n"] += row["n"]
        entry["persons"] += row["persons"]
        entry["amount"] += row["amount"]
        if row["measure"] in (rollups.SETTLED, rollups.TERMINATED):
            histogram[row["days"]] = histogram.get(row["days"], 0) + row["n"]
        if row["measure"] == rollups.SETTLED and row["detail"]:
            figures.forms[row["detail"]] = figures.forms.get(row["detail"], 0) + row["n"]
    settled, terminated = totals[rollups.SETTLED]["n"], totals[rollups.TERMINATED]["n"]
    totals["concluded"] = {
        "n": settled + terminated,
        "persons": 0,
        "amount": totals[rollups.SETTLED]["amount"] + totals[rollups.TERMINATED]["amount"],
    }
    figures.totals = totals
    figures.success_rate = _rate(settled, settled + terminated)
    figures.median_days = _median(histogram)
    if not with_breakdowns:
        return figures
    wanted = (rollups.RECEIVED, rollups.SETTLED, rollups.TERMINATED)
    for dim in ("category", "colour", "source", "level"):
        table: dict[str, dict[str, int]] = {}
        for row in await grouped(scope, period, dim, measures=wanted):
            table.setdefault(row[dim], {}).setdefault(row["measure"], 0)
            table[row[dim]][row["measure"]] += row["n"]
        figures.by[dim] = table
    figures.regions = await _by_child_region(scope, period, wanted)
    return figures


async def _by_child_region(scope: Scope, period: Period, wanted) -> dict[str, dict[str, int]]:
    """Figures per child of the scope: towns of a county, communities of a town, grids of a
    community. Keys are region codes, or ``grid:<id>`` for grids."""
    out: dict[str, dict[str, int]] = {}
    depth = len([p for p in scope.path.split("/") if p])
    if scope.level == "community":
        for row in await grouped(scope, period, "grid", measures=wanted):
            bucket = out.setdefault(f"grid:{row['grid']}", {})
            bucket[row["measure"]] = bucket.get(row["measure"], 0) + row["n"]
        return out
    for row in await grouped(scope, period, "region_path", measures=wanted):
        parts = [p for p in row["region_path"].split("/") if p]
        if len(parts) <= depth:
            continue
        bucket = out.setdefault(parts[depth], {})
        bucket[row["measure"]] = bucket.get(row["measure"], 0) + row["n"]
    return out


async def child_names(scope: Scope, keys: list[str]) -> dict[str, str]:
    grid_ids = [int(k[5:]) for k in keys if k.startswith("grid:")]
    codes = [k for k in keys if not k.startswith("grid:")]
    names: dict[str, str] = {}
    if grid_ids:
        for row in await Grid.select(Grid.id, Grid.name).where(Grid.id.is_in(grid_ids)):
            names[f"grid:{row['id']}"] = row["name"]
    if codes:
        for row in await Region.select(Region.code, Region.name).where(Region.code.is_in(codes)):
            names[row["code"]] = row["name"]
    return names


async def county_name() -> str:
    row = await Region.select(Region.name).where(Region.level == "county").first()
    return row["name"] if row else ""


async def region_choices(user: CurrentUser) -> list[tuple[str, str]]:
    """The user's region and every region inside it, as (code, name) by path."""
    query = Region.select(Region.code, Region.name, Region.path, Region.level)
    if user.region_path:
        query = query.where(Region.path.like(user.region_path + "%"))
    rows = await query.order_by(Region.path)
    indent = {"county": "", "town": "　", "community": "　　"}
    return [(r["code"], indent.get(r["level"], "") + r["name"]) for r in rows]


async def log_export(user: CurrentUser, action: str, args: dict) -> None:
    """Downloads of figures are recorded like every other export."""
    from mediation.grid.tables import AuditEvent

    await AuditEvent(actor=user.id, action=action, entity="report", detail=str(args)).save()


def case_link(period: Period, measure: str, scope: Scope | None = None, **filters: Any) -> str:
    """The case list that makes up a figure."""
    args: dict[str, Any] = {"event": measure if measure != "received" else ""}
    args["date_from"], args["date_to"] = period.start.isoformat(), period.end.isoformat()
    if scope is not None and scope.code:
        args["region"] = scope.code
    args.update(filters)
    return "/cases?" + urlencode({k: v for k, v in args.items() if v not in ("", None)})


def category_order() -> list[str]:
    return categories.current().ordered_codes()


# ---------------------------------------------------------------- suggestions


@dataclass
class SuggestionFigures:
    received: int = 0
    routed: int = 0
    replied: int = 0
    adopted: int = 0
    rated: int = 0
    reopened: int = 0
    median_days_to_reply: float | None = None
    by_channel: dict[str, int] = field(default_factory=dict)
    by_point: list[tuple[str, int]] = field(default_factory=list)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_rating: dict[str, int] = field(default_factory=dict)
    by_reward: dict[str, int] = field(default_factory=dict)
    by_department: list[dict] = field(default_factory=list)

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.reopened, self.rated)


def _suggestion_scope(query, scope: Scope, period: Period):
    query = query.where(
        Suggestion.received_on >= period.start, Suggestion.received_on <= period.end
    )
    if scope.path:
        query = query.where(Suggestion.region_path.like(scope.path + "%"))
    return query


async def _count_by(column, scope: Scope, period: Period) -> dict[Any, int]:
    query = _suggestion_scope(Suggestion.select(column, Count(alias="n")), scope, period)
    return {r[column._meta.name]: r["n"] for r in await query.group_by(column)}


async def suggestion_figures(scope: Scope, period: Period) -> SuggestionFigures:
    """Of the suggestions received in the period: how they were routed, answered and rated."""
    figures = SuggestionFigures()
    figures.by_channel = await _count_by(Suggestion.channel, scope, period)
    figures.received = sum(figures.by_channel.values())
    if not figures.received:
        return figures
    figures.by_outcome = {
        k: v for k, v in (await _count_by(Suggestion.outcome, scope, period)).items() if k
    }
    figures.by_rating = {
        k: v for k, v in (await _count_by(Suggestion.rating, scope, period)).items() if k
    }
    figures.by_reward = {
        k: v for k, v in (await _count_by(Suggestion.reward_tier, scope, period)).items() if k
    }
    figures.adopted = figures.by_outcome.get("adopted", 0) + figures.by_outcome.get(
        "partly_adopted", 0
    )
    figures.rated = sum(figures.by_rating.values())
    figures.reopened = await _suggestion_scope(
        Suggestion.count().where(Suggestion.times_reopened > 0), scope, period
    )
    points = await _count_by(Suggestion.point, scope, period)
    names = {
        r["id"]: r["name"]
        for r in await DirectReportPoint.select(DirectReportPoint.id, DirectReportPoint.name).where(
            DirectReportPoint.id.is_in([k for k in points if k] or [0])
        )
    }
    figures.by_point = sorted(
        ((names.get(k, ""), v) for k, v in points.items() if k), key=lambda x: -x[1]
    )
    replies = await _suggestion_scope(
        Suggestion.select(
            Suggestion.department, Suggestion.received_on, Suggestion.replied_at, Suggestion.outcome
        ).where(Suggestion.department.is_not_null()),
        scope,
        period,
    )
    figures.routed = len(replies)
    departments: dict[int, dict] = {}
    durations: dict[int, int] = {}
    for row in replies:
        dept = departments.setdefault(row["department"], {"routed": 0, "replied": 0, "adopted": 0})
        dept["routed"] += 1
        if row["replied_at"] is not None:
            dept["replied"] += 1
            figures.replied += 1
            days = (local_date(row["replied_at"]) - row["received_on"]).days
            durations[days] = durations.get(days, 0) + 1
        if row["outcome"] in ("adopted", "partly_adopted"):
            dept["adopted"] += 1
    figures.median_days_to_reply = _median(durations)
    if departments:
        names = {
            r["id"]: r["name"]
            for r in await Department.select(Department.id, Department.name).where(
                Department.id.is_in(list(departments))
            )
        }
        figures.by_department = sorted(
            ({"name": names.get(k, ""), **v} for k, v in departments.items()),
            key=lambda d: -d["routed"],
        )
    return figures


def change(now: int | float | None, before: int | float | None) -> dict:
    """Difference with the previous period, as numbers the template words."""
    if now is None or before is None:
        return {"delta": None, "pct": None}
    delta = now - before
    return {"delta": delta, "pct": (delta / before) if before else None}


def today_in_county() -> date:
    from mediation.clock import local_today

    return local_today()


async def party_ratings(scope: Scope, period: Period) -> dict[str, int]:
    """How the parties rated closed mediations in the period (一案一码), by rating.

    Counted directly: a rating is given once per party, so there are few rows to count.
    """
    from datetime import datetime, time, timedelta

    from mediation.clock import county_zone
    from mediation.portal.tables import CaseRating

    zone = county_zone()
    start = datetime.combine(period.start, time(0), zone)
    end = datetime.combine(period.end + timedelta(days=1), time(0), zone)
    query = CaseRating.select(CaseRating.rating).where(
        CaseRating.rated_at >= start, CaseRating.rated_at < end
    )
    if scope.path:
        query = query.where(CaseRating.case.region_path.like(scope.path + "%"))
    counts: dict[str, int] = {}
    for row in await query:
        counts[row["rating"]] = counts.get(row["rating"], 0) + 1
    return counts
