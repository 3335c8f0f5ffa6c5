"""Who sees a case: its grid team, its assigned mediators wherever it is, centre staff of its
area; a volunteer with no assignment sees none, and notifications only point where one may go.

Personas: mediator1 is a volunteer mediator of 当湖街道; mediator6 is a volunteer of 新埭镇
with no assignment; grid1/police1 are the team of 东湖社区第1网格; grid2 works the next grid
of the same community; centre1 staffs the 当湖街道 centre.
"""

from __future__ import annotations

import re

import pytest

from mediation.cases import access, services
from mediation.cases.tables import Case, CaseEvent, CaseMediator, Notification, Party
from mediation.grid.tables import Mediator
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

XINDAI_GRID = "330482101001-01"  # a grid of 新埭镇, another town than mediator1's


async def _assign(case_id: int, username: str) -> None:
    person = await user(username)
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == person.id).first()
    await CaseMediator(case=case_id, mediator=profile["id"]).save()


async def _unassign(case_id: int, username: str) -> None:
    person = await user(username)
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == person.id).first()
    await CaseMediator.update({CaseMediator.active: False}).where(
        CaseMediator.case == case_id, CaseMediator.mediator == profile["id"]
    )


async def _xindai_case(new_key) -> int:
    admin = await user("admin")
    return await services.register_case(deposit_case(await grid_id(XINDAI_GRID)), admin, new_key())


async def test_a_mediator_opens_a_case_they_are_assigned_to_in_another_town(client, new_key):
    case_id = await _xindai_case(new_key)
    await _assign(case_id, "mediator1")
    await login(client, "mediator1")
    response = await client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    listed = await client.get("/cases")
    assert f"/cases/{case_id}" in listed.text


async def test_a_mediator_does_not_open_an_unassigned_case_of_their_own_town(client, new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    await login(client, "mediator1")
    assert (await client.get(f"/cases/{case_id}")).status_code == 404
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    assert f'/cases/{case_id}"' not in (await client.get("/cases")).text


async def test_an_unassigned_volunteer_sees_no_case_and_reveals_nothing(client, new_key):
    admin = await user("admin")
    case_id = await services.register_case(
        deposit_case(await grid_id(XINDAI_GRID)), admin, new_key()
    )
    mediator6 = await user("mediator6")
    assert await services.case_for(admin, case_id) is not None
    assert not await access.case_entitled(mediator6, case_id)
    await login(client, "mediator6")
    assert (await client.get(f"/cases/{case_id}")).status_code == 404
    listing = await client.get("/cases")
    assert listing.status_code == 200
    assert re.search(r'href="/cases/\d', listing.text) is None
    assert (await client.get("/api/cases")).json()["items"] == []
    party = await Party.select(Party.id).where(Party.case == case_id).first()
    response = await post_form(
        client, f"/cases/{case_id}/parties/{party['id']}/reveal/id_number", {}
    )
    assert response.status_code == 404
    assert not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "revealed"
    )


async def test_the_grid_team_sees_its_case_and_the_next_grids_worker_does_not(client, new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    for username, expected in (("police1", 200), ("centre1", 200), ("grid2", 404)):
        client.cookies.clear()
        await login(client, username)
        assert (await client.get(f"/cases/{case_id}")).status_code == expected, username


async def test_a_handler_sees_no_case_through_the_entitlement_rule(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    case = await Case.select().where(Case.id == case_id).first()
    assert await access.entitled_to_case(grid1, case)
    assert not await access.entitled_to_case(await user("handler1"), case)
    assert await access.entitled_to_case(await user("admin"), case)


async def test_notifications_leave_out_cases_the_reader_may_not_open(client, new_key):
    grid1 = await user("grid1")
    mediator1 = await user("mediator1")
    open_case = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    closed_to_them = await services.register_case(
        deposit_case(await grid_id(), summary="邻里噪音扰民纠纷"), grid1, new_key()
    )
    await _assign(open_case, "mediator1")
    await services.mark_notifications_read(mediator1)
    await services.notify([mediator1.id], open_case, "assigned", "派案通知甲")
    await services.notify([mediator1.id], closed_to_them, "assigned", "派案通知乙")
    await login(client, "mediator1")
    page = text_of((await client.get("/notifications")).text)
    assert "派案通知甲" in page
    assert "派案通知乙" not in page
    assert await Notification.exists().where(Notification.message == "派案通知乙")
    # The unread counter counts what the inbox shows: the one they may open.
    assert await services.unread_count(mediator1) == 1


# ---------------------------------------------------------------- printing is a reveal


def _pdf_text(pdf: bytes) -> str:
    import subprocess

    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode())


async def _print_reveals(case_id: int, username: str) -> int:
    person = await user(username)
    return await CaseEvent.count().where(
        CaseEvent.case == case_id,
        CaseEvent.action == "revealed",
        CaseEvent.actor == person.id,
    )


async def test_printing_the_agreement_in_full_is_for_the_case_and_is_recorded(client, new_key):
    from tests.cases.conftest import STUDENT_ID
    from tests.cases.test_sessions_and_agreements import _issued_agreement

    case_id, agreement_id = await _issued_agreement(new_key)
    url = f"/cases/{case_id}/agreements/{agreement_id}/agreement.pdf"
    await _unassign(case_id, "mediator2")  # in case the ranking picked them for this case

    # mediator2 volunteers in the case's own community but is not on the case.
    await login(client, "mediator2")
    assert (await client.get(url)).status_code == 404
    assert await _print_reveals(case_id, "mediator2") == 0

    client.cookies.clear()
    await login(client, "mediator1")
    response = await client.get(url)
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert STUDENT_ID in text and "13812345678" in text
    assert await _print_reveals(case_id, "mediator1") == 1
    assert response.headers["cache-control"] == "no-store"

    # The administrator keeps the register, not the cases: no print, nothing logged.
    client.cookies.clear()
    await login(client, "admin")
    assert (await client.get(url)).status_code == 403
    assert await _print_reveals(case_id, "admin") == 0

    client.cookies.clear()
    await login(client, "mediator1")
    timeline = text_of((await client.get(f"/cases/{case_id}")).text)
    assert "调解协议书（打印）" in timeline
