"""The daily sweep: cases past a deadline are marked overdue and escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mediation.cases import workflow
from mediation.cases.changes import update_case
from mediation.cases.common import OPEN_STATUSES, EditConflict, today
from mediation.cases.events import centre_staff, grid_team, notify, record_event
from mediation.cases.holidays import refresh_calendar
from mediation.cases.policy_store import current_policy
from mediation.cases.queries import clocks_for
from mediation.cases.tables import (
    Case,
)
from mediation.db import write_transaction
from mediation.i18n import gettext as _


@dataclass
class SweepReport:
    checked: int = 0
    newly_overdue: int = 0
    escalated: int = 0


async def sweep_deadlines(on: date | None = None) -> SweepReport:
    """Mark overdue work, notify and escalate where the policy says.

    Safe to run twice or on two servers at once: every change is conditional on the case's
    version, and an escalation for a clock is recorded so it never happens twice.
    """
    on = on or today()
    report = SweepReport()
    # One policy and one calendar for the whole pass, not a query per case.
    policy = await current_policy()
    calendar = await refresh_calendar(force=True)
    rows = await Case.select(Case.all_columns()).where(Case.status.is_in(OPEN_STATUSES))
    for case in rows:
        report.checked += 1
        states = await clocks_for(case, on, policy, calendar)
        late = [c for c in states if c.state.is_overdue and not c.state.done]
        try:
            if not late:
                if case["overdue"]:
                    # Work caught up: the next lapse is a new episode.
                    async with write_transaction():
                        await update_case(case, {Case.overdue: False}, None, case["version"])
                        await record_event(case["id"], None, "caught_up")
                continue
            if case["overdue"]:
                continue  # this episode was handled by an earlier sweep
            async with write_transaction():
                await update_case(case, {Case.overdue: True}, None, case["version"])
                await record_event(
                    case["id"], None, "overdue", note=", ".join(c.clock.label for c in late)
                )
            case["version"] += 1
            report.newly_overdue += 1
            team = await grid_team(case["grid"])
            await notify(
                [m["staff"] for m in team],
                case["id"],
                "overdue",
                _("Case %(number)s is overdue.", number=case["number"]),
            )
            if await _escalate_overdue(case, late):
                report.escalated += 1
        except EditConflict:
            # Another sweep or a person got there first; the next run looks again.
            continue
    return report


async def _escalate_overdue(case: dict, late: list[dict]) -> bool:
    """One rung up when an overdue clock says so: once per overdue episode, never twice."""
    clock = next((c.clock for c in late if c.clock.escalates_when_overdue), None)
    level = workflow.CaseLevel(case["level"])
    upper = level.next_level()
    if clock is None or upper is None:
        return False
    if workflow.CaseStatus(case["status"]) not in workflow.ESCALATABLE:
        return False
    async with write_transaction():
        await update_case(case, {Case.level: upper.value}, None, case["version"])
        await record_event(
            case["id"],
            None,
            "escalate",
            case["status"],
            case["status"],
            {"level": [level.value, upper.value]},
            _("Escalated automatically: %(clock)s is overdue.", clock=clock.label),
        )
    case["version"] += 1
    case["level"] = upper.value
    centre = await centre_staff(case["region_path"], upper.value)
    await notify(
        centre,
        case["id"],
        "escalated",
        _("Case %(number)s was escalated to you.", number=case["number"]),
    )
    return True
