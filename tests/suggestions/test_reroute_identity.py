"""Re-routing a confidential suggestion into a dispute case carries the proposer's name and
phone only with their recorded consent, and the form says so."""

from __future__ import annotations

import pytest

from mediation.cases.tables import Party
from mediation.suggestions import services
from mediation.suggestions.tables import Suggestion, SuggestionEvent
from tests.cases.conftest import grid_id, user
from tests.helpers import login, post_form, text_of
from tests.suggestions.test_staff import _submit

pytestmark = pytest.mark.anyio

NAME, PHONE = "欧阳玥", "13966668888"


async def _registered(**values) -> int:
    sid = await _submit(**values)
    await services.move(await user("admin"), sid, "register", {})
    return sid


async def _reroute(client, sid: int, consent: str = ""):
    return await post_form(
        client,
        f"/suggestions/{sid}/move",
        {
            "action": "reroute",
            "reroute_to": "dispute_case",
            "grid": str(await grid_id()),
            "case_category": "neighbour",
            "identity_consent": consent,
        },
    )


async def _applicant(sid: int) -> dict:
    case_id = (await Suggestion.select(Suggestion.case).where(Suggestion.id == sid).first())["case"]
    return await Party.select().where(Party.case == case_id).first()


async def test_the_form_warns_that_a_confidential_identity_needs_consent(client):
    sid = await _registered(name=NAME, phone=PHONE, confidential="1")
    await login(client, "admin")
    page = text_of((await client.get(f"/suggestions/{sid}")).text)
    assert "只有经其本人同意，案件中才会出现其姓名和电话" in page
    open_one = await _registered(name="周玥", phone="13811112222")
    page = text_of((await client.get(f"/suggestions/{open_one}")).text)
    assert "建议人的姓名和电话将转入案件" in page


async def test_without_consent_the_case_names_no_one_and_carries_no_phone(client):
    sid = await _registered(name=NAME, phone=PHONE, confidential="1")
    await login(client, "admin")
    response = await _reroute(client, sid)
    assert response.status_code == 303
    party = await _applicant(sid)
    assert party["name"] == "建议人（身份保密）"
    assert party["phone"] == ""
    assert await SuggestionEvent.exists().where(
        SuggestionEvent.suggestion == sid, SuggestionEvent.action == "identity_withheld"
    )
    # Nothing of the identity reaches the grid team's case page.
    client.cookies.clear()
    await login(client, "grid1")
    case_page = (await client.get(f"/cases/{party['case']}")).text
    assert NAME not in case_page and PHONE not in case_page and "139****8888" not in case_page


async def test_with_recorded_consent_the_case_names_the_proposer(client):
    sid = await _registered(name=NAME, phone=PHONE, confidential="1")
    await login(client, "admin")
    response = await _reroute(client, sid, "11月30日电话确认同意")
    assert response.status_code == 303
    party = await _applicant(sid)
    assert party["name"] == NAME and party["phone"] == PHONE
    event = (
        await SuggestionEvent.select()
        .where(SuggestionEvent.suggestion == sid, SuggestionEvent.action == "identity_consent")
        .first()
    )
    assert "11月30日电话确认同意" in event["note"]
    assert event["public"] is False


async def test_a_suggestion_that_is_not_confidential_carries_the_identity_as_before(client):
    sid = await _registered(name="周玥", phone="13811112222")
    await login(client, "admin")
    assert (await _reroute(client, sid)).status_code == 303
    party = await _applicant(sid)
    assert party["name"] == "周玥" and party["phone"] == "13811112222"
