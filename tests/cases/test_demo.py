"""The demo disputes: enough of them, every status, colour and level, the deposit story.

The session fixture loads the demo (county and cases) once, before any test registers a
case of its own; these tests only read it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from mediation import crypto
from mediation.cases import services
from mediation.cases.tables import Agreement, AgreementClause, Case, CaseEvent, CaseMediator, Party
from mediation.cases.workflow import CaseLevel, CaseStatus
from mediation.clock import local_date, local_now
from mediation.demo.cases import DEMO_COUNT, STORY_GRID, load_demo_cases
from mediation.validators import validate_id_number, validate_phone

pytestmark = [pytest.mark.anyio, pytest.mark.module_database]


async def _demo_case_ids() -> list[int]:
    """The demo is loaded before any test registers a case: its cases come first."""
    rows = await Case.select(Case.id).order_by(Case.id).limit(DEMO_COUNT)
    return [r["id"] for r in rows]


async def _demo_cases(*columns) -> list[dict]:
    return await Case.select(*columns).where(Case.id.is_in(await _demo_case_ids()))


async def test_the_demo_has_hundreds_of_cases_in_every_status_colour_and_level():
    cases = await _demo_cases(Case.status, Case.colour, Case.level, Case.grid, Case.category)
    assert len(cases) >= 250
    assert {c["status"] for c in cases} == {s.value for s in CaseStatus}
    assert {c["colour"] for c in cases} == {"red", "yellow", "green"}
    assert {c["level"] for c in cases} == {level.value for level in CaseLevel}
    assert len({c["grid"] for c in cases}) == 24, "every demo grid has disputes"
    assert len({c["category"] for c in cases}) == 15, "every standard category is used"


async def test_every_demo_source_is_used_and_registrations_span_months():
    cases = await _demo_cases(Case.source, Case.registered_on)
    assert {c["source"] for c in cases} == set(services.SOURCES)
    days = [c["registered_on"] for c in cases]
    assert (max(days) - min(days)).days >= 180
    assert max(days) <= services.today()


async def test_the_deposit_story_is_in_grid1s_grid_and_every_step_is_recorded():
    case = (
        await Case.select(Case.id, Case.summary, Case.status, Case.grid.code)
        .where(Case.summary.like("%二房东%"), Case.summary.like("%押金%"))
        .order_by(Case.id)
        .first()
    )
    assert case is not None
    assert case["grid.code"] == STORY_GRID
    assert case["status"] in ("settled", "performed")
    events = (
        await CaseEvent.select(CaseEvent.action, CaseEvent.note, CaseEvent.actor.username)
        .where(CaseEvent.case == case["id"])
        .order_by(CaseEvent.id)
    )
    assert len(events) >= 4
    assert events[0]["action"] == "registered"
    actors = {e["actor.username"] for e in events}
    assert {"grid1", "police1"} <= actors, "the grid worker and the police officer both act"
    assert any("公安平台" in e["note"] for e in events)
    assert await CaseMediator.exists().where(CaseMediator.case == case["id"])


async def test_every_case_starts_with_its_registration_and_nothing_is_dated_in_the_future():
    # The timeline is shown in time order; sessions and agreements are entered after the case's
    # own moves but dated the day they happened.
    events = await CaseEvent.select(CaseEvent.case, CaseEvent.action, CaseEvent.at).order_by(
        CaseEvent.at, CaseEvent.id
    )
    first: dict[int, str] = {}
    now = local_now() + timedelta(minutes=1)
    for e in events:
        first.setdefault(e["case"], e["action"])
        assert e["at"] <= now
    assert set(first.values()) == {"registered"}
    assert set(first) >= set(await _demo_case_ids())


async def test_cases_that_reached_mediation_have_a_mediator():
    cases = await _demo_cases(Case.id, Case.status, Case.mediation_started_on)
    reached = [c["id"] for c in cases if c["mediation_started_on"] is not None]
    assigned = {
        r["case"]
        for r in await CaseMediator.select(CaseMediator.case).where(
            CaseMediator.case.is_in(reached)
        )
    }
    assert reached and set(reached) == assigned
    mediating = [c for c in cases if c["status"] == "mediating"]
    assert all(c["mediation_started_on"] for c in mediating)


async def test_demo_parties_have_valid_id_numbers_and_phones_and_rare_names():
    parties = await Party.select(
        Party.name, Party.kind, Party.id_number_encrypted, Party.phone
    ).where(Party.case.is_in(await _demo_case_ids()))
    people = [p for p in parties if p["kind"] == "person"]
    numbers = [crypto.decrypt(p["id_number_encrypted"]) for p in people]
    numbers = [n for n in numbers if n]
    assert len(numbers) >= 200
    for number in numbers:
        assert validate_id_number(number) == number
    for p in parties:
        if p["phone"]:
            assert validate_phone(p["phone"]) == p["phone"]
    names = "".join(p["name"] for p in parties)
    for rare in "堃玥昇":
        assert rare in names


async def test_demo_organisations_have_a_legal_representative_and_a_post_apart():
    """Printed as 法定代表人（负责人）：<name>，职务：<post>: the name carries no title."""
    organisations = await Party.select(Party.legal_rep, Party.legal_rep_title).where(
        Party.case.is_in(await _demo_case_ids()), Party.kind == "organisation"
    )
    assert organisations
    for p in organisations:
        assert p["legal_rep"] and p["legal_rep_title"]
        assert "（" not in p["legal_rep"] and "负责人" not in p["legal_rep_title"]


async def test_some_demo_cases_are_overdue_but_most_are_not():
    cases = await _demo_cases(Case.overdue)
    overdue = sum(1 for c in cases if c["overdue"])
    assert 0 < overdue < len(cases) / 2


async def test_loading_the_demo_cases_again_does_nothing():
    before = await Case.count()
    assert await load_demo_cases() == 0
    assert await Case.count() == before


async def test_demo_agreements_agree_with_their_timeline():
    """An agreement exists exactly when the timeline records a settlement, of the recorded kind,
    in effect the day of the settlement, for the amount the settlement names."""
    settles = {
        e["case"]: e
        for e in await CaseEvent.select(
            CaseEvent.case, CaseEvent.at, CaseEvent.changes, CaseEvent.note
        )
        .where(CaseEvent.action == "settle")
        .order_by(CaseEvent.id)
        .output(load_json=True)
    }
    rows = await Agreement.select(
        Agreement.id, Agreement.case, Agreement.kind, Agreement.effective_on
    ).where(Agreement.case.is_in(await _demo_case_ids()))
    assert rows
    for a in rows:
        settle = settles.get(a["case"])
        assert settle is not None, f"case {a['case']} has an agreement but never settled"
        assert a["kind"] == settle["changes"]["agreement_form"][1]
        assert a["effective_on"] == local_date(settle["at"])
        clauses = await AgreementClause.select(AgreementClause.amount).where(
            AgreementClause.agreement == a["id"]
        )
        named = [Decimal(x) for x in re.findall(r"(\d+(?:\.\d+)?)元", settle["note"])]
        if a["kind"] == "written" and named:
            assert sum(c["amount"] or 0 for c in clauses) == sum(named)
    with_agreement = {a["case"] for a in rows}
    after = await _demo_cases(Case.id, Case.status)
    for case in after:
        if case["status"] in ("settled", "performing", "performed", "breached"):
            assert case["id"] in with_agreement, f"case {case['id']} in {case['status']}"


async def test_most_demo_mediations_end_in_time():
    """Judged on the day mediation ended (agreement or termination), not the closing day."""
    finished = await Case.select(Case.all_columns()).where(
        Case.id.is_in(await _demo_case_ids()),
        Case.concluded_on.is_not_null(),
        Case.mediation_started_on.is_not_null(),  # some end before mediation starts
    )
    assert len(finished) > 100
    on_time = 0
    for case in finished:
        clocks = {c.clock.name: c.state for c in await services.clocks_for(case)}
        state = clocks["mediation"]
        assert state.done
        on_time += not state.is_overdue
    assert on_time / len(finished) > 0.8
