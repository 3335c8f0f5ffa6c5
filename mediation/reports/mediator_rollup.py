"""Mediator figures per county month × region × mediator, kept in step with the cases.

``mediator_rollup`` (created by the reports migration of 2026-11-30T13:30) has a row per
(region, month, mediator, measure, days) with a count ``n``. The region is each level
containing the case's community (``""`` for all, the county, the town, the community), as in
``case_rollup``. Measures:

- ``assigned``: cases the mediator was assigned to in the month (a case counts once per
  month however many assignments it has there);
- ``objected``: assignments made in the month that are no longer active (an objection is the
  only thing that ends one);
- ``settled`` / ``terminated``: cases concluded in the month (their ``concluded_on``) with the
  mediator active on them, per days from registration to conclusion (``days``; -1 for the
  other measures), the histogram the median is taken from.

What a case adds depends on a few of its columns (``CASE_FIELDS``) and its assignments
(``contributions``). Every change moves the case's share inside the change's transaction:

- a case change (``update_case``, the sweep) through ``rollups.apply_change``/``apply_many``:
  when the region, the dates or the outcome changed, the case's assignments are read (the case
  row is locked by the update) and its share moves from the before-image to the after-image;
- an assignment added or ended (``cases.mediators``) inside ``assignments_changing``, which
  locks the case row first, reads the assignments before and after, and moves the difference.

The case row lock orders a case change and an assignment change of the same case, so each
sees the other's committed rows. The sums are ``n = n + delta`` upserts in sorted key order.

Direct writes that go around these (a bulk load, a data correction, the demo dating its
history back) are followed by ``rebuild``, which ``rollups.rebuild_rollups`` calls: on
PostgreSQL one set-based statement (seconds at a million cases), on SQLite the same sums
computed from the rows.

A mediator assigned to the same case twice in different months of a period counts in each:
the app never does that (a mediator already on the case, or one a party objected to, is not
offered again), so for the app's data the sum over months is the number of distinct cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from mediation.cases.tables import Case, CaseMediator
from mediation.clock import county_zone, local_date

ASSIGNED = "assigned"
OBJECTED = "objected"
SETTLED = "settled"
TERMINATED = "terminated"
OUTCOMES = (SETTLED, TERMINATED)

# The case columns a case's share depends on (besides its assignments).
CASE_FIELDS = ("id", "region_path", "registered_on", "concluded_on", "outcome")
_CASE_COLUMNS = tuple(getattr(Case, name) for name in CASE_FIELDS)

# (mediator, assigned_at, active)
Assignment = tuple[int, datetime, bool]
# (month, the case's community path, mediator, measure, days)
Key = tuple[date, str, int, str, int]
# (region_path, month, mediator, measure, days): a row of the table
RowKey = tuple[str, date, int, str, int]


def contributions(case: Mapping[str, Any] | None, assignments: Iterable[Assignment]) -> Counter:
    """What one case adds to the mediator figures, at its community: {Key: n}."""
    out: Counter = Counter()
    if case is None:
        return out
    path = case["region_path"] or ""
    assigned: set[tuple[date, int]] = set()
    active: set[int] = set()
    for mediator, at, is_active in assignments:
        month = local_date(at).replace(day=1)
        assigned.add((month, mediator))
        if is_active:
            active.add(mediator)
        else:
            out[(month, path, mediator, OBJECTED, -1)] += 1
    for month, mediator in assigned:
        out[(month, path, mediator, ASSIGNED, -1)] += 1
    concluded, outcome = case["concluded_on"], case["outcome"]
    if concluded is not None and outcome in OUTCOMES:
        days = max((concluded - case["registered_on"]).days, 0)
        for mediator in active:
            out[(concluded.replace(day=1), path, mediator, outcome, days)] += 1
    return out


def expand(net: Mapping[Key, int]) -> dict[RowKey, int]:
    """The table rows of the community-level changes ``net``: each at every region containing
    the community; the zero sums left out."""
    from mediation.reports.rollups import _ancestors

    rows: Counter = Counter()
    for (month, path, mediator, measure, days), n in net.items():
        if not n:
            continue
        for region, _child in _ancestors(path):
            rows[(region, month, mediator, measure, days)] += n
    return {k: n for k, n in rows.items() if n}


_UNNEST = (
    "INSERT INTO mediator_rollup (region_path, month, mediator, measure, days, n) "
    "SELECT p, mo, me, m, d, n FROM unnest("
    "{}::text[], {}::date[], {}::int[], {}::text[], {}::int[], {}::int[]"
    ") WITH ORDINALITY AS u(p, mo, me, m, d, n, i) ORDER BY i "
    "ON CONFLICT (region_path, month, mediator, measure, days) "
    "DO UPDATE SET n = mediator_rollup.n + excluded.n"
)


def _values_upsert(rows: int) -> str:
    values = ", ".join(["({}, {}, {}, {}, {}, {})"] * rows)
    return (
        "INSERT INTO mediator_rollup (region_path, month, mediator, measure, days, n) "
        f"VALUES {values} "
        "ON CONFLICT (region_path, month, mediator, measure, days) "
        "DO UPDATE SET n = mediator_rollup.n + excluded.n"
    )


async def _apply(net: Mapping[Key, int]) -> None:
    """Add ``net`` to the table, in key order (two transactions never take the same rows in
    opposite order): one statement on PostgreSQL, 100 rows a statement on SQLite."""
    from mediation import db

    rows = expand(net)
    if not rows:
        return
    keys = sorted(rows)
    if db.is_postgres():
        columns = [list(c) for c in zip(*keys, strict=True)]
        await CaseMediator.raw(_UNNEST, *columns, [rows[k] for k in keys])
        return
    for start in range(0, len(keys), 100):
        part = keys[start : start + 100]
        await CaseMediator.raw(_values_upsert(len(part)), *(v for k in part for v in (*k, rows[k])))


async def _assignments(case_ids: Iterable[int]) -> dict[int, list[Assignment]]:
    ids = sorted(set(case_ids))
    out: dict[int, list[Assignment]] = {i: [] for i in ids}
    if not ids:
        return out
    for r in await CaseMediator.select(
        CaseMediator.case, CaseMediator.mediator, CaseMediator.assigned_at, CaseMediator.active
    ).where(CaseMediator.case.is_in(ids)):
        out[r["case"]].append((r["mediator"], r["assigned_at"], bool(r["active"])))
    return out


def _moves(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    """Whether a case change moves the case's share: a case that did not exist before has no
    assignments yet (registration), so only a change of the columns it depends on does."""
    if before is None:
        return False
    if after is None:
        return True
    return any(before.get(f) != after.get(f) for f in CASE_FIELDS[1:])


async def apply_case_changes(
    changes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    """Move the share of cases that changed from ``before`` to ``after`` (None: not there),
    inside the transaction that changed them (after the case rows were updated)."""
    moved = [(b, a) for b, a in changes if _moves(b, a)]
    if not moved:
        return
    assignments = await _assignments((b or a or {})["id"] for b, a in moved)
    net: Counter = Counter()
    for before, after in moved:
        mine = assignments[(before or after or {})["id"]]
        net.update(contributions(after, mine))
        net.subtract(contributions(before, mine))
    await _apply(net)


async def _locked_case(case_id: int) -> dict[str, Any] | None:
    from mediation import db

    if db.is_postgres():
        # Waits for a change of the case in flight, and holds it off until this one commits.
        await Case.raw('SELECT id FROM "case" WHERE id = {} FOR UPDATE', case_id)
    return await Case.select(*_CASE_COLUMNS).where(Case.id == case_id).first()


@asynccontextmanager
async def assignments_changing(case_id: int) -> AsyncIterator[None]:
    """Around a change of a case's assignments, inside its write transaction: the case's share
    moves from its assignments before the block to those after it."""
    case = await _locked_case(case_id)
    before = (await _assignments([case_id]))[case_id]
    yield
    after = (await _assignments([case_id]))[case_id]
    net = contributions(case, after)
    net.subtract(contributions(case, before))
    await _apply(net)


# ---------------------------------------------------------------- reading


async def month_sums(region_path: str, first: date, last: date) -> list[dict[str, Any]]:
    """Per mediator, measure and days, the sums of the months ``first``–``last`` (first days)
    of one region: rows ``{mediator, measure, days, n}``."""
    rows = await CaseMediator.raw(
        "SELECT mediator, measure, days, sum(n) AS n FROM mediator_rollup "
        "WHERE region_path = {} AND month >= {} AND month <= {} "
        "GROUP BY mediator, measure, days",
        region_path,
        first,
        last,
    )
    return [r for r in rows if r["n"]]


# ---------------------------------------------------------------- rebuilding

# PostgreSQL: the sums from the rows in one statement, per community first, then at every
# region containing it (a small table of each community path's ancestors).
PG_BUILD = """
INSERT INTO mediator_rollup (region_path, month, mediator, measure, days, n)
WITH a AS (
    SELECT cm."case", cm.mediator, cm.active,
           date_trunc('month', cm.assigned_at AT TIME ZONE {zone})::date AS month
    FROM case_mediator cm
), community AS (
    SELECT coalesce(c.region_path, '') AS region_path, x.month, x.mediator,
           'assigned' AS measure, -1 AS days, count(*) AS n
    FROM (SELECT DISTINCT "case", mediator, month FROM a) x JOIN "case" c ON c.id = x."case"
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT coalesce(c.region_path, ''), a.month, a.mediator, 'objected', -1, count(*)
    FROM a JOIN "case" c ON c.id = a."case"
    WHERE NOT a.active
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT coalesce(c.region_path, ''),
           date_trunc('month', c.concluded_on::timestamp)::date, x.mediator, c.outcome,
           greatest(c.concluded_on - c.registered_on, 0), count(*)
    FROM (SELECT DISTINCT "case", mediator FROM case_mediator WHERE active) x
    JOIN "case" c ON c.id = x."case"
    WHERE c.concluded_on IS NOT NULL AND c.outcome IN ('settled', 'terminated')
    GROUP BY 1, 2, 3, 4, 5
), paths AS (
    SELECT DISTINCT region_path, array_remove(string_to_array(region_path, '/'), '') AS parts
    FROM community
), up AS (
    SELECT region_path, '' AS region FROM paths
    UNION ALL
    SELECT p.region_path, '/' || array_to_string(p.parts[1:i], '/') || '/'
    FROM paths p, generate_series(1, cardinality(p.parts)) AS i
)
SELECT up.region, community.month, community.mediator, community.measure, community.days,
       sum(community.n)
FROM community JOIN up ON up.region_path = community.region_path
GROUP BY 1, 2, 3, 4, 5
"""


def pg_build_sql(zone: str | None = None) -> str:
    """``PG_BUILD`` for the county's time zone (a zone name, quoted as a literal)."""
    name = zone or county_zone().key
    return PG_BUILD.replace("{zone}", "'" + name.replace("'", "''") + "'")


async def rebuild() -> int:
    """Replace the table with the sums recomputed from the cases and their assignments;
    returns the number of rows written. Call inside a transaction to swap atomically."""
    from mediation import db

    await CaseMediator.raw("DELETE FROM mediator_rollup")
    if db.is_postgres():
        await CaseMediator.raw(pg_build_sql())
        rows = await CaseMediator.raw("SELECT count(*) AS n FROM mediator_rollup")
        return int(rows[0]["n"])
    cases: dict[int, dict[str, Any]] = {}
    assignments: dict[int, list[Assignment]] = {}
    columns = [getattr(CaseMediator.case, name) for name in CASE_FIELDS[1:]]
    for r in await CaseMediator.select(
        CaseMediator.case,
        CaseMediator.mediator,
        CaseMediator.assigned_at,
        CaseMediator.active,
        *columns,
    ):
        case_id = r["case"]
        if case_id not in cases:
            cases[case_id] = {"id": case_id}
            cases[case_id].update({f: r[f"case.{f}"] for f in CASE_FIELDS[1:]})
        assignments.setdefault(case_id, []).append(
            (r["mediator"], r["assigned_at"], bool(r["active"]))
        )
    totals: Counter = Counter()
    for case_id, case in cases.items():
        totals.update(contributions(case, assignments[case_id]))
    await _apply(totals)
    return len(expand(totals))
