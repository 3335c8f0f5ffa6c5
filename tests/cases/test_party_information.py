"""A party's basic information: derived from the ID number at registration, completed on the
party page by the case's mediator, and migrated from what existing cases stored."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

from mediation import crypto
from mediation.cases import parties, services
from mediation.cases.tables import CaseMediator, Party
from tests.cases.conftest import deposit_case, grid_id, user
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login, post_form

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]


async def test_the_id_number_tells_birth_date_and_gender():
    assert parties.birth_date_from_id("330482200305170019") == date(2003, 5, 17)
    assert parties.gender_from_id("330482200305170019") == "male"
    assert parties.gender_from_id("330482198802210026") == "female"
    assert parties.birth_date_from_id("91330482MA2B3C4D5E") is None
    assert parties.looks_like_credit_code("91330482MA2B3C4D5E")


async def test_registration_derives_a_person_s_birth_date_and_gender(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, new_key())
    row = await Party.select().where(Party.case == case_id, Party.name == "王堃").first()
    assert (row["birth_date"], row["gender"]) == (date(2003, 5, 17), "male")


async def test_the_case_s_mediator_completes_an_organisation(client, new_key):
    case_id = await _case_in_mediation(new_key)
    party = await Party.select().where(Party.case == case_id, Party.name == "李二房东").first()
    await Party.update({Party.kind: "organisation"}).where(Party.id == party["id"])
    await login(client, "mediator1")
    url = f"/cases/{case_id}/parties/{party['id']}/"
    page = await client.get(url)
    assert page.status_code == 200 and "统一社会信用代码" in page.text and "名称" in page.text

    bad = await post_form(client, url, {"name": "梅园物业", "credit_code": "123"})
    assert bad.status_code == 422
    assert "统一社会信用代码由18位" in bad.text and 'value="123"' in bad.text

    good = await post_form(
        client,
        url,
        {
            "name": "平湖市梅园物业服务有限公司",
            "credit_code": "91330482ma2b3c4d5e",
            "address": "平湖市当湖街道梅园路1号",
            "legal_rep": "李建国",
            "legal_rep_title": "总经理",
        },
    )
    assert good.status_code in (302, 303)
    row = await Party.select().where(Party.id == party["id"]).first()
    assert (row["credit_code"], row["legal_rep"], row["legal_rep_title"]) == (
        "91330482MA2B3C4D5E",
        "李建国",
        "总经理",
    )


async def test_a_mediator_not_on_the_case_cannot_change_a_party(client, new_key):
    case_id = await _case_in_mediation(new_key)
    mediator1 = await user("mediator1")
    await CaseMediator.update({CaseMediator.active: False}).where(
        CaseMediator.case == case_id, CaseMediator.mediator.staff == mediator1.id
    )
    party = await Party.select().where(Party.case == case_id).first()
    await login(client, "mediator1")
    response = await post_form(
        client, f"/cases/{case_id}/parties/{party['id']}/", {"name": "改名", "ethnicity": "汉族"}
    )
    # Refused: off the case the mediator may not change it (and may not even see it).
    assert response.status_code in (404, 422)
    assert (await Party.select(Party.name).where(Party.id == party["id"]).first())["name"] == (
        party["name"]
    )


async def test_existing_parties_are_migrated(new_key):
    case_id = await _case_in_mediation(new_key)
    person, other = await Party.select().where(Party.case == case_id).order_by(Party.id)
    await Party.update(
        {
            Party.representative: "王大明",
            Party.agent_name: "",
            Party.birth_date: None,
            Party.gender: "",
        }
    ).where(Party.id == person["id"])
    await Party.update(
        {
            Party.kind: "organisation",
            Party.representative: "李建国（负责人）",
            Party.id_number_encrypted: crypto.encrypt("91330482MA2B3C4D5E"),
            Party.credit_code: "",
            Party.legal_rep: "",
        }
    ).where(Party.id == other["id"])
    module = importlib.import_module(
        "mediation.cases.piccolo_migrations.cases_2026_11_30t00_20_18_384682"
    )
    manager = await module.forwards()
    for step in manager.raw:
        await step()
    person = await Party.select().where(Party.id == person["id"]).first()
    other = await Party.select().where(Party.id == other["id"]).first()
    assert (person["agent_name"], person["birth_date"], person["gender"]) == (
        "王大明",
        date(2003, 5, 17),
        "male",
    )
    assert (other["legal_rep"], other["credit_code"]) == ("李建国（负责人）", "91330482MA2B3C4D5E")
