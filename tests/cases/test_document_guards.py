"""Documents only where the workflow has got to: no agreement before mediation starts, no
follow-up visit before an agreement or a termination.

grid1 registers the deposit case on its grid; it may draft and record on cases of its team,
but not out of turn.
"""

from __future__ import annotations

import pytest

from mediation.cases import agreements, followups, services
from mediation.cases.tables import Agreement, FollowUp
from tests.cases.conftest import deposit_case, grid_id, user
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio


async def _registered_case(new_key) -> int:
    grid1 = await user("grid1")
    return await services.register_case(deposit_case(await grid_id()), grid1, new_key())


def _visit() -> dict:
    return {
        "visited_on": services.today().isoformat(),
        "performance": "performed",
        "satisfaction": "satisfied",
        "note": "押金已退还",
    }


async def test_a_merely_registered_case_refuses_an_agreement_draft(client, new_key):
    case_id = await _registered_case(new_key)
    await login(client, "grid1")
    page = await client.get(f"/cases/{case_id}")
    assert f'action="/cases/{case_id}/agreements/new"' not in page.text
    assert "调解开始后方可起草调解协议" in text_of(page.text)
    response = await post_form(client, f"/cases/{case_id}/agreements/new", {"kind": "written"})
    assert response.status_code == 422
    assert 'id="agreement-error"' in response.text
    assert await Agreement.count().where(Agreement.case == case_id) == 0
    grid1 = await user("grid1")
    await services.transition_case(grid1, case_id, "accept", {})
    with pytest.raises(services.CaseError):
        await agreements.create_agreement(grid1, case_id, "written")


async def test_an_agreement_is_drafted_once_mediation_has_started(client, new_key):
    case_id = await _case_in_mediation(new_key)
    await login(client, "mediator1")
    page = await client.get(f"/cases/{case_id}")
    assert f'action="/cases/{case_id}/agreements/new"' in page.text
    response = await post_form(client, f"/cases/{case_id}/agreements/new", {"kind": "written"})
    assert response.status_code == 303
    assert await Agreement.count().where(Agreement.case == case_id) == 1


async def test_a_follow_up_before_an_agreement_or_termination_is_refused(client, new_key):
    registered = await _registered_case(new_key)
    mediating = await _case_in_mediation(new_key)
    await login(client, "grid1")
    for case_id in (registered, mediating):
        page = await client.get(f"/cases/{case_id}")
        assert f'action="/cases/{case_id}/follow-ups"' not in page.text
        response = await post_form(client, f"/cases/{case_id}/follow-ups", _visit())
        assert response.status_code == 422
        assert 'id="fu-status-error"' in response.text
        assert "达成协议或终止调解后方可记录回访" in text_of(response.text)
        assert await FollowUp.count().where(FollowUp.case == case_id) == 0


async def test_a_follow_up_is_recorded_after_a_termination(client, new_key):
    case_id = await _case_in_mediation(new_key)
    grid1 = await user("grid1")
    await services.transition_case(
        grid1,
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    assert await followups.follow_up_due(case_id)
    await login(client, "grid1")
    page = await client.get(f"/cases/{case_id}")
    assert f'action="/cases/{case_id}/follow-ups"' in page.text
    # No agreement was reached: the visit has no performance to record.
    response = await post_form(
        client, f"/cases/{case_id}/follow-ups", {**_visit(), "performance": ""}
    )
    assert response.status_code == 303
    assert await FollowUp.count().where(FollowUp.case == case_id) == 1


async def _terminated_case(new_key) -> int:
    case_id = await _case_in_mediation(new_key)
    await services.transition_case(
        await user("grid1"),
        case_id,
        "terminate",
        {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    )
    return case_id


async def _declined_case(new_key) -> int:
    case_id = await _registered_case(new_key)
    await services.transition_case(
        await user("grid1"), case_id, "decline", {"decline_reason": "before_court"}
    )
    return case_id


async def _closed_case(new_key) -> int:
    case_id = await _terminated_case(new_key)
    mediator1 = await user("mediator1")
    await followups.record_follow_up(
        mediator1, case_id, services.today(), "", "satisfied", "已告知起诉途径"
    )
    await services.transition_case(mediator1, case_id, "close", {})
    return case_id


@pytest.mark.parametrize(
    ("ending", "status_word"),
    [("terminated", "终止调解"), ("declined", "不予受理"), ("closed", "结案")],
)
async def test_a_case_that_can_no_longer_reach_an_agreement_offers_no_draft(
    client, new_key, ending, status_word
):
    make = {"terminated": _terminated_case, "declined": _declined_case, "closed": _closed_case}
    case_id = await make[ending](new_key)
    await login(client, "grid1")
    page = await client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert f'action="/cases/{case_id}/agreements/new"' not in page.text
    assert "起草调解协议" not in text_of(page.text)
    assert f"案件状态为“{status_word}”，不能起草或出具调解协议。" in text_of(page.text)

    response = await post_form(client, f"/cases/{case_id}/agreements/new", {"kind": "written"})
    assert response.status_code == 422
    assert 'id="agreement-error"' in response.text
    assert f"案件状态为“{status_word}”" in text_of(response.text)
    assert (await client.get(f"/cases/{case_id}/agreements/new")).status_code == 405
    with pytest.raises(services.CaseError) as refused:
        await agreements.create_agreement(
            await user("grid1"), case_id, "oral", oral_content="当场退还押金。"
        )
    assert refused.value.field == "status"
    assert await Agreement.count().where(Agreement.case == case_id) == 0


async def test_the_refusal_reads_in_english_too(client, new_key):
    case_id = await _terminated_case(new_key)
    await login(client, "grid1")
    await post_form(client, "/locale", {"locale": "en", "next": "/"})
    response = await post_form(client, f"/cases/{case_id}/agreements/new", {"kind": "written"})
    assert response.status_code == 422
    assert (
        "No agreement can be drafted or issued for a case that is “Mediation terminated”."
        in text_of(response.text)
    )


async def test_a_draft_left_when_mediation_was_terminated_cannot_be_issued(client, new_key):
    case_id = await _case_in_mediation(new_key)
    mediator1 = await user("mediator1")
    draft = await agreements.create_agreement(mediator1, case_id, "written")
    await agreements.update_draft(
        mediator1,
        draft,
        "租客提前退租。",
        "押金。",
        "",
        "",
        "",
        3,
        [agreements.ClauseInput("李二房东", "退还押金", None)],
    )
    await services.transition_case(
        mediator1,
        case_id,
        "terminate",
        {"termination_reason": "refuses_to_sign", "referral_advice": "litigation"},
    )
    await login(client, "mediator1")
    page = await client.get(f"/cases/{case_id}/agreements/{draft}")
    assert page.status_code == 200
    assert 'id="issue-agreement"' not in page.text
    assert "不能起草或出具调解协议" in text_of(page.text)
    response = await post_form(
        client,
        f"/cases/{case_id}/agreements/{draft}",
        {"main_facts": "租客提前退租。", "copies": "3", "then": "issue"},
    )
    assert response.status_code == 422
    assert "不能起草或出具调解协议" in text_of(response.text)
    row = await Agreement.select(Agreement.status, Agreement.number).where(Agreement.id == draft)
    assert row == [{"status": "draft", "number": None}]
