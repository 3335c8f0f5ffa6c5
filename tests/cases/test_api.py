"""The JSON case API: the intake form's rules, the pages' scoping, masked parties, CSRF.

grid1 registers in 东湖社区第1网格 with police1; grid4 works 西门社区 in the same town and
must not find grid1's cases by listing, searching or guessing an id.
"""

from __future__ import annotations

import uuid

import pytest

from mediation.cases import services
from mediation.cases.submissions import IntakeSubmission
from mediation.cases.tables import Case, CaseEvent, CaseMediator
from mediation.grid.tables import Mediator
from tests.cases.conftest import STUDENT_ID, deposit_case, grid_id, user
from tests.helpers import ensure_csrf, login

pytestmark = pytest.mark.anyio

PHONE = "13812345678"


def case_json(grid: int, summary: str = "学生提前退租，二房东扣押押金", **overrides) -> dict:
    body = {
        "category": "housing_land",
        "summary": summary,
        "facts": "租客提前一个月退租，二房东以违约为由不退还押金3000元。",
        "grid": grid,
        "source": "walk_in",
        "colour": "green",
        "amount": "3000.00",
        "location": "当湖街道东湖社区梅园小区3幢",
        "parties": [
            {"role": "applicant", "name": "王堃", "id_number": STUDENT_ID, "phone": PHONE},
            {"role": "respondent", "name": "李二房东", "phone": "13900001111"},
        ],
    }
    body.update(overrides)
    return body


async def post_json(client, url: str, body: dict, headers: dict | None = None):
    """A JSON POST as an API client sends it: the CSRF token copied from its cookie."""
    token = await ensure_csrf(client)
    return await client.post(url, json=body, headers={"x-csrftoken": token, **(headers or {})})


def unique(text: str) -> str:
    return f"{text}-{uuid.uuid4().hex[:8]}"


async def test_it_registers_a_case_and_answers_201_with_the_case_and_its_location(client):
    await login(client, "grid1")
    response = await post_json(client, "/api/cases", case_json(await grid_id()))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/cases/{body['id']}"
    assert body["status"] == "registered" and body["level"] == "grid"
    assert body["amount"] == "3000.00"
    assert [p["name"] for p in body["parties"]] == ["王堃", "李二房东"]
    assert [e["action"] for e in body["events"]] == ["registered"]
    assert body["events"][0]["actor"] == (await user("grid1")).display_name
    assert body["events"][0]["to_status"] == "registered"
    assert {c["name"] for c in body["clocks"]} >= {"accept"}
    assert {"due", "overdue_days", "is_overdue"} <= set(body["clocks"][0])
    assert body["mediators"] == []
    assert await Case.exists().where(Case.id == body["id"])


async def test_it_reads_the_case_it_registered(client):
    await login(client, "grid1")
    created = (await post_json(client, "/api/cases", case_json(await grid_id()))).json()
    response = await client.get(f"/api/cases/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_it_accepts_a_number_as_the_amount(client):
    await login(client, "grid1")
    response = await post_json(client, "/api/cases", case_json(await grid_id(), amount=1500.5))
    assert response.status_code == 201
    assert response.json()["amount"] == "1500.50"


async def test_a_wrong_id_checksum_is_refused_with_the_forms_message_and_key(client):
    await login(client, "grid1")
    before = await Case.count()
    body = case_json(await grid_id())
    body["parties"][0]["id_number"] = STUDENT_ID[:-1] + "8"
    response = await post_json(client, "/api/cases", body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"parties-0-id_number"}
    # The same message as beside the field on the HTML form (Chinese by default).
    assert "身份证" in errors["parties-0-id_number"]
    assert await Case.count() == before


async def test_a_missing_summary_is_refused_as_on_the_form(client):
    await login(client, "grid1")
    body = case_json(await grid_id())
    del body["summary"]
    response = await post_json(client, "/api/cases", body)
    assert response.status_code == 422
    assert response.json() == {"errors": {"summary": "此项为必填项。"}}


async def test_errors_come_in_english_for_an_english_client(client):
    await login(client, "grid1")
    client.cookies.set("lang", "en")
    body = case_json(await grid_id(), summary="", colour="purple")
    body["parties"][0]["phone"] = "12345"
    response = await post_json(client, "/api/cases", body)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "summary": "This field is required.",
        "colour": "Choose from the list.",
        "parties-0-phone": (
            "Enter a mobile number (11 digits starting with 1) or a landline with its area "
            "code, for example 0573-85012345."
        ),
    }


async def test_a_case_without_an_applicant_is_refused(client):
    await login(client, "grid1")
    response = await post_json(client, "/api/cases", case_json(await grid_id(), parties=[]))
    assert response.status_code == 422
    assert "parties" in response.json()["errors"]


async def test_more_parties_than_the_form_allows_are_refused_not_dropped(client):
    await login(client, "grid1")
    parties = [{"role": "applicant", "name": f"申请人{i}"} for i in range(21)]
    response = await post_json(client, "/api/cases", case_json(await grid_id(), parties=parties))
    assert response.status_code == 422
    assert "20" in response.json()["errors"]["parties"]


async def test_a_grid_outside_the_users_area_is_refused_beside_the_grid(client):
    await login(client, "grid1")
    response = await post_json(client, "/api/cases", case_json(await grid_id("330482001002-01")))
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"grid"}


async def test_the_same_idempotency_key_gives_one_case(client):
    await login(client, "grid1")
    body = case_json(await grid_id(), summary=unique("重复提交"))
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await post_json(client, "/api/cases", body, key)
    second = await post_json(client, "/api/cases", body, key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await Case.count().where(Case.summary == body["summary"]) == 1


async def test_without_a_key_each_post_is_a_new_case(client):
    await login(client, "grid1")
    body = case_json(await grid_id(), summary=unique("无幂等键"))
    first = await post_json(client, "/api/cases", body)
    second = await post_json(client, "/api/cases", body)
    assert first.json()["id"] != second.json()["id"]


async def test_idempotency_keys_belong_to_the_user_who_sent_them(client):
    # centre1 sees 东湖社区 too; reusing grid1's key must still make centre1 their own case.
    key = {"Idempotency-Key": "retry-1"}
    await login(client, "grid1")
    first = await post_json(client, "/api/cases", case_json(await grid_id()), key)
    await login(client, "centre1")
    second = await post_json(client, "/api/cases", case_json(await grid_id()), key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    # A form's key can never match an API key either: API keys are stored hashed and prefixed.
    assert not await IntakeSubmission.exists().where(IntakeSubmission.key == "retry-1")


async def test_an_overlong_idempotency_key_is_refused(client):
    await login(client, "grid1")
    key = {"Idempotency-Key": "k" * 201}
    response = await post_json(client, "/api/cases", case_json(await grid_id()), key)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"idempotency_key"}


async def test_it_lists_cases_newest_first_with_paging_fields(client):
    await login(client, "grid1")
    created = (await post_json(client, "/api/cases", case_json(await grid_id()))).json()
    response = await client.get("/api/cases")
    assert response.status_code == 200
    body = response.json()
    assert body["page"] == 1 and isinstance(body["has_more"], bool)
    assert body["items"][0]["id"] == created["id"]
    assert body["items"][0]["number"] == created["number"]


async def test_it_filters_like_the_html_list(client):
    await login(client, "grid1")
    summary = unique("过滤测试")
    created = (
        await post_json(
            client, "/api/cases", case_json(await grid_id(), summary=summary, colour="yellow")
        )
    ).json()
    found = (await client.get("/api/cases", params={"q": summary})).json()["items"]
    assert [c["id"] for c in found] == [created["id"]]
    assert (await client.get("/api/cases", params={"q": summary, "colour": "red"})).json()[
        "items"
    ] == []
    by_status = (
        await client.get("/api/cases", params={"q": summary, "status": "registered", "page": 1})
    ).json()
    assert [c["id"] for c in by_status["items"]] == [created["id"]]
    assert (await client.get("/api/cases", params={"page": 0})).status_code == 400


async def test_another_communitys_worker_cannot_list_search_or_read_the_case(client):
    grid1 = await user("grid1")
    summary = unique("东湖社区的纠纷")
    case_id = await services.register_case(
        deposit_case(await grid_id(), summary=summary), grid1, uuid.uuid4().hex
    )
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    await login(client, "grid4")
    listed = (await client.get("/api/cases")).json()["items"]
    assert case_id not in [c["id"] for c in listed]
    for needle in (summary, number, "王堃"):
        found = (await client.get("/api/cases", params={"q": needle})).json()["items"]
        assert case_id not in [c["id"] for c in found]
    response = await client.get(f"/api/cases/{case_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status_code"] == 404
    # The same answer as for an id that does not exist: no probing.
    assert (await client.get("/api/cases/99999999")).status_code == 404


async def test_the_town_centre_reads_a_case_of_any_of_its_communities(client):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    await login(client, "centre1")
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200


async def test_no_response_carries_a_full_id_number_or_phone(client):
    await login(client, "grid1")
    created = await post_json(client, "/api/cases", case_json(await grid_id()))
    case_id = created.json()["id"]
    read = await client.get(f"/api/cases/{case_id}")
    listed = await client.get("/api/cases", params={"q": "王堃"})
    for response in (created, read, listed):
        assert STUDENT_ID not in response.text
        assert PHONE not in response.text
        assert "13900001111" not in response.text
    applicant = read.json()["parties"][0]
    assert applicant["id_number_masked"] == "330*************19"
    assert applicant["phone_masked"] == "138****5678"
    assert "id_number" not in applicant and "phone" not in applicant


async def test_a_post_without_the_csrf_header_is_refused(client):
    await login(client, "grid1")
    before = await Case.count()
    response = await client.post("/api/cases", json=case_json(await grid_id()))
    assert response.status_code == 403
    response = await client.post(
        "/api/cases", json=case_json(await grid_id()), headers={"x-csrftoken": "forged"}
    )
    assert response.status_code == 403
    assert await Case.count() == before


async def test_a_get_hands_out_the_csrf_cookie_an_api_client_needs(client):
    await login(client, "grid1")
    client.cookies.delete("csrftoken")
    assert (await client.get("/api/cases")).status_code == 200
    token = client.cookies.get("csrftoken")
    assert token
    response = await client.post(
        "/api/cases", json=case_json(await grid_id()), headers={"x-csrftoken": token}
    )
    assert response.status_code == 201


async def test_anonymous_callers_get_401_as_json(client):
    for response in (
        await client.get("/api/cases"),
        await client.get("/api/cases/1"),
        await post_json(client, "/api/cases", case_json(1)),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["status_code"] == 401


async def test_only_intake_roles_may_register_but_an_assigned_mediator_may_read(client):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    await login(client, "mediator1")
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 404
    mediator1 = await user("mediator1")
    profile = await Mediator.select(Mediator.id).where(Mediator.staff == mediator1.id).first()
    await CaseMediator(case=case_id, mediator=profile["id"]).save()
    assert (await client.get(f"/api/cases/{case_id}")).status_code == 200
    response = await post_json(client, "/api/cases", case_json(await grid_id()))
    assert response.status_code == 403
    assert response.json()["status_code"] == 403


async def test_a_handler_without_a_case_role_may_not_read_cases(client):
    await login(client, "handler1")
    assert (await client.get("/api/cases")).status_code == 403


async def test_reading_through_the_api_records_no_reveal(client):
    grid1 = await user("grid1")
    case_id = await services.register_case(deposit_case(await grid_id()), grid1, uuid.uuid4().hex)
    await login(client, "grid1")
    await client.get(f"/api/cases/{case_id}")
    assert not await CaseEvent.exists().where(
        CaseEvent.case == case_id, CaseEvent.action == "revealed"
    )


async def test_the_openapi_schema_documents_the_case_api(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/cases"])
    assert "get" in paths["/api/cases/{case_id}"]
    post = paths["/api/cases"]["post"]
    assert post["tags"] == ["cases"]
    request_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = schema["components"]["schemas"][request_ref.rsplit("/", 1)[1]]
    assert {"category", "summary", "grid", "parties", "amount"} <= set(request_schema["properties"])
    assert {"201", "422"} <= set(post["responses"])
    assert "Idempotency-Key" in [p["name"] for p in post.get("parameters", [])]
    parties = schema["components"]["schemas"]["PartyIn"]["properties"]
    assert {"role", "name", "id_number", "phone", "refuses_mediation"} <= set(parties)
    out = schema["components"]["schemas"]["PartyOut"]["properties"]
    assert "id_number_masked" in out and "id_number" not in out
    # The HTML pages stay out of the API document.
    assert not any(p.startswith("/cases") for p in paths)


async def test_a_link_to_a_case_that_does_not_exist_is_not_a_server_error(client):
    await login(client, "grid1")
    response = await post_json(
        client, "/api/cases", case_json(await grid_id(), linked_case=99999999)
    )
    assert response.status_code in (201, 422)
