"""Figures for the dashboard: sums over the case rollups, and suggestion counts, per period.

Case figures never scan the cases: they add up the rollups of the user's region (or the region
chosen inside it) for the period — ``CaseRollup`` for whole months, ``CaseStat`` for the days
at the edges of a custom range. Suggestion figures add up the counts the database keeps per
received day and month of the same region (``mediation.suggestions.stats``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count, Sum

from mediation.accounts.services import CurrentUser
from mediation.cases import categories
from mediation.grid.tables import Department, Grid, Region
from mediation.reports import rollups
from mediation.reports.periods import Period
from mediation.reports.tables import CaseRollup, CaseStat
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


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _split(period: Period) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The period as whole county months (first day of the first and of the last) read from
    the monthly rollup, and the days at its edges outside them read from the daily one."""
    from mediation.reports.periods import _add_months, _month_end

    first = period.start if period.start.day == 1 else _add_months(period.start, 1)
    last_end = period.end if period.end == _month_end(period.end) else None
    if last_end is None:
        last = _add_months(period.end.replace(day=1), -1)
    else:
        last = period.end.replace(day=1)
    if first > last:  # no whole month inside: days only
        return None, [(period.start, period.end)]
    edges = []
    if period.start < first:
        edges.append((period.start, first - timedelta(days=1)))
    if period.end > _month_end(last):
        edges.append((_month_end(last) + timedelta(days=1), period.end))
    return (first, last), edges


async def grouped(
    scope: Scope, period: Period, *dims: str, measures=None, by_month: bool = False
) -> list[dict]:
    """Sums of cases, persons and amounts per measure and dimension value in the period:
    rows ``{measure, dim, value, n, persons, amount}`` (and ``month`` if ``by_month``), where
    ``dim`` is ``""`` (the total) or one of ``dims`` (see ``rollups.DIMS``).

    Whole months are read from the monthly rollup of the scope's own region (a few rows per
    measure and value); days at the edges of a custom range from the daily rollup."""
    wanted = ("", *dims)
    months, edges = _split(period)
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    if months is not None:
        columns: list[Column] = [CaseRollup.measure, CaseRollup.dim, CaseRollup.value]
        if by_month:
            columns.append(CaseRollup.month)
        query = CaseRollup.select(
            *columns,
            Sum(CaseRollup.n, alias="n"),
            Sum(CaseRollup.persons, alias="persons"),
            Sum(CaseRollup.amount, alias="amount"),
        ).where(
            CaseRollup.region_path == scope.path,
            CaseRollup.month >= months[0],
            CaseRollup.month <= months[1],
            CaseRollup.dim.is_in(list(wanted)),
        )
        if measures:
            query = query.where(CaseRollup.measure.is_in(list(measures)))
        for row in await query.group_by(*columns):
            key = (row["measure"], row["dim"], row["value"], row.get("month"))
            entry = sums[key]
            entry[0] += int(row["n"] or 0)
            entry[1] += int(row["persons"] or 0)
            entry[2] += _dec(row["amount"])
    for start, end in edges:
        for key, entry in (await _daily(scope, start, end, wanted, measures, by_month)).items():
            total = sums[key]
            total[0] += entry[0]
            total[1] += entry[1]
            total[2] += entry[2]
    out = []
    for (measure, dim, value, month), (n, persons, amount) in sums.items():
        if n or persons:
            row = {"measure": measure, "dim": dim, "value": value, "n": n}
            row.update(persons=persons, amount=amount)
            if by_month:
                row["month"] = month
            out.append(row)
    return out


async def _daily(scope: Scope, start: date, end: date, wanted, measures, by_month: bool):
    """The days ``start``–``end`` from the daily rollup, coarsened as the monthly one is."""
    names = ("day", "measure", "grid", "region_path", "category", "colour", "source", "level")
    columns = [getattr(CaseStat, c) for c in (*names, "days", "detail")]
    query = CaseStat.select(
        *columns,
        Sum(CaseStat.n, alias="n"),
        Sum(CaseStat.persons, alias="persons"),
        Sum(CaseStat.amount, alias="amount"),
    ).where(CaseStat.day >= start, CaseStat.day <= end)
    if scope.path:
        query = query.where(CaseStat.region_path.like(scope.path + "%"))
    if measures:
        query = query.where(CaseStat.measure.is_in(list(measures)))
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for row in await query.group_by(*columns):
        key = tuple(row[c] for c in (*names, "days", "detail"))
        for month, region, measure, dim, value in rollups.expand(key):
            if region != scope.path or dim not in wanted:
                continue
            entry = sums[(measure, dim, value, month if by_month else None)]
            entry[0] += int(row["n"] or 0)
            entry[1] += int(row["persons"] or 0)
            entry[2] += _dec(row["amount"])
    return sums


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
    assert lower is not None and upper is not None  # the upper rank is below ``total``
    return (lower + upper) / 2


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# The dashboard's breakdowns of received, settled and terminated; "child" is per region (or
# grid) one level down: keys are region codes, or ``grid:<id>`` for grids.
BREAKDOWNS = ("category", "colour", "source", "level", "child")


@dataclass
class CaseFigures:
    totals: dict[str, dict] = field(default_factory=dict)
    success_rate: float | None = None
    median_days: float | None = None
    by: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)
    regions: dict[str, dict[str, int]] = field(default_factory=dict)


async def case_figures(scope: Scope, period: Period, with_breakdowns: bool = True) -> CaseFigures:
    """Every case figure of the dashboard in one read of the rollups."""
    figures = CaseFigures()
    totals: dict[str, dict] = {
        m: {"n": 0, "persons": 0, "amount": Decimal(0)}
        for m in (*FLOW_MEASURES, *PREVENTION_MEASURES)
    }
    histogram: dict[int, int] = {}
    dims = ("days", "form", *(BREAKDOWNS if with_breakdowns else ()))
    wanted = (rollups.RECEIVED, rollups.SETTLED, rollups.TERMINATED)
    by: dict[str, dict[str, dict[str, int]]] = {d: {} for d in BREAKDOWNS}
    for row in await grouped(scope, period, *dims):
        measure, dim, value = row["measure"], row["dim"], row["value"]
        if dim == "":
            entry = totals.setdefault(measure, {"n": 0, "persons": 0, "amount": Decimal(0)})
            entry["n"] += row["n"]
            entry["persons"] += row["persons"]
            entry["amount"] += row["amount"]
        elif dim == "days":
            histogram[int(value)] = histogram.get(int(value), 0) + row["n"]
        elif dim == "form":
            if value:
                figures.forms[value] = figures.forms.get(value, 0) + row["n"]
        elif measure in wanted:
            bucket = by[dim].setdefault(value, {})
            bucket[measure] = bucket.get(measure, 0) + row["n"]
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
    figures.regions = by.pop("child")
    figures.by = by
    return figures


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
    region = scope.code if scope is not None else ""
    return _with_filters(_case_list(measure, period.start, period.end, region), filters)


def suggestion_link(period: Period, scope: Scope | None = None, **filters: Any) -> str:
    """The suggestion list that makes up a figure: received in the period, in the scope."""
    region = scope.code if scope is not None else ""
    return _with_filters(_suggestion_list(period.start, period.end, region), filters)


# A dashboard builds a few hundred links that differ only in their last filters: the part
# they share is encoded once per list, measure, period and region.
@lru_cache(maxsize=1024)
def _case_list(measure: str, start: date, end: date, region: str) -> str:
    event = measure if measure != "received" else ""
    return "/cases?" + _query(
        event=event, date_from=start.isoformat(), date_to=end.isoformat(), region=region
    )


@lru_cache(maxsize=256)
def _suggestion_list(start: date, end: date, region: str) -> str:
    return "/suggestions?" + _query(
        date_from=start.isoformat(), date_to=end.isoformat(), region=region
    )


def _query(**args: Any) -> str:
    return urlencode({k: v for k, v in args.items() if v not in ("", None)})


def _with_filters(base: str, filters: dict[str, Any]) -> str:
    extra = _query(**filters) if filters else ""
    return f"{base}&{extra}" if extra else base


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
    by_point: list[tuple[int, str, int]] = field(default_factory=list)  # (id, name, n)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_rating: dict[str, int] = field(default_factory=dict)
    by_reward: dict[str, int] = field(default_factory=dict)
    by_department: list[dict] = field(default_factory=list)

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.reopened, self.rated)


async def suggestion_figures(scope: Scope, period: Period) -> SuggestionFigures:
    """Of the suggestions received in the period: how they were routed, answered and rated.

    Sums over the figures the database keeps per received day and month for the scope's own
    region (``mediation.suggestions.stats``): whole months from the monthly rows, the days at
    the edges of a custom range from the daily ones, in one statement; then the names of the
    points and departments that have figures."""
    figures = SuggestionFigures()
    counts = await _suggestion_counts(scope, period)
    figures.received = counts.get(("", ""), 0)
    if not figures.received:
        return figures
    points: dict[int, int] = {}
    departments: dict[int, dict] = {}
    durations: dict[int, int] = {}
    for (dim, value), n in counts.items():
        if dim == "channel":
            figures.by_channel[value] = n
        elif dim == "outcome":
            figures.by_outcome[value] = n
        elif dim == "rating":
            figures.by_rating[value] = n
        elif dim == "reward":
            figures.by_reward[value] = n
        elif dim == "point":
            points[int(value)] = n
        elif dim == "reopened":
            figures.reopened = n
        elif dim == "reply_days":
            durations[int(value)] = n
        elif dim in ("routed", "replied", "adopted"):
            dept = departments.setdefault(int(value), {"routed": 0, "replied": 0, "adopted": 0})
            dept[dim] = n
    figures.routed = sum(d["routed"] for d in departments.values())
    figures.replied = sum(d["replied"] for d in departments.values())
    figures.adopted = figures.by_outcome.get("adopted", 0) + figures.by_outcome.get(
        "partly_adopted", 0
    )
    figures.rated = sum(figures.by_rating.values())
    figures.median_days_to_reply = _median(durations)
    if points:
        names = {
            r["id"]: r["name"]
            for r in await DirectReportPoint.select(
                DirectReportPoint.id, DirectReportPoint.name
            ).where(DirectReportPoint.id.is_in(list(points)))
        }
        figures.by_point = sorted(
            ((k, names.get(k, ""), v) for k, v in points.items()), key=lambda x: (-x[2], x[0])
        )
    if departments:
        names = {
            r["id"]: r["name"]
            for r in await Department.select(Department.id, Department.name).where(
                Department.id.is_in(list(departments))
            )
        }
        figures.by_department = sorted(
            ({"id": k, "name": names.get(k, ""), **v} for k, v in departments.items()),
            key=lambda d: (-d["routed"], d["id"]),
        )
    return figures


async def _suggestion_counts(scope: Scope, period: Period) -> dict[tuple[str, str], int]:
    """``{(dimension, value): n}`` of the suggestions received in the period in the scope,
    from the kept daily and monthly figures (zero sums left out)."""
    from mediation.suggestions.stats import DAY_TABLE, MONTH_TABLE

    months, edges = _split(period)
    parts: list[str] = []
    args: list[Any] = []
    if months is not None:
        parts.append(
            f"SELECT dim, value, n FROM {MONTH_TABLE} "
            "WHERE region_path = {} AND month >= {} AND month <= {}"
        )
        args.extend([scope.path, months[0], months[1]])
    for start, end in edges:
        parts.append(
            f"SELECT dim, value, n FROM {DAY_TABLE} "
            "WHERE region_path = {} AND day >= {} AND day <= {}"
        )
        args.extend([scope.path, start, end])
    sql = (
        "SELECT dim, value, sum(n) AS n FROM ("
        + " UNION ALL ".join(parts)
        + ") t GROUP BY dim, value HAVING sum(n) <> 0"
    )
    return {(r["dim"], r["value"]): int(r["n"]) for r in await Suggestion.raw(sql, *args)}


@dataclass(frozen=True, slots=True)
class Change:
    """Difference with the previous period, as numbers the template words."""

    delta: int | float | None  # None when either period has no figure
    pct: float | None  # delta as a share of the previous figure; None from zero


def change(now: int | float | None, before: int | float | None) -> Change:
    """Difference with the previous period, as numbers the template words."""
    if now is None or before is None:
        return Change(delta=None, pct=None)
    delta = now - before
    return Change(delta=delta, pct=(delta / before) if before else None)


def today_in_county() -> date:
    from mediation.clock import local_today

    return local_today()


async def party_ratings(scope: Scope, period: Period) -> dict[str, int]:
    """How the parties rated closed mediations in the period (一案一码), by rating.

    Counted directly: a rating is given once per party, so there are few rows to count.
    """
    from mediation.portal.tables import CaseRating

    start, end = _day_bounds(period)
    query = CaseRating.select(CaseRating.rating).where(
        CaseRating.rated_at >= start, CaseRating.rated_at < end
    )
    if scope.path:
        query = query.where(CaseRating.case.region_path.like(scope.path + "%"))
    counts: dict[str, int] = {}
    for row in await query:
        counts[row["rating"]] = counts.get(row["rating"], 0) + 1
    return counts


# ---------------------------------------------------------------- mediators


def _day_bounds(period: Period):
    """The period's county days as UTC-comparable instants: [start, end)."""
    from datetime import datetime, time, timedelta

    from mediation.clock import county_zone

    zone = county_zone()
    return (
        datetime.combine(period.start, time(0), zone),
        datetime.combine(period.end + timedelta(days=1), time(0), zone),
    )


async def _covers_every_case(scope: Scope) -> bool:
    """Whether the scope holds every case: everywhere, or the county when there is one."""
    if not scope.path:
        return True
    if scope.level != "county":
        return False
    return await Region.count().where(Region.level == "county") == 1


@dataclass
class MediatorRow:
    """One mediator's figures in a scope and period (see ``mediator_figures``)."""

    id: int
    name: str = ""
    assigned: int = 0
    settled: int = 0
    terminated: int = 0
    load: int = 0
    objections: int = 0
    median_days: float | None = None


async def mediator_figures(scope: Scope, period: Period) -> list[MediatorRow]:
    """Per mediator, over the cases inside the scope:

    - ``assigned``: cases the mediator was assigned to in the period (any assignment, even one
      later ended by an objection);
    - ``settled`` / ``terminated``: cases concluded in the period with the mediator still on
      them, and ``median_days`` from registration to conclusion of those cases;
    - ``load``: open cases the mediator is on now;
    - ``objections``: assignments made in the period that a party objected to (an objection is
      the only thing that ends an assignment: ``end_assignment_on_objection``).

    Whole months are read from the kept monthly rollup of the scope's own region
    (``mediator_rollup``: a row per mediator, measure and days of conclusion); the days at the
    edges of a custom range are counted from the rows (``_counted_mediator_tally``). Loads
    come from ``mediator_load`` when the scope holds every case (the county), and are counted
    over the scope's open cases otherwise.
    """
    from mediation.cases.services import OPEN_STATUSES
    from mediation.cases.tables import CaseMediator
    from mediation.grid.tables import Mediator
    from mediation.reports import mediator_rollup

    # A scope holding every case (the whole county) reads the rollup of all regions, "".
    whole = await _covers_every_case(scope)
    tally = _MediatorTally()
    months, edges = _split(period)
    if months is not None:
        region = "" if whole else scope.path
        for r in await mediator_rollup.month_sums(region, months[0], months[1]):
            tally.add(int(r["mediator"]), r["measure"], int(r["days"]), int(r["n"]))
    for first, last in edges:
        await _counted_mediator_tally(tally, scope, whole, first, last)
    rows: dict[int, MediatorRow] = {}

    def row(mediator: int) -> MediatorRow:
        return rows.setdefault(mediator, MediatorRow(mediator))

    for mediator, n in tally.assigned.items():
        row(mediator).assigned = n
    for mediator, n in tally.objections.items():
        row(mediator).objections = n
    for mediator, n in tally.settled.items():
        row(mediator).settled = n
    for mediator, n in tally.terminated.items():
        row(mediator).terminated = n
    for mediator, histogram in tally.durations.items():
        row(mediator).median_days = _median(histogram)
    if whole:
        # Every open case is in scope: the load the database keeps per mediator.
        from mediation.cases.mediators import _mediator_loads

        for mediator, n in (await _mediator_loads()).items():
            row(mediator).load = n
    else:
        loads = (
            await CaseMediator.select(CaseMediator.mediator, Count(CaseMediator.case, alias="n"))
            .where(
                CaseMediator.active.eq(True),
                CaseMediator.case.status.is_in(list(OPEN_STATUSES)),
                CaseMediator.case.region_path.like(scope.path + "%"),
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


@dataclass
class _MediatorTally:
    """Counts per mediator, added up over months of the rollup and edge days counted."""

    assigned: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    objections: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    settled: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    terminated: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    durations: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, mediator: int, measure: str, days: int, n: int) -> None:
        if measure == "assigned":
            self.assigned[mediator] += n
        elif measure == "objected":
            self.objections[mediator] += n
        elif measure in ("settled", "terminated"):
            target = self.settled if measure == "settled" else self.terminated
            target[mediator] += n
            histogram = self.durations[mediator]
            spent = max(days, 0)
            histogram[spent] = histogram.get(spent, 0) + n


async def _counted_mediator_tally(
    tally: _MediatorTally, scope: Scope, whole: bool, first: date, last: date
) -> None:
    """Add the days ``first``–``last`` counted from the rows: assignments by their time
    (indexed), concluded cases by their day (indexed) as a histogram of durations."""
    from mediation import db
    from mediation.cases.tables import CaseMediator

    start, end = _day_bounds(Period("custom", first, last))

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
        tally.add(r["mediator"], "assigned", -1, int(r["n"]))
    objected = await scoped(
        CaseMediator.select(CaseMediator.mediator, Count(alias="n")).where(
            *in_period, CaseMediator.active.eq(False)
        )
    ).group_by(CaseMediator.mediator)
    for r in objected:
        tally.add(r["mediator"], "objected", -1, int(r["n"]))
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
    args: list[Any] = [first, last]
    if not whole:
        sql += " AND c.region_path LIKE {}"
        args.append(scope.path + "%")
    sql += f" GROUP BY cm.mediator, c.outcome, {days}"
    for r in await CaseMediator.raw(sql, *args):
        tally.add(r["mediator"], r["outcome"], int(r["days"]), int(r["n"]))


# ---------------------------------------------------------------- clocks and agreements

# Each clock is judged over the cases that finished it in the period, on the day they did:
# (the measure whose list makes up the figure, the case column of the day it finished).
CLOCK_MEASURES = {
    "accept": ("accepted", "accepted_on"),
    "handle": ("mediating", "mediation_started_on"),
    "mediation": ("concluded", "concluded_on"),
}


async def ontime_figures(scope: Scope, period: Period) -> dict[str, dict[str, int]]:
    """Per clock of the case clocks (``mediation.cases.deadlines``): of the cases that finished
    the clock in the period (accepted; mediation started; settled or terminated), how many did
    so by the clock's due date: ``{clock: {"done": n, "on_time": n}}``.

    Each case records whether it finished each clock in time when it did (``cases.ontime``),
    so this is a sum over the rollups like the other case figures."""
    wanted = (*rollups.TIMED.values(), *rollups.ON_TIME.values())
    totals = dict.fromkeys(wanted, 0)
    for row in await grouped(scope, period, measures=wanted):
        if row["dim"] == "":
            totals[row["measure"]] += row["n"]
    return {
        clock: {"done": totals[rollups.TIMED[clock]], "on_time": totals[rollups.ON_TIME[clock]]}
        for clock in CLOCK_MEASURES
    }


async def performance_figures(scope: Scope, period: Period) -> dict[str, int]:
    """Agreement performance: the clauses of effective agreements due in the period (deadline
    within it and not after today), and how many of them have been performed.

    A sum over ``clause_stat`` (kept by database triggers: see the migration that created it),
    a row per deadline day and community."""
    from mediation.cases.tables import AgreementClause

    last = min(period.end, today_in_county())
    if last < period.start:
        return {"due": 0, "performed": 0}
    sql = (
        "SELECT coalesce(sum(due), 0) AS due, coalesce(sum(performed), 0) AS performed "
        "FROM clause_stat WHERE day >= {} AND day <= {}"
    )
    args: list[Any] = [period.start, last]
    if scope.path:
        sql += " AND region_path LIKE {}"
        args.append(scope.path + "%")
    row = (await AgreementClause.raw(sql, *args))[0]
    return {"due": int(row["due"]), "performed": int(row["performed"])}


@dataclass(frozen=True, slots=True)
class TrendMonth:
    """One month of the dashboard's trend: disputes received, settled and terminated."""

    month: date  # its first day
    received: int
    settled: int
    terminated: int


async def monthly_trend(scope: Scope, end: date, months: int = 12) -> list[TrendMonth]:
    """Received, settled and terminated per month, for the ``months`` months ending with the
    month of ``end``, oldest first."""
    from mediation.reports.periods import _add_months, _month_end

    first = _add_months(end.replace(day=1), -(months - 1))
    span = Period("custom", first, _month_end(end))
    wanted = (rollups.RECEIVED, rollups.SETTLED, rollups.TERMINATED)
    counts: dict[date, dict[str, int]] = {
        _add_months(first, i): {m: 0 for m in wanted} for i in range(months)
    }
    for row in await grouped(scope, span, measures=wanted, by_month=True):
        bucket = counts[row["month"]]
        bucket[row["measure"]] += row["n"]
    return [
        TrendMonth(
            month=month,
            received=values[rollups.RECEIVED],
            settled=values[rollups.SETTLED],
            terminated=values[rollups.TERMINATED],
        )
        for month, values in counts.items()
    ]
