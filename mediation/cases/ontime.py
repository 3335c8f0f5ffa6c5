"""Whether each case clock finished by its due date, kept on the case as a fact.

A clock finishes on the day its column gives (``CLOCK_DAYS``: accepted, mediation
started, settled or terminated). The due date needs the deadline policy and the working-day
calendar, so it is judged here when a case changes (``update_case``) and kept in the case's
``*_on_time`` columns; the dashboard then sums them from the rollups instead of computing every
case's clocks on each view. ``refresh_on_time`` judges every case again (after a bulk load or a
migration).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mediation.cases import deadlines
from mediation.cases.tables import Case
from mediation.cases.workdays import HolidayCalendar

CLOCK_DAYS = {
    "accept": "accepted_on",
    "handle": "mediation_started_on",
    "mediation": "concluded_on",
}
FIELDS = tuple(f"{clock}_on_time" for clock in CLOCK_DAYS)
# The case columns the judgement depends on.
INPUT_COLUMNS = (
    Case.id,
    Case.registered_on,
    Case.category,
    Case.colour,
    Case.level,
    Case.accepted_on,
    Case.mediation_started_on,
    Case.extension_days,
    Case.concluded_on,
    Case.outcome,
    Case.accept_on_time,
    Case.handle_on_time,
    Case.mediation_on_time,
)


def finished_on(clock: str, case: dict[str, Any]):
    """The day the case finished the clock, or None."""
    if clock == "mediation" and case["outcome"] not in ("settled", "terminated"):
        return None
    return case[CLOCK_DAYS[clock]]


def clock_key(case: dict[str, Any]) -> tuple:
    """What a case's clocks depend on: cases with the same key share their clocks (one policy
    and one calendar per pass)."""
    return (
        case["registered_on"],
        case["category"],
        case["colour"],
        case["level"],
        case["mediation_started_on"],
        case["extension_days"],
        case["accepted_on"],
    )


def case_clocks(
    case: dict[str, Any], policy: deadlines.Policy, calendar: HolidayCalendar
) -> list[deadlines.Clock]:
    """The case's clocks under this policy and calendar (raises ``deadlines.DeadlineError``)."""
    return deadlines.compute_clocks(
        policy,
        case["registered_on"],
        case["category"],
        case["colour"],
        case["level"],
        case["mediation_started_on"],
        case["extension_days"] or 0,
        accepted_on=case["accepted_on"],
        calendar=calendar,
    )


def judge(
    case: dict[str, Any],
    policy: deadlines.Policy,
    calendar: HolidayCalendar,
    memo: dict | None = None,
) -> dict[str, bool | None]:
    """``{accept_on_time: …, handle_on_time: …, mediation_on_time: …}`` for the case as it is:
    None for a clock it has not finished (or does not have), else whether it finished by the
    clock's due date."""
    out: dict[str, bool | None] = dict.fromkeys(FIELDS)
    done = {clock: finished_on(clock, case) for clock in CLOCK_DAYS}
    if not any(done.values()):
        return out
    key = clock_key(case)
    clocks = memo.get(key) if memo is not None else None
    if clocks is None:
        try:
            clocks = case_clocks(case, policy, calendar)
        except deadlines.DeadlineError:
            clocks = []
        if memo is not None:
            memo[key] = clocks
    for clock in clocks:
        day = done.get(clock.name)
        # A due date the policy cannot give leaves the judgement open (None).
        if day is not None and clock.due is not None:
            out[f"{clock.name}_on_time"] = day <= clock.due
    return out


async def judged(case: dict[str, Any]) -> dict[str, bool | None]:
    """``judge`` with the deadline policy and calendar in force."""
    from mediation.cases.holidays import refresh_calendar
    from mediation.cases.policy_store import current_policy

    if not any(finished_on(clock, case) for clock in CLOCK_DAYS):
        return dict.fromkeys(FIELDS)
    return judge(case, await current_policy(), await refresh_calendar())


async def refresh_on_time(batch: int = 5000, move_rollups: bool = False) -> int:
    """Judge every case again and store what changed; returns how many cases changed.

    ``move_rollups``: also move the changed cases' share of the figures (when the rollups are
    there and are kept, as in a migration); otherwise the caller rebuilds them."""
    from mediation.cases.holidays import refresh_calendar
    from mediation.cases.policy_store import current_policy
    from mediation.reports import rollups

    policy = await current_policy()
    calendar = await refresh_calendar()
    memo: dict = {}
    changed = 0
    last_id = 0
    columns = tuple({c._meta.name: c for c in (*rollups.STAT_COLUMNS, *INPUT_COLUMNS)}.values())
    while True:
        rows = await Case.select(*columns).where(Case.id > last_id).order_by(Case.id).limit(batch)
        if not rows:
            break
        last_id = rows[-1]["id"]
        groups: dict[tuple, list[int]] = defaultdict(list)
        moves = []
        for row in rows:
            facts = judge(row, policy, calendar, memo)
            if any(row[f] != facts[f] for f in FIELDS):
                groups[tuple(facts[f] for f in FIELDS)].append(row["id"])
                moves.append((row, {**row, **facts}))
        for values, ids in groups.items():
            await Case.update(
                {getattr(Case, f): v for f, v in zip(FIELDS, values, strict=True)}
            ).where(Case.id.is_in(ids))
        if move_rollups and moves:
            await rollups.apply_many(moves)
        changed += len(moves)
    return changed
