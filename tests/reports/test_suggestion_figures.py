"""The suggestion figures of the dashboard equal a direct count over the demo's suggestions,
for the county, a town and a month with none."""

from __future__ import annotations

from datetime import date

import pytest

from mediation.clock import local_date
from mediation.grid.tables import Region
from mediation.reports import services as figures
from mediation.reports.periods import Period
from mediation.suggestions.tables import Suggestion

pytestmark = pytest.mark.anyio

YEAR = Period("custom", date(2025, 1, 1), date(2026, 12, 31))


async def _direct(path: str, period: Period) -> dict:
    rows = [
        r
        for r in await Suggestion.select()
        if period.start <= r["received_on"] <= period.end and r["region_path"].startswith(path)
    ]
    routed = [r for r in rows if r["department"] is not None]
    replied = [r for r in routed if r["replied_at"] is not None]

    def by(column: str) -> dict:
        out: dict = {}
        for r in rows:
            if r[column]:
                out[r[column]] = out.get(r[column], 0) + 1
        return out

    days = sorted((local_date(r["replied_at"]) - r["received_on"]).days for r in replied)
    median = None
    if days:
        median = (days[(len(days) - 1) // 2] + days[len(days) // 2]) / 2
    departments: dict = {}
    for r in routed:
        d = departments.setdefault(r["department"], {"routed": 0, "replied": 0, "adopted": 0})
        d["routed"] += 1
        d["replied"] += r["replied_at"] is not None
        d["adopted"] += r["outcome"] in ("adopted", "partly_adopted")
    return {
        "received": len(rows),
        "routed": len(routed),
        "replied": len(replied),
        "adopted": sum(1 for r in rows if r["outcome"] in ("adopted", "partly_adopted")),
        "rated": sum(1 for r in rows if r["rating"]),
        "reopened": sum(1 for r in rows if r["times_reopened"] > 0),
        "median": median,
        "channel": by("channel"),
        "outcome": by("outcome"),
        "rating": by("rating"),
        "reward": by("reward_tier"),
        "point": by("point"),
        "departments": departments,
    }


def _shown(got: figures.SuggestionFigures) -> dict:
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
        "point": {k: n for k, _name, n in got.by_point},
        "departments": {
            d["id"]: {k: d[k] for k in ("routed", "replied", "adopted")} for d in got.by_department
        },
    }


async def test_suggestion_figures_equal_a_direct_count(database):
    county = figures.Scope("", "", "", "")
    got = await figures.suggestion_figures(county, YEAR)
    direct = await _direct("", YEAR)
    assert direct["received"] > 10 and direct["replied"] > 0 and direct["channel"]
    assert _shown(got) == direct
    town = await Region.select(Region.path).where(Region.code == "330482001").first()
    path = town["path"]  # 当湖街道
    scope = figures.Scope(path, "", "", "town")
    in_town = _shown(await figures.suggestion_figures(scope, YEAR))
    assert in_town == await _direct(path, YEAR)
    assert 0 < in_town["received"] < direct["received"]
    empty = Period("custom", date(2040, 1, 1), date(2040, 1, 31))
    assert _shown(await figures.suggestion_figures(county, empty)) == await _direct("", empty)
