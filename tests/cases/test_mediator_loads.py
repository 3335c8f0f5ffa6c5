"""The mediator loads the database keeps equal the loads counted from the assignments."""

from __future__ import annotations

import importlib

import pytest

from mediation.cases import services
from mediation.cases.mediators import _mediator_loads, counted_mediator_loads
from mediation.cases.tables import Case, CaseMediator
from mediation.reports import rollups
from tests.cases.conftest import deposit_case, grid_id, user

pytestmark = pytest.mark.anyio


async def _assert_exact(step: str) -> None:
    assert await _mediator_loads() == await counted_mediator_loads(), step


def test_the_triggers_know_the_open_statuses_of_the_workflow():
    migration = importlib.import_module(
        "mediation.cases.piccolo_migrations.cases_2026_11_30t07_00_00_000000"
    )
    listed = {s.strip(" '") for s in migration.OPEN.strip("()").split(",")}
    assert listed == set(services.OPEN_STATUSES)


async def test_the_kept_loads_follow_assignments_and_case_statuses(new_key):
    grid1, centre1 = await user("grid1"), await user("centre1")
    await _assert_exact("the demo as loaded")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    await services.transition_case(grid1, case_id, "accept", {})
    first = (await services.suggest_mediators(centre1, case_id))[0].mediator.id
    before = (await _mediator_loads()).get(first, 0)
    await services.assign_mediator(centre1, case_id, first)
    assert (await _mediator_loads()).get(first, 0) == before + 1
    await _assert_exact("assigned")
    # Replaced: a party objects to the first, another mediator is assigned.
    assignment = (
        await CaseMediator.select(CaseMediator.id)
        .where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
        .first()
    )
    await services.object_to_mediator(centre1, case_id, assignment["id"], "与对方是亲戚")
    assert (await _mediator_loads()).get(first, 0) == before
    second = (await services.suggest_mediators(centre1, case_id))[0].mediator.id
    await services.assign_mediator(centre1, case_id, second)
    await _assert_exact("replaced")
    await services.transition_case(grid1, case_id, "start_mediation", {})
    await services.transition_case(grid1, case_id, "settle", {"agreement_form": "written"})
    await _assert_exact("settled (still open: performance and follow-up to come)")
    await services.transition_case(grid1, case_id, "start_performance", {})
    await services.transition_case(grid1, case_id, "record_performed", {})
    await services.transition_case(grid1, case_id, "close", {"follow_up_recorded": True})
    await _assert_exact("closed")
    loads_closed = await _mediator_loads()
    # Reopened by a direct write (as a data correction would), then several cases at once.
    await Case.update({Case.status: "mediating"}).where(Case.id == case_id)
    await _assert_exact("reopened")
    assert (await _mediator_loads()).get(second, 0) == loads_closed.get(second, 0) + 1
    mediating = [
        r["id"] for r in await Case.select(Case.id).where(Case.status == "mediating").limit(5)
    ]
    await Case.update({Case.status: "closed"}).where(Case.id.is_in(mediating))
    await _assert_exact("closed together")
    await Case.update({Case.status: "mediating"}).where(Case.id.is_in(mediating))
    await _assert_exact("reopened together")
    # An assignment moved to another mediator, an objection withdrawn, assignments deleted.
    await CaseMediator.update({CaseMediator.mediator: first}).where(
        CaseMediator.case == case_id, CaseMediator.active.eq(True)
    )
    await _assert_exact("moved")
    await CaseMediator.update({CaseMediator.active: True}).where(
        CaseMediator.case == case_id, CaseMediator.active.eq(False)
    )
    await _assert_exact("objection withdrawn")
    await CaseMediator.delete().where(CaseMediator.case == case_id)
    await _assert_exact("assignments deleted")
    await Case.update({Case.status: "closed"}).where(Case.id == case_id)
    await _assert_exact("closed again")
    await rollups.rebuild_rollups()
