"""Sessions as a consultation room runs them: a double booking needs an explicit "schedule
anyway", a session can be cancelled or rescheduled (recorded, kept out of the case file),
attendance is ticked from the case's parties, a finished session says 已结束; a terminated
case's file carries its termination notice and the case page shows the notice's number."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mediation.cases import services, sessions
from mediation.cases.tables import Case, CaseEvent, CaseMediator, MediationSession, Party
from mediation.cases.tables import SessionParticipant as Participant
from mediation.clock import utc_now
from mediation.grid.tables import Mediator
from mediation.portal.tables import PartyMessage
from tests.cases.conftest import user
from tests.cases.test_printed_records import pdf_text
from tests.cases.test_sessions_and_agreements import _case_in_mediation, assign_directly
from tests.conftest import ARTIFACTS
from tests.helpers import login, post_form, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]
TZ = ZoneInfo("Asia/Shanghai")


def _room() -> str:
    """A room nobody else books, so only this test's sessions can clash in it."""
    return f"调解室{uuid.uuid4().hex[:8]}"


async def _case_number(case_id: int) -> str:
    return (await Case.select(Case.number).where(Case.id == case_id).first())["number"]


async def _events(case_id: int, action: str) -> list[dict]:
    return (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id, CaseEvent.action == action)
        .output(load_json=True)
    )


async def test_a_double_booking_saves_nothing_until_scheduled_anyway(client, new_key):
    mediator1 = await user("mediator1")
    room = _room()
    first_case = await _case_in_mediation(new_key)
    await sessions.schedule_session(
        mediator1, first_case, datetime(2032, 3, 3, 9, 30, tzinfo=TZ), 90, room, "in_person", None
    )
    case_id = await _case_in_mediation(new_key)
    form = {
        "starts_at": "2032-03-03T10:00",
        "minutes": "45",
        "room": room,
        "mode": "in_person",
        "mediator": "",
    }
    await login(client, "mediator1")

    refused = await post_form(client, f"/cases/{case_id}/sessions/new", form)
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "该时段调解室或调解员已有安排" in page
    # The warning names the other session and its case; what was typed is kept.
    assert f"案件{await _case_number(first_case)}：2032年3月3日 09:30，地点{room}" in page
    assert f'value="{room}"' in refused.text and 'value="2032-03-03T10:00"' in refused.text
    assert 'value="45"' in refused.text
    assert 'name="double_booking_confirmed"' in refused.text
    assert not await MediationSession.exists().where(MediationSession.case == case_id)
    assert not await _events(case_id, "session_scheduled")

    saved = await post_form(
        client, f"/cases/{case_id}/sessions/new", {**form, "double_booking_confirmed": "1"}
    )
    assert saved.status_code == 303
    rows = await MediationSession.select().where(MediationSession.case == case_id)
    assert [(r["room"], r["minutes_planned"]) for r in rows] == [(room, 45)]
    [override] = await _events(case_id, "session_double_booked")
    assert override["changes"]["other_case"] == [None, await _case_number(first_case)]
    timeline = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "时间冲突仍安排调解会" in timeline


async def test_the_same_mediator_elsewhere_is_a_double_booking_too(new_key):
    mediator1 = await user("mediator1")
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == mediator1.id).first()
    when = datetime(2032, 4, 7, 14, tzinfo=TZ)
    first_case = await _case_in_mediation(new_key)
    await sessions.schedule_session(
        mediator1, first_case, when, 60, _room(), "in_person", profile["id"]
    )
    case_id = await _case_in_mediation(new_key)
    with pytest.raises(sessions.DoubleBooking) as info:
        await sessions.schedule_session(
            mediator1,
            case_id,
            when + timedelta(minutes=30),
            60,
            _room(),
            "in_person",
            profile["id"],
            refuse_double_booking=True,
        )
    assert {c.reason for c in info.value.conflicts} == {"mediator"}
    assert not await MediationSession.exists().where(MediationSession.case == case_id)


async def _mediator_id(username: str) -> int:
    row = await Mediator.select(Mediator.id).where(Mediator.staff.username == username).first()
    return row["id"]


async def test_a_mediator_only_attending_another_session_is_double_booked(new_key):
    """Mediator 2 sits in on a session mediator 1 presides: a session mediator 2 would
    preside at the same time clashes, and so does moving mediator 1's session onto one that
    mediator 2 presides — whoever was to mediate, presiding or attending."""
    mediator1 = await user("mediator1")
    first_case = await _case_in_mediation(new_key)
    await assign_directly(first_case, "mediator2")
    m1, m2 = await _mediator_id("mediator1"), await _mediator_id("mediator2")
    when = datetime(2032, 5, 11, 9, tzinfo=TZ)
    attended, _ = await sessions.schedule_session(
        mediator1, first_case, when, 60, _room(), "in_person", m1, attending_mediators=[m1, m2]
    )
    second_case = await _case_in_mediation(new_key)
    with pytest.raises(sessions.DoubleBooking) as info:
        await sessions.schedule_session(
            mediator1,
            second_case,
            when + timedelta(minutes=15),
            60,
            _room(),
            "in_person",
            m2,
            refuse_double_booking=True,
        )
    assert [(c.session_id, c.reason) for c in info.value.conflicts] == [(attended, "mediator")]
    # Nobody of session one elsewhere two hours later: no clash.
    later, clashes = await sessions.schedule_session(
        mediator1, second_case, when + timedelta(hours=3), 60, _room(), "in_person", m2
    )
    assert clashes == []
    with pytest.raises(sessions.DoubleBooking) as info:
        await sessions.reschedule_session(
            mediator1,
            attended,
            when + timedelta(hours=3, minutes=30),
            _room(),
            "当事人申请改期",
            refuse_double_booking=True,
        )
    assert [(c.session_id, c.reason) for c in info.value.conflicts] == [(later, "mediator")]


async def test_cancel_and_reschedule_are_recorded_and_left_out_of_the_case_file(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    room = _room()
    held, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2032, 5, 6, 9, tzinfo=TZ), 60, room, "in_person", None
    )
    await sessions.add_participant(mediator1, held, "王堃", "party", "applicant")
    await sessions.add_minute(mediator1, held, "王堃", "押金收据在此。")
    # It ends after it started (closed at the time it is held).
    with time_machine.travel(datetime(2032, 5, 6, 10, 30, tzinfo=TZ), tick=False):
        await sessions.close_session(mediator1, held, "adjourned", datetime(2032, 5, 20).date())
    cancelled, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2032, 5, 8, 9, tzinfo=TZ), 60, room, "in_person", None
    )
    moved, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2032, 5, 9, 15, tzinfo=TZ), 60, room, "in_person", None
    )
    await login(client, "mediator1")
    base = f"/cases/{case_id}/sessions"

    no_reason = await post_form(client, f"{base}/{cancelled}/cancel", {"cancel_reason": " "})
    assert no_reason.status_code == 422
    assert "请填写原因" in text_of(no_reason.text)
    response = await post_form(
        client, f"{base}/{cancelled}/cancel", {"cancel_reason": "被申请人住院，无法到场"}
    )
    assert response.status_code == 303
    response = await post_form(
        client,
        f"{base}/{moved}/reschedule",
        {"new_starts_at": "2032-05-12T10:00", "new_room": room, "reschedule_reason": "申请人出差"},
    )
    assert response.status_code == 303
    replacement = int(re.search(r"/sessions/(\d+)", response.headers["location"]).group(1))

    rows = {
        r["id"]: r for r in await MediationSession.select().where(MediationSession.case == case_id)
    }
    assert (rows[cancelled]["status"], rows[cancelled]["cancel_reason"]) == (
        "cancelled",
        "被申请人住院，无法到场",
    )
    assert rows[moved]["status"] == "rescheduled"
    assert rows[moved]["rescheduled_to"] == replacement
    assert rows[replacement]["status"] == "scheduled"
    assert rows[replacement]["starts_at"] == datetime(2032, 5, 12, 10, tzinfo=TZ)
    [cancel_event] = await _events(case_id, "session_cancelled")
    assert cancel_event["note"] == "被申请人住院，无法到场"
    [move_event] = await _events(case_id, "session_rescheduled")
    assert move_event["note"] == "申请人出差"
    # The parties are texted: the cancelled sitting, and the new time of the moved one.
    texts = await PartyMessage.select(PartyMessage.event, PartyMessage.text).where(
        PartyMessage.case == case_id
    )
    assert any(
        t["event"] == "session_cancelled" and "原定于5月8日 09:00的调解会已取消" in t["text"]
        for t in texts
    )
    assert any(t["event"] == "session_rescheduled" and "5月12日 10:00" in t["text"] for t in texts)

    # Each session shows its state; the moved one points to its new time.
    cancelled_page = text_of((await client.get(f"{base}/{cancelled}")).text)
    assert "已取消" in cancelled_page and "被申请人住院，无法到场" in cancelled_page
    moved_page = text_of((await client.get(f"{base}/{moved}")).text)
    assert "已改期 → 2032年5月12日 10:00" in moved_page

    # A cancelled session gets no minutes and no participants, and has no record to print.
    with pytest.raises(services.CaseError):
        await sessions.add_minute(mediator1, cancelled, "王堃", "补充")
    refused = await post_form(
        client, f"{base}/{cancelled}/minutes", {"speaker": "王堃", "statement": "补充"}
    )
    assert refused.status_code == 422
    with pytest.raises(services.CaseError):
        await sessions.add_participant(mediator1, cancelled, "王堃", "party", "applicant")
    assert (await client.get(f"{base}/{cancelled}/record.pdf")).status_code == 404

    # The timeline keeps both, with labels; the file has only the session that took place.
    file_text = pdf_text((await client.get(f"/cases/{case_id}/file.pdf")).content)
    assert "调解会已取消" in file_text and "调解会已改期" in file_text
    assert "被申请人住院，无法到场" in file_text and "申请人出差" in file_text
    assert "押金收据在此。" in file_text
    assert "调解笔录·2032年5月6日" in file_text  # held
    assert "调解笔录·2032年5月12日" in file_text  # the replacement, still to come
    assert "调解笔录·2032年5月8日" not in file_text  # cancelled
    assert "调解笔录·2032年5月9日" not in file_text  # moved away


async def test_attendance_is_ticked_from_the_parties_and_their_agents(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    await Party.update(
        {Party.agent_name: "赵律师", Party.agent_relation: "平湖某律师事务所"}
    ).where(Party.case == case_id, Party.name == "李二房东")
    parties = {
        p["name"]: p["id"]
        for p in await Party.select(Party.id, Party.name).where(Party.case == case_id)
    }
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2032, 6, 1, 9, tzinfo=TZ), 60, _room(), "in_person", None
    )
    await login(client, "mediator1")
    url = f"/cases/{case_id}/sessions/{session_id}"
    page = (await client.get(url)).text
    assert f'value="party-{parties["王堃"]}"' in page
    assert f'value="agent-{parties["李二房东"]}"' in page
    assert "李二房东的委托代理人：赵律师" in text_of(page)

    response = await post_form(
        client,
        f"{url}/participants",
        {
            "present": [f"party-{parties['王堃']}", f"agent-{parties['李二房东']}"],
            "name": "东湖社区居委会张主任",
            "role": "residents_committee",
            "side": "",
            "attended": "1",
        },
    )
    assert response.status_code == 303
    got = {
        p["name"]: (p["role"], p["side"])
        for p in await Participant.select().where(Participant.session == session_id)
    }
    assert got == {
        "王堃": ("party", "applicant"),
        "赵律师": ("agent", "respondent"),
        "东湖社区居委会张主任": ("residents_committee", ""),
    }
    # The record prints the party's role and whose agent someone is.
    record = pdf_text((await client.get(f"{url}/record.pdf")).content)
    assert "申请人：王堃" in record
    assert "李二房东的委托代理人：赵律师" in record
    # Ticked people are no longer offered.
    assert f'value="party-{parties["王堃"]}"' not in (await client.get(url)).text


async def test_the_new_session_form_preselects_the_case_mediators(client, new_key):
    case_id = await _case_in_mediation(new_key)
    await assign_directly(case_id, "mediator3")
    ids = {
        r["mediator.staff.username"]: r["mediator"]
        for r in await CaseMediator.select(
            CaseMediator.mediator, CaseMediator.mediator.staff.username
        ).where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
    }
    await login(client, "mediator1")
    page = (await client.get(f"/cases/{case_id}/sessions/new")).text
    # mediator1 is signed in and assigned: they preside; both are ticked as attending.
    assert re.search(rf'<option value="{ids["mediator1"]}" selected>', page)
    for username in ("mediator1", "mediator3"):
        assert re.search(rf'name="attending" value="{ids[username]}" checked', page), username


async def test_a_finished_session_says_finished_not_closed_case(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    session_id, _ = await sessions.schedule_session(
        mediator1, case_id, datetime(2032, 7, 1, 9, tzinfo=TZ), 60, _room(), "in_person", None
    )
    await sessions.close_session(
        mediator1, session_id, "failed", started_at=utc_now() - timedelta(hours=1)
    )
    await login(client, "mediator1")
    session_page = (await client.get(f"/cases/{case_id}/sessions/{session_id}")).text
    status = re.search(r'<dd id="session-status">(.*?)</dd>', session_page).group(1)
    assert text_of(status).strip() == "已结束 · 调解不成"
    assert "结案" not in text_of(session_page)
    case_page = (await client.get(f"/cases/{case_id}")).text
    [line] = [li for li in case_page.split("<li>") if f"/sessions/{session_id}" in li]
    assert "已结束" in text_of(line) and "结案" not in text_of(line)


async def test_a_terminated_case_file_carries_the_termination_notice(client, new_key):
    grid1 = await user("grid1")
    case_id = await _case_in_mediation(new_key)
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    number = (await Case.select(Case.termination_number).where(Case.id == case_id).first())[
        "termination_number"
    ]
    assert re.fullmatch(rf"（{services.today().year}）\S+调终字第\d+号", number or "")
    await login(client, "mediator1")
    case_page = (await client.get(f"/cases/{case_id}")).text
    # The number stands next to the link to the notice.
    assert re.search(
        rf'href="/cases/{case_id}/termination.pdf"[^>]*>[^<]+</a>\s*'
        rf'<span class="termination-number">{re.escape(number)}</span>',
        case_page,
    )
    pdf = (await client.get(f"/cases/{case_id}/file.pdf")).content
    (ARTIFACTS / "case-file-terminated.pdf").write_bytes(pdf)  # rendered to PNG and looked at
    file_text = pdf_text(pdf)
    for expected in (
        "终止调解通知书",
        number,
        "王堃、李二房东：",
        "（一）依法向有管辖权的人民法院提起诉讼。",
        "送达回证",
    ):
        assert expected in file_text, expected
