"""The set-based deadline sweep does exactly what the per-case sweep did, case by case.

``per_case_sweep`` below is the sweep as it was (one case at a time, each change through
``update_case`` and ``record_event``). Two identical sets of hand-made cases are built; one is
swept by the old loop, then the real sweep runs over everything; both sets must end alike:
flag, level, version, timeline and notifications.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from mediation.cases import services, workflow
from mediation.cases.changes import update_case
from mediation.cases.common import EditConflict
from mediation.cases.deadline_sweep import SWEEP_COLUMNS, sweep_deadlines
from mediation.cases.events import centre_staff, grid_team, notify, record_event
from mediation.cases.holidays import refresh_calendar
from mediation.cases.policy_store import current_policy
from mediation.cases.queries import clocks_for
from mediation.cases.tables import Case, CaseEvent, Notification
from mediation.i18n import gettext as _
from mediation.reports import rollups
from tests.cases.conftest import deposit_case, grid_id, user

pytestmark = pytest.mark.anyio

# Registered the day before the National Day holiday (2026-10-01 to 10-07, a Thursday to a
# Wednesday): the 2-working-day accept clock runs to Friday 10-09, not to Friday 10-02.
EVE = date(2026, 9, 30)
ON = date(2026, 10, 12)

# (registered_on, status, level, accepted_on, mediation_started_on, overdue, extension_days)
SCENARIOS = [
    (EVE, "registered", "grid", None, None, False, 0),  # accept and handle late: escalates
    (ON - timedelta(days=1), "registered", "grid", None, None, False, 0),  # not yet due
    (EVE, "registered", "county", None, None, False, 0),  # late, nowhere to escalate
    # Accepted in time, the 7-working-day handle clock lapsed on 09-29: to the town centre.
    (date(2026, 9, 20), "accepted", "community", date(2026, 9, 21), None, False, 0),
    (ON - timedelta(days=45), "mediating", "town", None, ON - timedelta(days=40), False, 0),
    (ON - timedelta(days=45), "mediating", "town", None, ON - timedelta(days=40), False, 15),
    (ON - timedelta(days=2), "registered", "grid", None, None, True, 0),  # caught up
    (EVE, "registered", "grid", None, None, True, 0),  # still late: handled before
    (ON - timedelta(days=60), "performing", "community", None, ON - timedelta(days=50), False, 0),
]


async def per_case_sweep(case_ids: list[int], on: date) -> None:
    """The old sweep's loop, restricted to ``case_ids``."""
    policy = await current_policy()
    calendar = await refresh_calendar(force=True)
    rows = await Case.select(Case.all_columns()).where(Case.id.is_in(case_ids))
    for case in rows:
        states = await clocks_for(case, on, policy, calendar)
        late = [c for c in states if c.state.is_overdue and not c.state.done]
        try:
            if not late:
                if case["overdue"]:
                    await update_case(
                        SimpleNamespace(**case), {Case.overdue: False}, None, case["version"]
                    )
                    await record_event(case["id"], None, "caught_up")
                continue
            if case["overdue"]:
                continue
            await update_case(SimpleNamespace(**case), {Case.overdue: True}, None, case["version"])
            await record_event(
                case["id"], None, "overdue", note=", ".join(c.clock.label for c in late)
            )
            case["version"] += 1
            team = await grid_team(case["grid"])
            await notify(
                [m.staff for m in team],
                case["id"],
                "overdue",
                _("Case %(number)s is overdue.", number=case["number"]),
            )
            clock = next((c.clock for c in late if c.clock.escalates_when_overdue), None)
            level = workflow.CaseLevel(case["level"])
            upper = level.next_level()
            if clock is None or upper is None:
                continue
            if workflow.CaseStatus(case["status"]) not in workflow.ESCALATABLE:
                continue
            await update_case(
                SimpleNamespace(**case), {Case.level: upper.value}, None, case["version"]
            )
            await record_event(
                case["id"],
                None,
                "escalate",
                case["status"],
                case["status"],
                {"level": [level.value, upper.value]},
                _("Escalated automatically: %(clock)s is overdue.", clock=clock.label),
            )
            await notify(
                await centre_staff(case["region_path"], upper.value),
                case["id"],
                "escalated",
                _("Case %(number)s was escalated to you.", number=case["number"]),
            )
        except EditConflict:
            continue


async def make_cases(new_key) -> list[int]:
    grid1 = await user("grid1")
    ids = []
    for registered, status, level, accepted, started, overdue, extension in SCENARIOS:
        case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
        await Case.update(
            {
                Case.registered_on: registered,
                Case.status: status,
                Case.level: level,
                Case.accepted_on: accepted,
                Case.mediation_started_on: started,
                Case.overdue: overdue,
                Case.extension_days: extension,
            }
        ).where(Case.id == case_id)
        ids.append(case_id)
    # The cases were rewritten behind the services' back: bring the figures' running sums in
    # step, or every later test that reads the dashboard sees them off by these cases.
    await rollups.rebuild_rollups()
    return ids


async def outcome(case_id: int, since_event: int, since_note: int) -> dict:
    case = await Case.select(*SWEEP_COLUMNS).where(Case.id == case_id).first()
    events = (
        await CaseEvent.select(
            CaseEvent.action,
            CaseEvent.from_status,
            CaseEvent.to_status,
            CaseEvent.changes,
            CaseEvent.note,
            CaseEvent.actor,
        )
        .where(CaseEvent.case == case_id, CaseEvent.id > since_event)
        .order_by(CaseEvent.id)
    )
    notes = await Notification.select(
        Notification.recipient, Notification.kind, Notification.message
    ).where(Notification.case == case_id, Notification.id > since_note)
    number = case["number"]
    return {
        "overdue": case["overdue"],
        "level": case["level"],
        "version": case["version"],
        "events": events,
        "notifications": sorted(
            (n["recipient"], n["kind"], n["message"].replace(number, "N")) for n in notes
        ),
    }


async def last_ids() -> tuple[int, int]:
    event = await CaseEvent.select(CaseEvent.id).order_by(CaseEvent.id, ascending=False).first()
    note = (
        await Notification.select(Notification.id)
        .order_by(Notification.id, ascending=False)
        .first()
    )
    return (event["id"] if event else 0), (note["id"] if note else 0)


async def test_the_set_based_sweep_ends_where_the_per_case_sweep_did(new_key):
    old_ids = await make_cases(new_key)
    new_ids = await make_cases(new_key)
    since_event, since_note = await last_ids()
    await per_case_sweep(old_ids, ON)
    report = await sweep_deadlines(ON)
    assert report.checked >= len(new_ids)
    for index, (old_id, new_id) in enumerate(zip(old_ids, new_ids, strict=True)):
        old = await outcome(old_id, since_event, since_note)
        new = await outcome(new_id, since_event, since_note)
        assert new == old, SCENARIOS[index]
    # The scenarios do cover what they claim.
    first, early, county = [await outcome(i, since_event, since_note) for i in new_ids[:3]]
    assert [e["action"] for e in first["events"]] == ["overdue", "escalate"]
    assert first["level"] == "community" and first["version"] == 3
    assert {n[1] for n in first["notifications"]} == {"overdue"}  # no community centre staff
    to_town = await outcome(new_ids[3], since_event, since_note)
    assert to_town["level"] == "town"
    assert {n[1] for n in to_town["notifications"]} == {"overdue", "escalated"}
    assert early["events"] == [] and early["overdue"] is False
    assert county["overdue"] is True and county["level"] == "county"
    caught_up = await outcome(new_ids[6], since_event, since_note)
    assert [e["action"] for e in caught_up["events"]] == ["caught_up"]
    # A second pass has nothing left to do for these cases.
    since_event, since_note = await last_ids()
    await sweep_deadlines(ON)
    for new_id in new_ids:
        assert (await outcome(new_id, since_event, since_note))["events"] == []


async def test_working_days_skip_the_national_day_holiday(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    await Case.update({Case.registered_on: EVE, Case.level: "county"}).where(Case.id == case_id)
    await rollups.rebuild_rollups()
    # Counted Monday to Friday the accept clock would lapse on 10-02; with the holiday it runs
    # to Friday 10-09.
    await sweep_deadlines(date(2026, 10, 9))
    assert (await Case.select(Case.overdue).where(Case.id == case_id).first())["overdue"] is False
    await sweep_deadlines(date(2026, 10, 12))
    assert (await Case.select(Case.overdue).where(Case.id == case_id).first())["overdue"] is True


async def _figures() -> tuple[dict, dict]:
    """Every daily and monthly figure row that is not zero: key -> (n, persons, amount)."""
    out = []
    for table in (rollups.CaseStat, rollups.CaseRollup):
        rows = await table.select(table.key, table.n, table.persons, table.amount)
        out.append(
            {
                r["key"]: (r["n"], r["persons"], Decimal(str(r["amount"])))
                for r in rows
                if r["n"] or r["persons"] or r["amount"]
            }
        )
    return out[0], out[1]


async def test_the_sweeps_figure_upkeep_equals_a_rebuild_after_many_changes(new_key, monkeypatch):
    """A sweep that escalates many cases of different categories, colours, sources, levels
    and grids, in several batches, leaves the daily and monthly figures exactly where a
    recount from the cases puts them."""
    # grid4 works 西门社区, another community of the same town.
    registrars = [(await user("grid1"),), (await user("grid4"),)]
    grids = [await grid_id(), await grid_id("330482001002-01")]
    categories = ["neighbour", "housing_land", "labour", "contract"]
    colours = ["green", "yellow", "red"]
    ids = []
    for i in range(24):
        registered = EVE - timedelta(days=i % 5)
        case_id = await services.register_case(
            deposit_case(grids[i % 2], category=categories[i % 4], colour=colours[i % 3]),
            registrars[i % 2][0],
            new_key(),
        )
        accepted = i % 3 == 1
        await Case.update(
            {
                Case.registered_on: registered,
                Case.status: "accepted" if accepted else "registered",
                Case.accepted_on: registered + timedelta(days=1) if accepted else None,
                Case.level: ("grid", "community", "town")[i % 3],
                Case.source: ("walk_in", "door_knocking")[i % 2],
                Case.amount: Decimal(1000 + i),
            }
        ).where(Case.id == case_id)
        ids.append(case_id)
    await rollups.rebuild_rollups()
    before = await Case.select(Case.id, Case.level).where(Case.id.is_in(ids))
    # Several transactions of a few cases each, as 5,000 at a time at scale.
    monkeypatch.setattr("mediation.cases.deadline_sweep._chunk_size", lambda: 5)
    report = await sweep_deadlines(ON)
    after = await Case.select(Case.id, Case.level).where(Case.id.is_in(ids))
    moved = {r["id"]: r["level"] for r in after} != {r["id"]: r["level"] for r in before}
    assert moved and report.escalated >= 16, report
    kept = await _figures()
    assert kept[0] and kept[1]
    await rollups.rebuild_rollups()
    rebuilt = await _figures()
    assert kept[0] == rebuilt[0]
    assert kept[1] == rebuilt[1]


def _rollup_net_row_by_row(net: dict) -> dict:
    """``rollups.rollup_net`` as it was: every daily change expanded to its monthly rows."""
    coarse: dict = {}
    for key, (n, persons, amount) in net.items():
        for rkey in rollups.expand(key):
            entry = coarse.setdefault(rkey, [0, 0, Decimal(0)])
            entry[0] += n
            entry[1] += persons
            entry[2] += amount
    return {k: v for k, v in coarse.items() if v[0] or v[1] or v[2]}


def test_the_two_step_monthly_changes_equal_the_row_by_row_expansion():
    rng = random.Random(18)
    net: dict = {}
    paths = ["/330482/330482001/330482001001/", "/330482/330482002/330482002003/", ""]
    for _draw in range(3000):
        key = (
            date(2026, rng.randint(1, 12), rng.randint(1, 28)),
            rng.choice(rollups.MEASURES),
            rng.randint(1, 4),
            rng.choice(paths),
            rng.choice(["neighbour", "labour", ""]),
            rng.choice(["green", "red"]),
            rng.choice(["walk_in", "door_knocking"]),
            rng.choice(["grid", "town", "county"]),
            rng.choice([-1, 3, 40]),
            rng.choice(["", "written", "oral"]),
        )
        entry = net.setdefault(key, [0, 0, Decimal(0)])
        entry[0] += rng.choice([-1, 1])
        entry[1] += rng.choice([0, 0, 2, -2])
        entry[2] += Decimal(rng.choice([0, 100, -100]))
    # Level moves: the same case leaving one level for another, as the sweep's escalations.
    for key in list(net)[:500]:
        net[(*key[:7], "community", *key[8:])] = [1, 0, Decimal(5)]
        net[key] = [-1, 0, Decimal(-5)]
    expected = _rollup_net_row_by_row(net)
    assert rollups.rollup_net(net) == expected
    assert len(expected) > 1000


async def _late_cases(new_key, count: int) -> list[int]:
    """``count`` grid-level cases registered on the eve of the holiday: on ``ON`` each is
    overdue and escalated (to the community), its team notified."""
    grid1 = await user("grid1")
    ids = []
    for _i in range(count):
        case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
        await Case.update({Case.registered_on: EVE, Case.level: "grid"}).where(Case.id == case_id)
        ids.append(case_id)
    await rollups.rebuild_rollups()
    return ids


async def _state(ids: list[int]) -> tuple[list, int, int]:
    """The cases' flag, level and version; their timeline events and notifications."""
    cases = await Case.select(Case.id, Case.overdue, Case.level, Case.version).where(
        Case.id.is_in(ids)
    )
    events = await CaseEvent.count().where(CaseEvent.case.is_in(ids))
    notes = await Notification.count().where(Notification.case.is_in(ids))
    return sorted((c["id"], c["overdue"], c["level"], c["version"]) for c in cases), events, notes


async def test_a_batch_whose_notifications_fail_is_left_as_it_was(new_key, monkeypatch):
    """The notifications go in the transaction of the batch's updates: when their insert
    fails, nothing of the batch stays (flag, level, timeline, figures, notifications), and
    the next sweep does it all."""
    from mediation.cases import deadline_sweep

    ids = await _late_cases(new_key, 3)
    before = await _state(ids)
    real = deadline_sweep.notify_many

    async def inserted_then_lost(messages, *args, **kwargs):
        messages = list(messages)
        await real(messages, *args, **kwargs)
        if any(case_id in ids for _staff, case_id, _kind, _text in messages):
            raise ConnectionError("the database went away")

    monkeypatch.setattr(deadline_sweep, "notify_many", inserted_then_lost)
    with pytest.raises(ConnectionError):
        await sweep_deadlines(ON)
    assert await _state(ids) == before
    # No half-moved figures: what is kept equals a recount from the cases.
    kept = await _figures()
    await rollups.rebuild_rollups()
    assert await _figures() == kept

    monkeypatch.setattr(deadline_sweep, "notify_many", real)
    await sweep_deadlines(ON)
    flags, events, notes = await _state(ids)
    assert all(overdue and level == "community" for _id, overdue, level, _v in flags)
    assert events == before[1] + 2 * len(ids)  # overdue, escalate
    assert notes > before[2]


async def test_caught_up_cases_stay_flagged_when_their_timeline_insert_fails(new_key, monkeypatch):
    from mediation.cases import deadline_sweep

    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    await Case.update(
        {Case.registered_on: ON - timedelta(days=1), Case.level: "county", Case.overdue: True}
    ).where(Case.id == case_id)
    before = await _state([case_id])
    real = deadline_sweep._record

    async def failing(events):
        await real(events)
        if any(event[0] == case_id for event in events):
            raise ConnectionError("the database went away")

    monkeypatch.setattr(deadline_sweep, "_record", failing)
    with pytest.raises(ConnectionError):
        await sweep_deadlines(ON)
    assert await _state([case_id]) == before

    monkeypatch.setattr(deadline_sweep, "_record", real)
    await sweep_deadlines(ON)
    flags, events, _notes = await _state([case_id])
    assert flags[0][1] is False
    assert events == before[1] + 1  # caught_up
