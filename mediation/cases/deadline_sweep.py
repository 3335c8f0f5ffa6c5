"""The daily sweep: cases past a deadline are marked overdue and escalated.

Set-based: one read of the open cases (only the columns the clocks and the figures need), the
clocks computed in memory with one policy and one calendar for the pass (working-day sums are
memoised on the calendar), then a few statements per kind of change, whatever the number of
cases: an UPDATE per (version, level) group, one INSERT of the timeline events, one of the
notifications, one upsert of the statistics per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from piccolo.utils.encoding import dump_json

from mediation import db
from mediation.cases import workflow
from mediation.cases.common import OPEN_STATUSES, today
from mediation.cases.events import centre_target, notify_many
from mediation.cases.holidays import refresh_calendar
from mediation.cases.policy_store import current_policy
from mediation.cases.queries import ClockStanding, overdue_clocks
from mediation.cases.tables import Case, CaseEvent
from mediation.clock import utc_now
from mediation.db import write_transaction
from mediation.grid.tables import Staff, TeamMember
from mediation.i18n import gettext as _
from mediation.reports import rollups

# What the clocks, the notifications and the statistics need; not the free text.
SWEEP_COLUMNS = (
    *rollups.STAT_COLUMNS,
    Case.number,
    Case.version,
    Case.overdue,
    Case.extension_days,
    Case.updated_at,
)


@dataclass
class SweepReport:
    checked: int = 0
    newly_overdue: int = 0
    escalated: int = 0


def _chunk_size() -> int:
    # SQLite allows fewer bound values per statement than PostgreSQL.
    return 5000 if db.is_postgres() else 400


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def sweep_deadlines(on: date | None = None) -> SweepReport:
    """Mark overdue work, notify and escalate where the policy says.

    Safe to run twice or on two servers at once: every change is conditional on the version
    the case was read at (a case changed meanwhile is left for the next run), and an overdue
    episode is marked, notified and escalated once. Each batch of cases is changed, recorded
    on the timeline, counted in the figures and notified in one transaction: a failure
    anywhere in it leaves the batch as it was, for the next run.
    """
    on = on or today()
    report = SweepReport()
    policy = await current_policy()
    calendar = await refresh_calendar(force=True)
    rows = await Case.select(*SWEEP_COLUMNS).where(Case.status.is_in(OPEN_STATUSES))
    report.checked = len(rows)
    caught_up: list[dict] = []
    late_cases: list[tuple[dict, list[ClockStanding]]] = []
    memo: dict = {}
    for case in rows:
        late = overdue_clocks(case, on, policy, calendar, memo)
        if not late:
            if case["overdue"]:
                caught_up.append(case)  # work caught up: the next lapse is a new episode
        elif not case["overdue"]:
            late_cases.append((case, late))
        # else: this episode was handled by an earlier sweep
    if caught_up:
        await _catch_up(caught_up)
    if late_cases:
        marked, escalated = await _mark_late(late_cases)
        report.newly_overdue = len(marked)
        report.escalated = len(escalated)
    return report


def _escalation(case: dict, late: list[ClockStanding]) -> tuple[str, str] | None:
    """(the level one rung up, the label of the clock that says so), if an overdue clock
    escalates and the case can go up."""
    clock = next((c.clock for c in late if c.clock.escalates_when_overdue), None)
    upper = workflow.CaseLevel(case["level"]).next_level()
    if clock is None or upper is None:
        return None
    if workflow.CaseStatus(case["status"]) not in workflow.ESCALATABLE:
        return None
    return upper.value, clock.label


async def _mark_late(
    late_cases: list[tuple[dict, list[ClockStanding]]],
) -> tuple[list[dict], list[dict]]:
    """Mark the newly late cases overdue and, where an overdue clock says so, one rung up —
    once per overdue episode, never twice — with one UPDATE per case: the escalated ones go
    two versions up, as if flagged then escalated. Per (version, level, new level) group and
    5,000 cases, one transaction: the UPDATE (conditional on the version read), the figures'
    share of the escalated cases moved with them, the timeline events (overdue, then
    escalate) and the notifications (the grid team: overdue; the centre staff of the new
    level: escalated). Who is told is read once, before the first batch. Returns the cases
    marked and those of them escalated."""
    # Cases of one shape share their list of late clocks (``overdue_clocks``' memo): what
    # follows from it is worked out once per list, level and status.
    escalations: dict[tuple[int, str, str], tuple[str, str] | None] = {}
    notes: dict[int, str] = {}
    plans = []
    for case, late in late_cases:
        key = (id(late), case["level"], case["status"])
        if key not in escalations:
            escalations[key] = _escalation(case, late)
        if id(late) not in notes:
            notes[id(late)] = ", ".join(c.clock.label for c in late)
        plans.append((case, notes[id(late)], escalations[key]))
    # Translated once; each case fills in its number.
    overdue_text = _("Case %(number)s is overdue.")
    escalated_text = _("Case %(number)s was escalated to you.")
    team = await _teams({case["grid"] for case, _note, _up in plans})
    centre = await _centre_staff(
        {centre_target(case["region_path"], up[0]) for case, _note, up in plans if up}
    )
    groups: dict[tuple[int, str, str], list[tuple[dict, str, Any]]] = defaultdict(list)
    for case, note, up in plans:
        groups[(case["version"], case["level"], up[0] if up else "")].append((case, note, up))
    marked: list[dict] = []
    escalated: list[dict] = []
    now = utc_now()
    for (version, level, upper), items in sorted(groups.items()):
        new_level = upper or level
        new_version = version + (2 if upper else 1)
        for part in _chunks(items, _chunk_size()):
            by_id = {item[0]["id"]: item for item in part}
            async with write_transaction():
                changed = await _update_where_version(
                    list(by_id),
                    version,
                    {
                        Case.overdue: True,
                        Case.level: new_level,
                        Case.version: new_version,
                        Case.updated_at: now,
                    },
                )
                done = [by_id[case_id] for case_id in changed]
                if upper:
                    # The figures count cases by level: move these cases' share with them.
                    await rollups.apply_many(
                        [(case, {**case, "level": upper}) for case, _note, _up in done]
                    )
                events: list[Event] = [
                    (case["id"], "overdue", "", "", {}, note) for case, note, _up in done
                ]
                messages: list[tuple[list[int], int | None, str, str]] = [
                    (
                        team.get(case["grid"], []),
                        case["id"],
                        "overdue",
                        overdue_text % {"number": case["number"]},
                    )
                    for case, _note, _up in done
                ]
                if upper:
                    why = {
                        label: _("Escalated automatically: %(clock)s is overdue.", clock=label)
                        for label in {up[1] for _case, _note, up in done}
                    }
                    events.extend(
                        (
                            case["id"],
                            "escalate",
                            case["status"],
                            case["status"],
                            {"level": [level, upper]},
                            why[up[1]],
                        )
                        for case, _note, up in done
                    )
                    messages.extend(
                        (
                            centre.get(centre_target(case["region_path"], upper), []),
                            case["id"],
                            "escalated",
                            escalated_text % {"number": case["number"]},
                        )
                        for case, _note, _up in done
                    )
                await _record(events)
                await notify_many(messages)
            for case, _note, _up in done:
                case["overdue"] = True
                case["level"] = new_level
                case["version"] = new_version
                marked.append(case)
                if upper:
                    escalated.append(case)
    return marked, escalated


async def _catch_up(cases: list[dict]) -> None:
    """Clear the flag of the cases whose work caught up (still at the version they were read
    at) and record it on their timelines: per version and 5,000 cases, one transaction."""
    now = utc_now()
    by_version: dict[int, list[dict]] = defaultdict(list)
    for case in cases:
        by_version[case["version"]].append(case)
    for version, group in sorted(by_version.items()):
        for part in _chunks(group, _chunk_size()):
            async with write_transaction():
                changed = await _update_where_version(
                    [case["id"] for case in part],
                    version,
                    {Case.overdue: False, Case.version: version + 1, Case.updated_at: now},
                )
                await _record([(case_id, "caught_up", "", "", {}, "") for case_id in changed])
            for case in part:
                if case["id"] in changed:
                    case["version"] = version + 1
                    case["overdue"] = False


async def _update_where_version(ids: list[int], version: int, values: dict) -> list[int]:
    """Set ``values`` on the cases of ``ids`` still at ``version``; the ids changed, in the
    order of ``ids``."""
    if db.is_postgres():
        columns = list(values)
        rows = await Case.raw(
            'UPDATE "case" SET '
            + ", ".join(f'"{column._meta.db_column_name}" = {{}}' for column in columns)
            + ' WHERE "id" = ANY({}::int[]) AND "version" = {} RETURNING "id"',
            *(values[column] for column in columns),
            ids,
            version,
        )
    else:
        rows = (
            await Case.update(values)
            .where(Case.id.is_in(ids), Case.version == version)
            .returning(Case.id)
        )
    changed = {r["id"] for r in rows}
    return [case_id for case_id in ids if case_id in changed]


# (case id, action, from status, to status, changes, note)
Event = tuple[int, str, str, str, dict, str]


async def _record(events: list[Event]) -> None:
    """The timeline events: on PostgreSQL in one INSERT (from arrays), on SQLite in a few. None
    of the sweep's events is one the parties are texted about (``portal.on_case_event``)."""
    if not events:
        return
    if db.is_postgres():
        now = utc_now()
        columns = list(zip(*events, strict=True))
        await CaseEvent.raw(
            'INSERT INTO "case_event" ("case", "at", "actor", "action", "from_status", '
            '"to_status", "changes", "note") '
            "SELECT c, {}, NULL, a, f, t, ch::json, n FROM unnest("
            "{}::int[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[]"
            ") AS u(c, a, f, t, ch, n)",
            now,
            list(columns[0]),
            list(columns[1]),
            list(columns[2]),
            list(columns[3]),
            _json_texts(columns[4]),
            list(columns[5]),
        )
        return
    for part in _chunks(events, max(1, _chunk_size() // 10)):
        await CaseEvent.insert(
            *[
                CaseEvent(case=c, action=a, from_status=f, to_status=t, changes=ch, note=n)
                for c, a, f, t, ch, n in part
            ]
        )


def _json_texts(values: Sequence[dict]) -> list[str]:
    """Each value as JSON; the few distinct values of a batch serialised once each."""
    texts: dict[str, str] = {}
    out = []
    for value in values:
        key = repr(value)
        text = texts.get(key)
        if text is None:
            text = texts[key] = dump_json(value)
        out.append(text)
    return out


async def _teams(grids: set[int]) -> dict[int, list[int]]:
    """The staff on each grid's team."""
    team: dict[int, list[int]] = defaultdict(list)
    for part in _chunks(sorted(grids), _chunk_size()):
        for r in await TeamMember.select(TeamMember.grid, TeamMember.staff).where(
            TeamMember.grid.is_in(list(part))
        ):
            team[r["grid"]].append(r["staff"])
    return team


async def _centre_staff(paths: set[str]) -> dict[str, list[int]]:
    """The active centre staff of each region path, by id."""
    staff: dict[str, list[int]] = defaultdict(list)
    for part in _chunks(sorted(paths), _chunk_size()):
        rows = await Staff.select(Staff.id, Staff.roles, Staff.region.path).where(
            Staff.region.path.is_in(list(part)), Staff.active.eq(True)
        )
        for r in sorted(rows, key=lambda r: r["id"]):
            if "centre_staff" in (r["roles"] or []):
                staff[r["region.path"]].append(r["id"])
    return staff
