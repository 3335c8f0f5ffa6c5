"""Case figure rollups: what one case contributes to the figures, and keeping the sums in step.

Every figure the dashboard and the statutory report show is a sum over ``CaseStat`` rows. A
case contributes one row per thing that happened to it on a county day (``contributions``).
When a case changes, the change's transaction subtracts what the case contributed before and
adds what it contributes now (``apply_change``), so the sums are exact at every commit:

- The before-image is exact: case updates are conditional on the version the caller read
  (``cases.changes.update_case``), so when the update succeeds the row was exactly the dict
  the caller holds. The after-image is what the update returned.
- The sums are updated with ``n = n + delta`` upserts, row-locked on PostgreSQL and under the
  single writer lock on SQLite, inside the case's own transaction: two concurrent changes both
  land or, if one rolls back, so does its delta. Keys are applied in sorted order so two
  transactions never wait on each other's rows in opposite orders (no deadlock).

``rebuild_rollups`` recomputes everything from the cases (after a bulk load, after the demo, or
when the table is empty on a first sweep), and is what the tests compare the running sums with.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from mediation.cases.ontime import CLOCK_DAYS
from mediation.cases.tables import Case, CaseEvent
from mediation.clock import local_date
from mediation.reports.tables import CaseRollup, CaseStat

# Measures, each dated by a column of the case.
RECEIVED = "received"
ACCEPTED = "accepted"
DECLINED = "declined"
MEDIATING = "mediating"
SETTLED = "settled"
TERMINATED = "terminated"
CLOSED = "closed"
PREVENT_SUICIDE = "prevent_suicide"
PREVENT_CRIMINAL = "prevent_criminal"
PREVENT_PETITION = "prevent_petition"
PREVENT_FIGHT = "prevent_fight"
SCREENED = "screened"
PREVENTED = "prevented"
CONFIRMED = "confirmed"
# Per case clock: cases that finished it (timed_*) and those that did by its due date (ontime_*),
# dated by the day the clock finished.
TIMED = {clock: f"timed_{clock}" for clock in CLOCK_DAYS}
ON_TIME = {clock: f"ontime_{clock}" for clock in CLOCK_DAYS}

MEASURES = (
    RECEIVED,
    ACCEPTED,
    DECLINED,
    MEDIATING,
    SETTLED,
    TERMINATED,
    CLOSED,
    PREVENT_SUICIDE,
    PREVENT_CRIMINAL,
    PREVENT_PETITION,
    PREVENT_FIGHT,
    SCREENED,
    PREVENTED,
    CONFIRMED,
    *TIMED.values(),
    *ON_TIME.values(),
)

# The case columns a contribution depends on (and nothing else).
STAT_COLUMNS = (
    Case.id,
    Case.grid,
    Case.region_path,
    Case.category,
    Case.colour,
    Case.source,
    Case.level,
    Case.status,
    Case.amount,
    Case.registered_on,
    Case.accepted_on,
    Case.mediation_started_on,
    Case.closed_on,
    Case.concluded_on,
    Case.outcome,
    Case.agreement_form,
    Case.prevented_suicide,
    Case.prevented_criminal_persons,
    Case.prevented_petition_persons,
    Case.prevented_fight_persons,
    Case.found_by_screening,
    Case.prevented,
    Case.judicially_confirmed,
    Case.accept_on_time,
    Case.handle_on_time,
    Case.mediation_on_time,
)
STAT_FIELDS = tuple(c._meta.name for c in STAT_COLUMNS)

# (day, measure, grid, region_path, category, colour, source, level, days, detail)
Key = tuple[date, str, int, str, str, str, str, str, int, str]


def contributions(case: dict[str, Any]) -> list[tuple[Key, int, int, Decimal]]:
    """What one case adds to the figures: (key, cases, persons, amount) per measure."""
    amount = Decimal(case.get("amount") or 0)
    base = (
        int(case["grid"]),
        case["region_path"] or "",
        case["category"] or "",
        case["colour"] or "",
        case["source"] or "",
        case["level"] or "",
    )
    out: list[tuple[Key, int, int, Decimal]] = []

    def add(day: date | None, measure: str, days: int = -1, detail: str = "", persons: int = 0):
        if day is not None:
            out.append(((day, measure, *base, days, detail), 1, persons, amount))

    registered = case["registered_on"]
    add(registered, RECEIVED)
    add(case["accepted_on"], ACCEPTED)
    if case["status"] == "declined":
        add(case["closed_on"], DECLINED)
    add(case["mediation_started_on"], MEDIATING)
    concluded = case["concluded_on"]
    if concluded is not None and case["outcome"] in (SETTLED, TERMINATED):
        days = max((concluded - registered).days, 0)
        detail = case["agreement_form"] or "" if case["outcome"] == SETTLED else ""
        add(concluded, case["outcome"], days, detail)
        if case["prevented_suicide"]:
            add(concluded, PREVENT_SUICIDE)
        for measure, persons in (
            (PREVENT_CRIMINAL, case["prevented_criminal_persons"]),
            (PREVENT_PETITION, case["prevented_petition_persons"]),
            (PREVENT_FIGHT, case["prevented_fight_persons"]),
        ):
            if persons:
                add(concluded, measure, persons=int(persons))
        if case["found_by_screening"]:
            add(concluded, SCREENED)
        if case["prevented"]:
            add(concluded, PREVENTED)
        if case["judicially_confirmed"] and case["outcome"] == SETTLED:
            add(concluded, CONFIRMED)
    if case["status"] == "closed":
        add(case["closed_on"], CLOSED)
    for clock, column in CLOCK_DAYS.items():
        on_time = case[f"{clock}_on_time"]
        if on_time is not None:
            add(case[column], TIMED[clock])
            if on_time:
                add(case[column], ON_TIME[clock])
    return out


# The coarse monthly rollup (``CaseRollup``): which single dimensions each measure is split
# by, besides its total (dimension ""). "child" is the region (or grid) one level below.
SPLIT = ("category", "colour", "source", "level", "child")
DIMS: dict[str, tuple[str, ...]] = {m: ("category",) for m in MEASURES}
DIMS[RECEIVED] = SPLIT
DIMS[SETTLED] = (*SPLIT, "form", "category_form", "days")
DIMS[TERMINATED] = (*SPLIT, "days")

# (month, region_path, measure, dim, value)
RollupKey = tuple[date, str, str, str, str]


def ancestors(path: str) -> list[tuple[str, str | None]]:
    """Every region containing ``path`` — the root ``""`` and each path prefix — with the code
    of the next region down (None at ``path`` itself: there the next level is the grid)."""
    parts = [p for p in path.split("/") if p]
    out: list[tuple[str, str | None]] = [("", parts[0] if parts else None)]
    for i in range(1, len(parts) + 1):
        out.append(("/" + "/".join(parts[:i]) + "/", parts[i] if i < len(parts) else None))
    return out


def expand(key: Key) -> list[RollupKey]:
    """The ``CaseRollup`` rows one ``CaseStat`` row adds to (the same n, persons, amount)."""
    day, measure, grid, path, category, colour, source, level, days, detail = key
    month = day.replace(day=1)
    values = {"category": category, "colour": colour, "source": source, "level": level}
    values["form"] = detail
    values["category_form"] = f"{category}|{detail}"
    values["days"] = str(days)
    out: list[RollupKey] = []
    for region, child in ancestors(path):
        out.append((month, region, measure, "", ""))
        for dim in DIMS.get(measure, ("category",)):
            value = (child or f"grid:{grid}") if dim == "child" else values[dim]
            out.append((month, region, measure, dim, value))
    return out


@lru_cache(maxsize=4096)
def _ancestors(path: str) -> tuple[tuple[str, str | None], ...]:
    return tuple(ancestors(path))


def _zero() -> list:
    return [0, 0, Decimal(0)]


def rollup_net(net: dict[Key, list]) -> dict[RollupKey, list]:
    """The ``CaseRollup`` changes of the ``CaseStat`` changes ``net``: what ``expand`` gives
    for each key, summed, the zero sums left out.

    In two steps, as the generator's SQL does: first per community (the grid as child), where
    the before and after of a change mostly cancel (a case moving up a level changes only
    its level rows), then what is left at every region containing the community."""
    community: dict[tuple[date, str, str, str, str], list] = defaultdict(_zero)
    for key, (n, persons, amount) in net.items():
        day, measure, grid, path, category, colour, source, level, days, detail = key
        month = day.replace(day=1)
        values = {
            "": "",
            "category": category,
            "colour": colour,
            "source": source,
            "level": level,
            "child": f"grid:{grid}",
            "form": detail,
            "category_form": f"{category}|{detail}",
            "days": str(days),
        }
        for dim in ("", *DIMS.get(measure, ("category",))):
            entry = community[(month, path, measure, dim, values[dim])]
            entry[0] += n
            entry[1] += persons
            entry[2] += amount
    coarse: dict[RollupKey, list] = defaultdict(_zero)
    for (month, path, measure, dim, value), (n, persons, amount) in community.items():
        if not (n or persons or amount):
            continue
        split_by_child = "child" in DIMS.get(measure, ())
        for region, child in _ancestors(path):
            keys: list[RollupKey] = []
            if dim != "child" or child is None:
                keys.append((month, region, measure, dim, value))
            if dim == "" and child is not None and split_by_child:
                keys.append((month, region, measure, "child", child))
            for rkey in keys:
                entry = coarse[rkey]
                entry[0] += n
                entry[1] += persons
                entry[2] += amount
    return {k: v for k, v in coarse.items() if v[0] or v[1] or v[2]}


def rollup_key_text(key: RollupKey) -> str:
    month, region, measure, dim, value = key
    return f"{month.isoformat()}|{region}|{measure}|{dim}|{value}"


def key_text(key: Key) -> str:
    day, measure, grid, _path, category, colour, source, level, days, detail = key
    return (
        f"{day.isoformat()}|{measure}|{grid}|{category}|{colour}|{source}|{level}|{days}|{detail}"
    )


def _net(
    removed: Iterable[tuple[Key, int, int, Decimal]], added: Iterable[tuple[Key, int, int, Decimal]]
) -> dict[Key, list]:
    net: dict[Key, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for key, n, persons, amount in removed:
        entry = net[key]
        entry[0] -= n
        entry[1] -= persons
        entry[2] -= amount
    for key, n, persons, amount in added:
        entry = net[key]
        entry[0] += n
        entry[1] += persons
        entry[2] += amount
    return {k: v for k, v in net.items() if v[0] or v[1] or v[2]}


def _upsert(rows: int) -> str:
    values = ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * rows)
    return (
        'INSERT INTO "case_stat" ("key", "day", "measure", "grid", "region_path", "category", '
        '"colour", "source", "level", "days", "detail", "n", "persons", "amount") '
        f"VALUES {values} "
        'ON CONFLICT ("key") DO UPDATE SET "n" = "case_stat"."n" + excluded."n", '
        '"persons" = "case_stat"."persons" + excluded."persons", '
        '"amount" = "case_stat"."amount" + excluded."amount"'
    )


def _rollup_upsert(rows: int) -> str:
    values = ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {})"] * rows)
    return (
        'INSERT INTO "case_rollup" ("key", "month", "region_path", "measure", "dim", "value", '
        '"n", "persons", "amount") '
        f"VALUES {values} "
        'ON CONFLICT ("key") DO UPDATE SET "n" = "case_rollup"."n" + excluded."n", '
        '"persons" = "case_rollup"."persons" + excluded."persons", '
        '"amount" = "case_rollup"."amount" + excluded."amount"'
    )


# PostgreSQL: one upsert per table for a whole batch of keys, from arrays, in the order given.
_STAT_UNNEST = (
    'INSERT INTO "case_stat" ("key", "day", "measure", "grid", "region_path", "category", '
    '"colour", "source", "level", "days", "detail", "n", "persons", "amount") '
    "SELECT k, d, m, g, p, c, co, s, l, ds, dt, n, pe, a FROM unnest("
    "{}::text[], {}::date[], {}::text[], {}::int[], {}::text[], {}::text[], {}::text[], "
    "{}::text[], {}::text[], {}::int[], {}::text[], {}::int[], {}::int[], {}::numeric[]"
    ") WITH ORDINALITY AS u(k, d, m, g, p, c, co, s, l, ds, dt, n, pe, a, i) ORDER BY i "
    'ON CONFLICT ("key") DO UPDATE SET "n" = "case_stat"."n" + excluded."n", '
    '"persons" = "case_stat"."persons" + excluded."persons", '
    '"amount" = "case_stat"."amount" + excluded."amount"'
)
_ROLLUP_UNNEST = (
    'INSERT INTO "case_rollup" ("key", "month", "region_path", "measure", "dim", "value", '
    '"n", "persons", "amount") '
    "SELECT k, mo, p, m, d, v, n, pe, a FROM unnest("
    "{}::text[], {}::date[], {}::text[], {}::text[], {}::text[], {}::text[], {}::int[], "
    "{}::int[], {}::numeric[]) WITH ORDINALITY AS u(k, mo, p, m, d, v, n, pe, a, i) ORDER BY i "
    'ON CONFLICT ("key") DO UPDATE SET "n" = "case_rollup"."n" + excluded."n", '
    '"persons" = "case_rollup"."persons" + excluded."persons", '
    '"amount" = "case_rollup"."amount" + excluded."amount"'
)


async def _apply(net: dict[Key, list], batch: int | None = None) -> None:
    """Upsert the net changes in key order (so that two transactions never take the same
    rows in opposite order): first the daily rows, then the monthly ones. PostgreSQL: one
    statement per table for up to ``batch`` (10,000) keys, from arrays; SQLite: ``batch``
    (100) keys per statement."""
    await _upsert_daily(net, batch)
    await _upsert_monthly(rollup_net(net), batch)


def _batch(batch: int | None) -> tuple[bool, int]:
    from mediation import db

    postgres = db.is_postgres()
    return postgres, batch or (10_000 if postgres else 100)


async def _upsert_daily(net: dict[Key, list], batch: int | None = None) -> None:
    """Add ``net`` to ``CaseStat``, in key order."""
    postgres, batch = _batch(batch)
    keys = sorted(net, key=key_text)
    for start in range(0, len(keys), batch):
        part = keys[start : start + batch]
        # key, day, measure, grid, path, category, colour, source, level, days, detail, sums
        rows = [(key_text(key), *key, *net[key]) for key in part]
        if postgres:
            await CaseStat.raw(_STAT_UNNEST, *(list(c) for c in zip(*rows, strict=True)))
        else:
            await CaseStat.raw(_upsert(len(rows)), *(v for row in rows for v in row))


async def _upsert_monthly(coarse: dict[RollupKey, list], batch: int | None = None) -> None:
    """Add ``coarse`` to ``CaseRollup``, in key order."""
    postgres, batch = _batch(batch)
    rkeys = sorted(coarse, key=rollup_key_text)
    for start in range(0, len(rkeys), batch):
        rpart = rkeys[start : start + batch]
        rrows = [(rollup_key_text(rkey), *rkey, *coarse[rkey]) for rkey in rpart]
        if postgres:
            await CaseRollup.raw(_ROLLUP_UNNEST, *(list(c) for c in zip(*rrows, strict=True)))
        else:
            await CaseRollup.raw(_rollup_upsert(len(rrows)), *(v for row in rrows for v in row))


async def apply_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Move a case's contribution from ``before`` to ``after`` (None: not there). Call inside
    the transaction that changed the case."""
    from mediation.reports import mediator_rollup

    removed = contributions(before) if before else []
    added = contributions(after) if after else []
    net = _net(removed, added)
    if net:
        await _apply(net)
    await mediator_rollup.apply_case_changes([(before, after)])


async def apply_many(changes: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """``apply_change`` for many cases at once: the net change in a few statements."""
    from mediation.reports import mediator_rollup

    removed: list[tuple[Key, int, int, Decimal]] = []
    added: list[tuple[Key, int, int, Decimal]] = []
    pairs = list(changes)
    for before, after in pairs:
        removed.extend(contributions(before))
        added.extend(contributions(after))
    net = _net(removed, added)
    if net:
        await _apply(net)
    await mediator_rollup.apply_case_changes(pairs)


async def stat_row(case_id: int) -> dict[str, Any] | None:
    return await Case.select(*STAT_COLUMNS).where(Case.id == case_id).first()


async def rebuild_rollups(batch: int = 5000) -> int:
    """Recompute every rollup row from the cases (judging their clocks again first: see
    ``cases.ontime``), the mediator figures' rollup too (``mediator_rollup.rebuild``);
    returns the number of daily rows written.

    Public on purpose: call it after loading cases in bulk (``COPY``, an import, a restore)
    that went around ``apply_change``, and run ``backfill_conclusions`` first if the loaded
    cases have no ``concluded_on``/``outcome``. It reads the cases in id order, ``batch`` at a
    time, and replaces the whole table in one pass (readers see the old sums until then only
    if the caller wraps it in a transaction). It recounts the suggestion figures as well
    (``suggestions.stats.rebuild_suggestion_stats``)."""
    from mediation.cases.ontime import refresh_on_time

    await refresh_on_time()
    totals: dict[Key, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    last_id = 0
    while True:
        rows = (
            await Case.select(*STAT_COLUMNS).where(Case.id > last_id).order_by(Case.id).limit(batch)
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        for row in rows:
            for key, n, persons, amount in contributions(row):
                entry = totals[key]
                entry[0] += n
                entry[1] += persons
                entry[2] += amount
    # Written as the running sums are (multi-row upserts into the emptied tables, arrays on
    # PostgreSQL): building a Piccolo object per row was most of a rebuild's time.
    await CaseStat.delete(force=True)
    await _upsert_daily(totals)
    await _write_monthly(rollup_net(totals))
    from mediation.reports import mediator_rollup

    await mediator_rollup.rebuild()
    # The suggestion figures, kept by triggers, are recounted too (set-based, seconds at two
    # hundred thousand suggestions): a bulk load may have gone around the triggers as well.
    from mediation.suggestions.stats import rebuild_suggestion_stats

    await rebuild_suggestion_stats()
    return len(totals)


async def _write_monthly(coarse: dict[RollupKey, list]) -> int:
    """Replace ``CaseRollup`` with the monthly sums ``coarse``."""
    await CaseRollup.delete(force=True)
    rows = {k: v for k, v in coarse.items() if v[0] or v[1] or v[2]}
    await _upsert_monthly(rows)
    return len(rows)


async def rebuild_monthly(batch: int = 20000) -> int:
    """Recompute ``CaseRollup`` from ``CaseStat`` (a database whose daily sums predate the
    monthly ones); returns the number of rows written. Reads the daily rows ``batch`` at a
    time and keeps only the monthly sums."""
    coarse: dict[RollupKey, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    last_id = 0
    while True:
        rows = (
            await CaseStat.select().where(CaseStat.id > last_id).order_by(CaseStat.id).limit(batch)
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        for r in rows:
            key: Key = (
                r["day"],
                r["measure"],
                r["grid"],
                r["region_path"],
                r["category"],
                r["colour"],
                r["source"],
                r["level"],
                r["days"],
                r["detail"],
            )
            amount = Decimal(str(r["amount"]))
            for rkey in expand(key):
                entry = coarse[rkey]
                entry[0] += r["n"]
                entry[1] += r["persons"]
                entry[2] += amount
    return await _write_monthly(coarse)


async def backfill_conclusions(redo: bool = False) -> int:
    """Cases concluded before their ``outcome`` was recorded: take the day and the outcome
    from their settle/terminate event (``redo``: for every case, as after the demo
    dates its events back). Returns how many cases were filled in."""
    query = CaseEvent.select(
        CaseEvent.case, CaseEvent.at, CaseEvent.to_status, CaseEvent.changes
    ).where(CaseEvent.to_status.is_in([SETTLED, TERMINATED]))
    if not redo:
        query = query.where(CaseEvent.case.outcome == "")
    events = await query.order_by(CaseEvent.id)
    latest: dict[int, dict] = {}
    for event in events:
        latest[event["case"]] = event  # the last conclusion counts (re-mediation)
    for case_id, event in latest.items():
        changes = event["changes"] or {}
        if isinstance(changes, str):
            changes = json.loads(changes or "{}")
        form = (changes.get("agreement_form") or [None, ""])[-1] or ""
        await Case.update(
            {
                Case.concluded_on: local_date(event["at"]),
                Case.outcome: event["to_status"],
                Case.agreement_form: form if event["to_status"] == SETTLED else "",
            }
        ).where(Case.id == case_id)
    return len(latest)


async def ensure_rollups() -> bool:
    """First sweep after the reports app arrives: fill in conclusions and build the sums once
    (the monthly sums alone when the daily ones are there already).

    All or nothing, in one transaction: a server killed half-way leaves the tables as they
    were, so the next start builds them again; on PostgreSQL two servers starting together
    take turns (a transaction-scoped advisory lock) and the second finds the work done."""
    from mediation import db

    if await CaseStat.exists() and await CaseRollup.exists():
        return False
    async with db.write_transaction():
        if db.is_postgres():
            await CaseRollup.raw("SELECT pg_advisory_xact_lock({})", _ENSURE_LOCK_KEY)
        if await CaseStat.exists():
            if await CaseRollup.exists():
                return False
            await rebuild_monthly()
            return True
        if not await Case.exists():
            return False
        await backfill_conclusions()
        await rebuild_rollups()
        return True


# Any fixed number unlikely to be used by another application on the same database.
_ENSURE_LOCK_KEY = 7_380_214_551
