"""Drafts kept in the browser never bring back values the server refused once they are saved."""

from __future__ import annotations

import pytest

from mediation.clock import local_today
from tests.browser.conftest import run_async, sign_in
from tests.browser.test_session_agreement import _deposit_case_in_mediation

pytestmark = pytest.mark.browser


async def _terminated_case() -> int:
    from mediation.cases import services
    from tests.cases.conftest import user

    case_id = await _deposit_case_in_mediation()
    await services.transition_case(
        await user("mediator1"),
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    return case_id


def test_a_refused_follow_up_saved_on_retry_leaves_no_draft_behind(live_server, tablet):
    """The refused form is shown at the POST's address, so its retry saves under another
    draft key than the case page's: both must go once the retry is saved, or the case page
    fills the refused date back in and invites saving it again."""
    case_id = run_async(_terminated_case())
    page = tablet
    sign_in(page, live_server, "mediator1")
    page.goto(f"{live_server}/cases/{case_id}")
    page.click("summary:has-text('登记回访')")
    page.fill("#fu-date", "2025-01-01")  # before the case was registered: refused
    page.fill("#fu-note", "电话回访，双方情绪平稳。")
    page.click("#follow-up-form button[type=submit]")
    page.wait_for_url(f"{live_server}/cases/{case_id}/follow-ups")
    assert page.locator("#fu-date[aria-invalid=true]").count() == 1
    assert page.input_value("#fu-date") == "2025-01-01"  # what was typed is kept
    page.fill("#fu-date", local_today().isoformat())
    page.click("#follow-up-form button[type=submit]")
    page.wait_for_url(f"{live_server}/cases/{case_id}*")
    assert "电话回访，双方情绪平稳。" in page.locator("#follow-ups, body").first.inner_text()
    page.goto(f"{live_server}/cases/{case_id}")
    page.wait_for_load_state("load")
    assert page.locator(".draft-notice:visible").count() == 0
    assert page.input_value("#fu-date") == ""
    assert page.input_value("#fu-note") == ""
