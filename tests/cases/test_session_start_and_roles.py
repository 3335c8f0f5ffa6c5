"""A session never ends before it starts (parties who came early: the mediator gives the actual
start, which is recorded), and the session page names participants by their role in the case,
as the printed record does, with the third party's side offered when the case has one."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
import time_machine

from mediation.cases import services, sessions
from mediation.cases.tables import CaseEvent, MediationSession
from mediation.clock import county_zone
from tests.cases.conftest import deposit_case, grid_id, user
from tests.cases.test_printed_records import pdf_text
from tests.cases.test_sessions_and_agreements import _case_in_mediation, assign_directly
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

# 06:30 in Beijing on 30 November, 22:30 UTC on the 29th: the session is booked for 09:30.
EARLY_MORNING = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page)
    assert match, f"no error beside {field}"
    return text_of(match.group(1))


async def test_a_session_ended_before_its_scheduled_start_takes_the_actual_start(client, new_key):
    with time_machine.travel(EARLY_MORNING, tick=False):
        mediator1 = await user("mediator1")
        case_id = await _case_in_mediation(new_key)
        scheduled = datetime(2026, 11, 30, 9, 30, tzinfo=county_zone())
        session_id, _ = await sessions.schedule_session(
            mediator1, case_id, scheduled, 60, f"调解室{uuid.uuid4().hex[:6]}", "in_person", None
        )
        await sessions.add_minute(mediator1, session_id, "王堃", "我们提前到了，现在就开始吧。")
        await login(client, "mediator1")
        url = f"/cases/{case_id}/sessions/{session_id}"

        page = (await client.get(url)).text
        # The start is still to come: the field is left empty and the hint says why.
        assert re.search(
            r'<input type="datetime-local" id="started_at" name="started_at" value=""', page
        )
        assert "2026年11月30日 09:30" in text_of(page)

        # Ending it without the actual start is refused, beside the field; the outcome stays.
        refused = await post_form(client, f"{url}/close", {"outcome": "agreement"})
        assert refused.status_code == 422
        assert "2026年11月30日 09:30" in _field_error(refused.text, "started_at")
        assert '<option value="agreement" selected>' in refused.text
        # A start later than now (the end) is refused too, and what was typed is kept.
        later = await post_form(
            client, f"{url}/close", {"outcome": "agreement", "started_at": "2026-11-30T06:45"}
        )
        assert later.status_code == 422
        assert _field_error(later.text, "started_at")
        assert 'value="2026-11-30T06:45"' in later.text
        row = await MediationSession.select().where(MediationSession.id == session_id).first()
        assert row["status"] == "open" and row["closed_at"] is None

        done = await post_form(
            client, f"{url}/close", {"outcome": "agreement", "started_at": "2026-11-30T06:05"}
        )
        assert done.status_code == 303, text_of(done.text)[:300]
        row = await MediationSession.select().where(MediationSession.id == session_id).first()
        assert row["starts_at"] == datetime(2026, 11, 30, 6, 5, tzinfo=county_zone())
        assert row["closed_at"] == EARLY_MORNING
        assert row["starts_at"] <= row["closed_at"]

        # The change of start is on the timeline, scheduled → actual.
        assert (
            await CaseEvent.count().where(
                CaseEvent.case == case_id, CaseEvent.action == "session_start_corrected"
            )
            == 1
        )
        case_page = text_of((await client.get(f"/cases/{case_id}")).text)
        assert "2026年11月30日 09:30 → 2026年11月30日 06:05" in case_page

        record = pdf_text((await client.get(f"{url}/record.pdf")).content)
        assert "时间：2026年11月30日06:05至2026年11月30日06:30" in record
        case_file = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
        assert "调解会开始时间改为实际开始时间调解时间：2026年11月30日06:05" in case_file


async def test_a_session_ended_after_its_start_needs_no_start_and_records_no_change(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    with time_machine.travel(EARLY_MORNING, tick=False):
        session_id, _ = await sessions.schedule_session(
            mediator1,
            case_id,
            datetime(2026, 11, 30, 5, 30, tzinfo=county_zone()),
            60,
            f"调解室{uuid.uuid4().hex[:6]}",
            "in_person",
            None,
        )
        await sessions.close_session(mediator1, session_id, "failed")
    assert not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "session_start_corrected"
    )


async def _case_with_a_third_party(new_key) -> int:
    grid1 = await user("grid1")
    parties = [
        *deposit_case(await grid_id()).parties,
        services.PartyInput(
            role="third_party",
            name="平湖市某某房屋中介有限公司",
            kind="organisation",
            agent_name="赵经理",
            agent_relation="员工",
        ),
    ]
    case_id = await services.register_case(
        deposit_case(await grid_id(), parties=parties), grid1, new_key()
    )
    await services.transition_case(grid1, case_id, "accept", {})
    await assign_directly(case_id, "mediator1")
    await services.transition_case(grid1, case_id, "start_mediation", {})
    return case_id


async def test_participants_are_named_by_their_role_and_a_third_party_has_a_side(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_with_a_third_party(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1,
        case_id,
        datetime(2031, 9, 1, 9, tzinfo=county_zone()),
        60,
        f"调解室{uuid.uuid4().hex[:6]}",
        "in_person",
        None,
    )
    await login(client, "mediator1")
    url = f"/cases/{case_id}/sessions/{session_id}"
    page = (await client.get(url)).text
    assert '<option value="third_party">第三人一方</option>' in page

    ticks = [
        key
        for key in re.findall(r'name="present" value="([^"]+)"', page)
        if key.startswith(("party-", "agent-"))
    ]
    response = await post_form(client, f"{url}/participants", {"present": ticks})
    assert response.status_code == 303, text_of(response.text)[:300]
    response = await post_form(
        client,
        f"{url}/participants",
        {"name": "钱律师", "role": "agent", "side": "third_party", "attended": "1"},
    )
    assert response.status_code == 303, text_of(response.text)[:300]
    # A side that is not on the list gets a message beside the field, not a server error.
    bad = await post_form(
        client, f"{url}/participants", {"name": "某人", "role": "agent", "side": "nobody"}
    )
    assert bad.status_code == 422
    assert _field_error(bad.text, "participant-side") == "请从列表中选择。"

    listed = text_of((await client.get(url)).text)
    for line in (
        "申请人：王堃",
        "被申请人：李二房东",
        "第三人：平湖市某某房屋中介有限公司",
        "平湖市某某房屋中介有限公司的委托代理人：赵经理",
        "委托代理人（第三人一方）：钱律师",
    ):
        assert line in listed, line
    assert "当事人：平湖市某某房屋中介有限公司" not in listed

    # The printed record says the same.
    record = pdf_text((await client.get(f"{url}/record.pdf")).content)
    assert "第三人：平湖市某某房屋中介有限公司" in record
    assert "委托代理人（第三人一方）：钱律师" in record


async def test_a_case_without_a_third_party_offers_only_the_two_sides(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1,
        case_id,
        datetime(2031, 9, 2, 9, tzinfo=county_zone()),
        60,
        f"调解室{uuid.uuid4().hex[:6]}",
        "in_person",
        None,
    )
    await login(client, "mediator1")
    url = f"/cases/{case_id}/sessions/{session_id}"
    assert 'value="third_party"' not in (await client.get(url)).text
    with pytest.raises(services.CaseError) as info:
        await sessions.add_participant(mediator1, session_id, "钱律师", "agent", "third_party")
    assert info.value.field == "side"
