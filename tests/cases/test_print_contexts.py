"""The print contexts: frozen records that cross to the printing processes pickled, so each
one must come back from pickle equal to what was sent (a lambda, a local class or an open
connection inside one would break printing in the pool)."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mediation.cases import agreements, followups, materials, services, sessions
from mediation.cases.parties import PrintedParty
from mediation.documents.pdf import template_variables
from mediation.portal import services as portal
from tests.cases.conftest import user
from tests.cases.test_materials import add, photo_with_gps
from tests.cases.test_performance_and_documents import _effective_agreement
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login
from tests.portal.test_portal import _case_with_session, _pair
from tests.portal.test_portal import _effective_agreement as _agreement_of_portal_case

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")


def round_trip(context):
    return pickle.loads(pickle.dumps(context))


async def test_the_agreement_context_pickles_whole(new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _effective_agreement(new_key)
    context = await agreements.print_context(mediator1, agreement_id, "http://testserver")
    assert round_trip(context) == context
    printed = context.agreement
    assert all(isinstance(p, PrintedParty) for p in printed.parties)
    assert [c.amount for c in printed.clauses if c.obligor == "李二房东"] == [1500]
    assert printed.verification is not None and printed.verification.url.startswith(
        "http://testserver/verify/"
    )
    assert {s.role for s in printed.signatures} == {"party", "mediator", "seal"}
    with pytest.raises(FrozenInstanceError):
        printed.number = "changed"  # type: ignore[misc]


async def test_the_template_reads_a_contexts_fields_as_they_are():
    context = agreements.AgreementPrint(agreement=None)  # type: ignore[arg-type]
    assert template_variables(context) == {"agreement": None}
    assert template_variables({"agreement": 1}) == {"agreement": 1}


async def test_the_session_record_context_pickles_whole(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 7, 1, 9, tzinfo=TZ), 60, "二楼调解室", "in_person", None
    )
    await sessions.add_participant(mediator1, session_id, "王堃", "party", "applicant")
    await sessions.add_minute(mediator1, session_id, "王堃", "要求退还押金。")
    session = await sessions.session_for(mediator1, session_id)
    assert session is not None
    context = await sessions.record_context(session)
    assert round_trip(context) == context
    assert [p.name for p in context.present] == ["王堃"]
    assert context.session.minutes[0].statement == "要求退还押金。"


async def test_the_termination_notice_context_pickles_whole(new_key):
    grid1 = await user("grid1")
    case_id = await _case_in_mediation(new_key)
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    context = await followups.termination_context(grid1, case_id)
    assert round_trip(context) == context
    assert context.channels == ("litigation",)
    assert context.number.endswith("号")


async def test_the_follow_up_record_context_pickles_whole(new_key):
    mediator1 = await user("mediator1")
    case_id, _agreement = await _effective_agreement(new_key)
    follow_up_id = await followups.record_follow_up(
        mediator1, case_id, services.today(), "partly", "basically", "押金已退一半", "visit", ""
    )
    context = await followups.follow_up_context(mediator1, case_id, follow_up_id)
    assert round_trip(context) == context
    assert context.follow_up.visited_by_name == mediator1.display_name
    assert [c.obligor for c in context.clauses] == ["李二房东"]
    assert str(context.method_labels[context.follow_up.method])


async def test_the_case_file_context_with_its_materials_pickles_whole(client, settings, new_key):
    mediator1 = await user("mediator1")
    case_id, _agreement = await _effective_agreement(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2031, 7, 2, 9, tzinfo=TZ), 60, "", "in_person", None
    )
    await sessions.add_minute(mediator1, session_id, "调解员", "双方同意按协议履行。")
    await login(client, "mediator1")
    await add(
        client,
        case_id,
        [("files", ("wall.jpg", photo_with_gps("red", (300, 200)), "image/jpeg"))],
        description="墙面照片",
    )
    context = await followups.case_file_context(mediator1, case_id, "http://testserver")
    filed = await materials.case_file_context(mediator1, case_id, settings.data_dir)
    assert [m.label for m in filed] == ["墙面照片"]
    assert filed[0].data_uri.startswith("data:image/jpeg;base64,")
    context = replace(context, materials=filed)
    assert round_trip(context) == context
    assert [s.id for s in context.sessions] == [session_id]
    assert len(context.agreements) == 1 and context.agreements[0].number


async def test_the_partys_copy_of_an_agreement_pickles_whole_and_carries_nothing_personal(
    new_key,
):
    case_id, _session = await _case_with_session(new_key)
    agreement_id, _owed, _own = await _agreement_of_portal_case(case_id)
    who = await portal.access(*await _pair(case_id, "王堃"))
    assert who is not None
    context = await portal.agreement_of_party(who, agreement_id, "http://testserver")
    assert context is not None
    assert round_trip(context) == context
    assert context.agreement.party_copy
    assert context.agreement.parties
    assert {(p.id_number_display, p.phone) for p in context.agreement.parties} == {("", "")}
