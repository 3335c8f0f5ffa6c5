"""The suggestion figures counted directly from the suggestions: the reference the kept
figures (``mediation.suggestions.stats``, read by ``reports.services.suggestion_figures``) are
compared with in tests/reports/test_suggestion_stats.py, and timed against them by
benchmarks/bench_reports.py."""

from __future__ import annotations

from typing import Any

from mediation.clock import local_date
from mediation.grid.tables import Department
from mediation.reports.periods import Period
from mediation.reports.services import Scope, SuggestionFigures, _median
from mediation.suggestions.tables import DirectReportPoint, Suggestion


def _suggestion_scope(query, scope: Scope, period: Period):
    query = query.where(
        Suggestion.received_on >= period.start, Suggestion.received_on <= period.end
    )
    if scope.path:
        query = query.where(Suggestion.region_path.like(scope.path + "%"))
    return query


async def counted_suggestion_figures(scope: Scope, period: Period) -> SuggestionFigures:
    """``suggestion_figures`` counted from the suggestions themselves: one read of the
    period's suggestions (an indexed date range, a few columns), counted here. What the kept
    figures are checked against (the dashboard read it this way before the figures were
    kept)."""
    figures = SuggestionFigures()
    rows = await _suggestion_scope(
        Suggestion.select(
            Suggestion.channel,
            Suggestion.point,
            Suggestion.department,
            Suggestion.outcome,
            Suggestion.rating,
            Suggestion.reward_tier,
            Suggestion.times_reopened,
            Suggestion.received_on,
            Suggestion.replied_at,
        ),
        scope,
        period,
    )
    if not rows:
        return figures
    figures.received = len(rows)
    points: dict[int, int] = {}
    departments: dict[int, dict] = {}
    durations: dict[int, int] = {}

    def tally(counts: dict, key: Any) -> None:
        if key:
            counts[key] = counts.get(key, 0) + 1

    for row in rows:
        figures.by_channel[row["channel"]] = figures.by_channel.get(row["channel"], 0) + 1
        tally(figures.by_outcome, row["outcome"])
        tally(figures.by_rating, row["rating"])
        tally(figures.by_reward, row["reward_tier"])
        tally(points, row["point"])
        if (row["times_reopened"] or 0) > 0:
            figures.reopened += 1
        if row["department"] is None:
            continue
        dept = departments.setdefault(row["department"], {"routed": 0, "replied": 0, "adopted": 0})
        dept["routed"] += 1
        figures.routed += 1
        if row["replied_at"] is not None:
            dept["replied"] += 1
            figures.replied += 1
            days = (local_date(row["replied_at"]) - row["received_on"]).days
            durations[days] = durations.get(days, 0) + 1
        if row["outcome"] in ("adopted", "partly_adopted"):
            dept["adopted"] += 1
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
            ((k, names.get(k, ""), v) for k, v in points.items()), key=lambda x: -x[2]
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
            key=lambda d: -d["routed"],
        )
    return figures
