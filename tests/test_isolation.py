"""Each test starts from the unchanged demo county, on SQLite and on PostgreSQL alike.

The two tests run in this order (pytest keeps a module's order, and xdist gives a whole module
to one worker): the first writes through the ORM, the app's own triggers and foreign-key
cascades, and the second finds none of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mediation.cases.services import OPEN_STATUSES
from mediation.cases.tables import Case, CaseMediator
from mediation.grid.tables import Grid, Staff
from mediation.suggestions.tables import Suggestion

pytestmark = pytest.mark.anyio

# What the first test saw and wrote, for the second one to check.
_first: dict[str, Any] = {}


async def _fingerprint() -> dict[str, int]:
    """Row counts and the figures the database keeps up to date by its own triggers."""

    async def one(sql: str) -> int:
        rows = await Case.raw(sql)
        return int(next(iter(rows[0].values())) or 0)

    return {
        "cases": await one('SELECT count(*) FROM "case"'),
        "parties": await one("SELECT count(*) FROM party"),
        "case events": await one("SELECT count(*) FROM case_event"),
        "assignments": await one("SELECT count(*) FROM case_mediator"),
        "suggestions": await one("SELECT count(*) FROM suggestion"),
        "grids": await one("SELECT count(*) FROM grid"),
        "suggestion figures": await one("SELECT sum(n) FROM suggestion_stat"),
        "mediator loads": await one("SELECT sum(open_cases) FROM mediator_load"),
    }


async def _add_probe_grid(code: str) -> int:
    region = (await Grid.select(Grid.region).first())["region"]
    grid = Grid(code=code, name="隔离探针", region=region)
    await grid.save()
    return grid.id


async def test_a_test_that_writes_rows():
    _first["fingerprint"] = await _fingerprint()
    grid1 = await Staff.select(Staff.display_name).where(Staff.username == "grid1").first()
    _first["grid1 name"] = grid1["display_name"]

    # A new row, which also moves the table's id sequence.
    _first["probe id"] = await _add_probe_grid("isolation-probe-1")
    # A demo row changed.
    await Staff.update({Staff.display_name: "改过的名字"}).where(Staff.username == "grid1")
    # An open case with a mediator deleted: its parties and events go by cascade, the kept
    # mediator loads change by trigger.
    assigned = (
        await CaseMediator.select(CaseMediator.case)
        .where(CaseMediator.active.eq(True), CaseMediator.case.status.is_in(OPEN_STATUSES))
        .first()
    )
    await Case.delete().where(Case.id == assigned["case"])
    # A suggestion deleted: the kept suggestion figures change by trigger.
    await Suggestion.delete().where(Suggestion.id == (await Suggestion.select().first())["id"])

    written = await _fingerprint()
    for name in ("cases", "parties", "assignments", "suggestions", "grids"):
        assert written[name] != _first["fingerprint"][name], name
    assert written["mediator loads"] < _first["fingerprint"]["mediator loads"]
    assert written["suggestion figures"] < _first["fingerprint"]["suggestion figures"]


async def test_the_next_test_finds_the_demo_county_unchanged():
    assert _first, "runs after test_a_test_that_writes_rows, in the same process"
    assert await _fingerprint() == _first["fingerprint"]
    assert not await Grid.exists().where(Grid.code == "isolation-probe-1")
    grid1 = await Staff.select(Staff.display_name).where(Staff.username == "grid1").first()
    assert grid1["display_name"] == _first["grid1 name"]
    # The id sequence is back where it was: the next new row gets the same id.
    assert await _add_probe_grid("isolation-probe-2") == _first["probe id"]
