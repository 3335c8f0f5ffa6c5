"""mediator1 books a room that is taken: the form warns, names the other case, keeps what was
typed and saves only with "schedule anyway"; then the session is cancelled with a reason."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import run_async, shot, sign_in
from tests.browser.test_session_agreement import _deposit_case_in_mediation

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Asia/Shanghai")


async def _booked(case_id: int, room: str) -> str:
    from mediation.cases import sessions
    from mediation.cases.tables import Case
    from tests.cases.conftest import user

    mediator1 = await user("mediator1")
    await sessions.schedule_session(
        mediator1, case_id, datetime(2033, 3, 3, 9, 30, tzinfo=TZ), 90, room, "in_person", None
    )
    return (await Case.select(Case.number).where(Case.id == case_id).first())["number"]


def test_a_double_booking_is_confirmed_then_the_session_cancelled(live_server, tablet):
    page = tablet
    room = f"东湖社区调解室{uuid.uuid4().hex[:4]}"
    other_number = run_async(_booked(run_async(_deposit_case_in_mediation()), room))
    case_id = run_async(_deposit_case_in_mediation())
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}/sessions/new")
    # The case's mediator presides and is ticked as attending.
    assert page.locator("#f-mediator option:checked").inner_text() == "沈建华"
    assert page.locator("input[name=attending]:checked").count() == 1
    page.fill("#f-starts_at", "2033-03-03T10:00")
    page.fill("#f-room", room)
    page.click("button:has-text('安排')")

    warning = page.locator("#double-booking")
    assert warning.is_visible()
    assert f"案件{other_number}：2033年3月3日 09:30，地点{room}" in warning.inner_text()
    assert page.input_value("#f-room") == room
    assert page.input_value("#f-starts_at") == "2033-03-03T10:00"
    shot(page, "session-double-booking-warning-768")

    page.click("button:has-text('仍然安排')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+\?double_booked=1"))
    page.click("#change summary:has-text('取消调解会')")
    page.fill("#cancel_reason", "被申请人住院，无法到场")
    page.click("#change button:has-text('取消调解会')")
    page.wait_for_load_state()
    assert page.inner_text("#session-status") == "已取消"
    assert page.locator("#minutes form").count() == 0
    shot(page, "session-cancelled-768")

    # Another session of the case is moved to a new time.
    page.goto(f"{live_server}/cases/{case_id}/sessions/new")
    page.fill("#f-starts_at", "2033-03-10T14:00")
    page.fill("#f-room", room)
    page.click("button:has-text('安排')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+$"))
    page.click("#change summary:has-text('调解会改期')")
    page.fill("#new_starts_at", "2033-03-17T14:00")
    page.fill("#reschedule_reason", "申请人出差")
    page.click("#change button:has-text('改期')")
    page.wait_for_url(re.compile(rf"/cases/{case_id}/sessions/\d+$"))
    assert page.inner_text("#session-status") == "已安排"
    page.go_back()
    page.reload()
    assert page.inner_text("#session-status").startswith("已改期 → 2033年3月17日 14:00")
    shot(page, "session-rescheduled-768")

    page.goto(f"{live_server}/cases/{case_id}")
    sessions_text = page.inner_text("#sessions")
    assert "已取消" in sessions_text and "被申请人住院，无法到场" in sessions_text
    assert "已改期 → 2033/3/17 14:00" in sessions_text
    page.locator("#sessions").screenshot(path=str(shot(page, "case-sessions-768")))
    timeline = page.content()
    assert "时间冲突仍安排调解会" in timeline and "调解会已取消" in timeline
    assert "调解会已改期" in timeline
