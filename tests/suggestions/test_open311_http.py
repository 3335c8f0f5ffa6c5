"""Open311 GeoReport v2 over HTTP: documents in the spec's shape, keys, filing, reading, privacy."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from litestar.testing import AsyncTestClient

from mediation.grid.tables import AuditEvent
from mediation.suggestions import rules
from mediation.suggestions.categories import CATEGORY_CODES
from mediation.suggestions.open311_keys import create_api_key, digest_key, main, revoke_api_keys
from mediation.suggestions.open311_reading import NO_MEASURES
from mediation.suggestions.tables import ApiKey, Suggestion
from tests.suggestions.test_open311 import (
    SPEC_DISCOVERY_KEYS,
    SPEC_ENDPOINT_KEYS,
    SPEC_REQUEST_KEYS,
    SPEC_SERVICE_KEYS,
)

pytestmark = pytest.mark.anyio

BASE = "/open311/v2"
SPEC_CREATED_KEYS = ["service_request_id", "service_notice", "account_id"]
SPEC_ATTRIBUTE_KEYS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
NAME = ("玥", "周")  # first_name, last_name: 周玥
PHONE = "13812340000"
EMAIL = "zhouyue@example.com"


@pytest.fixture
async def api_key():
    return await create_api_key("测试客户端")


def form(key: str | None, **overrides) -> dict:
    values = {
        "service_code": "transport",
        "description": "东湖路与胜利路口早晚高峰拥堵严重，左转车辆排队超过三百米。",
        "attribute[topic]": "优化东湖路胜利路口红绿灯配时",
        "attribute[measures]": "建议增设左转专用相位，高峰期延长左转绿灯时间。",
        "attribute[consent_to_publish]": "true",
        "first_name": NAME[0],
        "last_name": NAME[1],
        "phone": PHONE,
        "email": EMAIL,
        "address_string": "东湖路与胜利路交叉口",
    }
    if key is not None:
        values["api_key"] = key
    values.update(overrides)
    return values


def assert_spec_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) >= 1
    for error in body:
        assert list(error) == ["code", "description"]
        assert error["code"] == status and error["description"]
    return body[0]["description"]


async def create(client, key: str, **overrides) -> str:
    response = await client.post(f"{BASE}/requests.json", data=form(key, **overrides))
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


# ---------------------------------------------------------------- discovery and services


async def test_discovery_has_exactly_the_fields_of_the_spec(client):
    response = await client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == SPEC_DISCOVERY_KEYS
    (endpoint,) = body["endpoints"]
    assert list(endpoint) == SPEC_ENDPOINT_KEYS
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]


async def test_the_services_are_the_suggestion_categories(client):
    # The county's own jurisdiction_id is accepted (another is not: see test_open311_xml).
    response = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "330482"})
    assert response.status_code == 200
    services = response.json()
    assert {s["service_code"] for s in services} == CATEGORY_CODES
    for service in services:
        assert list(service) == SPEC_SERVICE_KEYS
        assert service["metadata"] is False and service["type"] == "realtime"
        assert service["service_name"] and isinstance(service["keywords"], str)
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["transport"] == "交通出行"


async def test_a_service_definition_lists_optional_attributes_only(client):
    response = await client.get(f"{BASE}/services/transport.json")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["service_code", "attributes"] and body["service_code"] == "transport"
    codes = [a["code"] for a in body["attributes"]]
    assert codes[:4] == ["topic", "measures", "confidential", "consent_to_publish"]
    for attribute in body["attributes"]:
        assert list(attribute)[: len(SPEC_ATTRIBUTE_KEYS)] == SPEC_ATTRIBUTE_KEYS
        assert attribute["required"] is False  # metadata is false: nothing more is required
    orders = [a["order"] for a in body["attributes"]]
    assert orders == sorted(set(orders)) and orders[0] == 1


async def test_an_unknown_service_code_is_the_spec_404(client):
    description = assert_spec_error(await client.get(f"{BASE}/services/potholes.json"), 404)
    assert "potholes" in description


async def test_a_format_other_than_xml_or_json_is_refused_in_the_spec_format(client):
    response = await client.get(f"{BASE}/services/transport.txt")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/xml")
    assert "<errors><error><code>400</code>" in response.text


# ---------------------------------------------------------------- filing


async def test_filing_needs_an_api_key(client):
    response = await client.post(f"{BASE}/requests.json", data=form(None))
    assert "api_key" in assert_spec_error(response, 403)


async def test_a_wrong_or_revoked_key_is_refused(client):
    before = await Suggestion.count()
    response = await client.post(f"{BASE}/requests.json", data=form("o311_not-a-real-key"))
    assert_spec_error(response, 403)
    key = await create_api_key("即将停用的客户端")
    assert await revoke_api_keys("即将停用的客户端") == 1
    assert_spec_error(await client.post(f"{BASE}/requests.json", data=form(key)), 403)
    assert await Suggestion.count() == before


async def test_a_valid_key_files_a_suggestion_and_gets_its_receipt_code(client, api_key):
    response = await client.post(f"{BASE}/requests.json", data=form(api_key))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert list(body[0]) == SPEC_CREATED_KEYS
    code = body[0]["service_request_id"]
    assert rules.parse_tracking_code(code) == code
    assert code in body[0]["service_notice"] and body[0]["account_id"] is None
    # The citizen's secret is never handed to an Open311 client.
    assert "secret" not in response.text
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["channel"] == "open311" and row["category"] == "transport"
    assert row["title"] == "优化东湖路胜利路口红绿灯配时"
    assert row["proposer_name"] == "周玥" and row["proposer_phone"] == PHONE
    # The location is data of its own, not folded into the text.
    assert row["address"] == "东湖路与胜利路交叉口" and "交叉口" not in row["reason"]
    assert row["proposer_email"] == EMAIL
    assert row["status"] == "received" and row["consent_to_publish"] is True
    stored = await ApiKey.select().where(ApiKey.key_digest == digest_key(api_key)).first()
    assert stored["last_used_at"] is not None and api_key not in str(stored)
    audit = await AuditEvent.select().where(
        AuditEvent.action == "open311_submit", AuditEvent.entity_id == str(row["id"])
    )
    assert audit and audit[0]["detail"] == "测试客户端"


async def test_the_api_key_may_come_in_the_query_string(client, api_key):
    response = await client.post(
        f"{BASE}/requests.json", params={"api_key": api_key}, data=form(None)
    )
    assert response.status_code == 201, response.text


async def test_a_client_without_measures_or_topic_is_still_accepted(client, api_key):
    code = await create(
        client,
        api_key,
        **{
            "attribute[topic]": "",
            "attribute[measures]": "",
            "description": "公园里路灯坏了。晚上很黑。",
        },
    )
    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert row["title"] == "公园里路灯坏了" and row["measures"] == NO_MEASURES


async def test_an_area_code_in_address_id_sets_the_area(client, api_key):
    code = await create(client, api_key, address_id="330482001001")
    row = (
        await Suggestion.select(Suggestion.region.code, Suggestion.region_path)
        .where(Suggestion.tracking_code == code)
        .first()
    )
    assert row["region.code"] == "330482001001" and row["region_path"].endswith("330482001001/")


async def test_missing_and_wrong_fields_are_spec_400_errors(client, api_key):
    response = await client.post(
        f"{BASE}/requests.json",
        data=form(api_key, description="", lat="91", long="120.0", phone="12"),
    )
    assert_spec_error(response, 400)
    descriptions = " ".join(e["description"] for e in response.json())
    assert "description" in descriptions and "lat" in descriptions and "phone" in descriptions


async def test_an_unknown_service_code_cannot_be_filed(client, api_key):
    response = await client.post(f"{BASE}/requests.json", data=form(api_key, service_code="zzz"))
    assert "zzz" in assert_spec_error(response, 404)


async def test_a_closed_thematic_collection_is_refused(client, api_key):
    response = await client.post(
        f"{BASE}/requests.json", data=form(api_key, **{"attribute[call]": "999999"})
    )
    assert "attribute[call]" in assert_spec_error(response, 400)


async def test_too_many_submissions_are_refused_in_the_spec_format(app, api_key):
    from mediation.app import create_app

    settings = dataclasses.replace(app.state["settings"], public_rate_limit=2)
    async with AsyncTestClient(create_app(settings)) as client:
        for _ in range(2):
            await create(client, api_key)
        response = await client.post(f"{BASE}/requests.json", data=form(api_key))
        assert_spec_error(response, 429)
        assert response.headers.get("ratelimit-limit") == "2"
        # Reading is not limited.
        assert (await client.get(f"{BASE}/services.json")).status_code == 200


async def test_the_public_list_is_limited_per_address_in_the_spec_format(app, api_key):
    from mediation.app import create_app

    settings = dataclasses.replace(app.state["settings"], public_rate_limit=2)
    async with AsyncTestClient(create_app(settings)) as client:
        for _ in range(2):
            assert (await client.get(f"{BASE}/requests.json")).status_code == 200
        response = await client.get(f"{BASE}/requests.json")
        assert_spec_error(response, 429)
        assert response.headers.get("ratelimit-limit") == "2"
        # Its own count: the same address may still file a request.
        assert (await client.post(f"{BASE}/requests.json", data=form(api_key))).status_code == 201


# ---------------------------------------------------------------- reading


async def test_a_filed_request_reads_back_as_a_list_of_one(client, api_key):
    code = await create(client, api_key)
    response = await client.get(f"{BASE}/requests/{code}.json")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    request = body[0]
    assert list(request) == SPEC_REQUEST_KEYS
    assert request["service_request_id"] == code
    assert request["status"] == "open"
    assert request["service_code"] == "transport" and request["service_name"] == "交通出行"
    assert "左转专用相位" in request["description"]  # published with consent
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(datetime.now(requested.tzinfo) - requested) < timedelta(minutes=5)
    assert request["updated_datetime"] and request["expected_datetime"]
    # A code typed in lower case with spaces is the same request.
    again = await client.get(f"{BASE}/requests/{code.lower().replace('-', ' ')}.json")
    assert again.status_code == 200 and again.json()[0]["service_request_id"] == code


async def test_a_request_shows_its_last_public_change_and_its_first_photo(client, api_key):
    """updated_datetime is the newest public step (an office-only note after it does not count)
    and media_url the first of its photos, in the list and read alone."""
    from mediation.suggestions.tables import SuggestionEvent, SuggestionPhoto

    code = await create(client, api_key)
    row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
    zone = timezone(timedelta(hours=8))
    # After the step its filing recorded (a public one, at the time of filing).
    public_at = datetime.now(zone).replace(microsecond=0) + timedelta(hours=3)
    for at, public in ((public_at - timedelta(hours=5), True), (public_at, True)):
        await SuggestionEvent.insert(
            SuggestionEvent(suggestion=row["id"], at=at, action="note", public=public)
        )
    await SuggestionEvent.insert(
        SuggestionEvent(
            suggestion=row["id"], at=public_at + timedelta(hours=1), action="note", public=False
        )
    )
    photo_ids = []
    for n in range(2):
        photo = SuggestionPhoto(
            suggestion=row["id"],
            content_type="image/jpeg",
            size=1,
            width=1,
            height=1,
            sha256=f"{n}" * 64,
            stored_as=f"photo-{n}.jpg",
        )
        await photo.save()
        photo_ids.append(photo.id)
    listed = (await client.get(f"{BASE}/requests.json")).json()
    alone = (await client.get(f"{BASE}/requests/{code}.json")).json()
    (in_list,) = [r for r in listed if r["service_request_id"] == code]
    for request in (in_list, alone[0]):
        assert datetime.fromisoformat(request["updated_datetime"]) == public_at
        assert request["media_url"].endswith(f"/media/{code}/{min(photo_ids)}.jpg")


async def test_an_unknown_request_is_the_spec_404(client):
    assert_spec_error(await client.get(f"{BASE}/requests/JY-2000-AAAAAA.json"), 404)
    assert_spec_error(await client.get(f"{BASE}/requests/not-a-code.json"), 404)


async def test_requests_can_be_listed_by_id_status_code_and_date_window(client, api_key):
    code = await create(client, api_key)
    other = await create(client, api_key, service_code="environment")

    async def listed(**params) -> list[str]:
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        for request in response.json():
            assert list(request) == SPEC_REQUEST_KEYS
        return [r["service_request_id"] for r in response.json()]

    assert code in await listed()  # the default window is the last 90 days
    assert code in await listed(status="open")
    assert code not in await listed(status="closed")
    assert code in await listed(status="open,closed")
    assert code in await listed(service_code="transport")
    assert code not in await listed(service_code="environment")
    assert sorted(await listed(service_request_id=f"{code},{other}")) == sorted([code, other])
    # The id list overrides every other argument.
    assert await listed(service_request_id=code, status="closed") == [code]
    today = datetime.now().astimezone()
    window = {
        "start_date": (today - timedelta(days=1)).isoformat(timespec="seconds"),
        "end_date": (today + timedelta(days=1)).isoformat(timespec="seconds"),
    }
    assert code in await listed(**window)
    past = {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-03-01T00:00:00+08:00"}
    assert code not in await listed(**past)


async def test_the_list_answers_page_size_newest_requests(client, api_key, monkeypatch):
    from mediation.suggestions import open311

    codes = [await create(client, api_key) for _ in range(3)]

    async def listed(**params) -> list[str]:
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert await listed(page_size="2") == [codes[2], codes[1]]
    # Without page_size, the default: the newest DEFAULT_PAGE_SIZE.
    monkeypatch.setattr(open311, "DEFAULT_PAGE_SIZE", 2)
    assert await listed() == [codes[2], codes[1]]
    assert await listed(page_size="3") == [codes[2], codes[1], codes[0]]
    response = await client.get(f"{BASE}/requests.json", params={"page_size": "1001"})
    assert "1000" in assert_spec_error(response, 400)
    # The default and the maximum are documented in the OpenAPI document.
    schema = (await client.get("/schema/openapi.json")).json()
    text = schema["paths"]["/open311/v2/requests.json"]["get"]["description"]
    assert "100 by default" in text and "at most 1000" in text


async def test_a_window_over_90_days_and_bad_arguments_are_spec_400_errors(client):
    response = await client.get(
        f"{BASE}/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert "90" in assert_spec_error(response, 400)
    assert_spec_error(await client.get(f"{BASE}/requests.json", params={"status": "done"}), 400)
    response = await client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"})
    assert_spec_error(response, 400)
    response = await client.get(f"{BASE}/requests.json", params={"service_request_id": "nope"})
    assert_spec_error(response, 400)


async def test_no_personal_data_goes_out_even_when_written_into_the_text(client, api_key):
    code = await create(
        client,
        api_key,
        description=f"我是周玥，电话{PHONE}，邮箱{EMAIL}。东湖路口太堵了。",
    )
    texts = [
        (await client.get(f"{BASE}/requests/{code}.json")).text,
        (await client.get(f"{BASE}/requests.json", params={"service_request_id": code})).text,
        (await client.get(f"{BASE}/requests.json")).text,
    ]
    for text in texts:
        assert code in text
        for personal in ("周玥", PHONE, EMAIL, "zhouyue"):
            assert personal not in text
    assert "东湖路口太堵了" in texts[0]


async def test_a_confidential_suggestion_says_nothing_about_the_proposer(client, api_key):
    code = await create(
        client,
        api_key,
        address_id="330482001001",
        **{"attribute[confidential]": "true"},
    )
    response = await client.get(f"{BASE}/requests/{code}.json")
    request = response.json()[0]
    assert request["status"] == "open" and request["service_code"] == "transport"
    for field in ("description", "address", "address_id", "zipcode", "lat", "long", "media_url"):
        assert request[field] is None, field
    for personal in ("周玥", PHONE, EMAIL, "东湖路与胜利路交叉口", "东湖社区"):
        assert personal not in response.text


async def test_without_consent_the_content_stays_private(client, api_key):
    code = await create(client, api_key, **{"attribute[consent_to_publish]": "false"})
    request = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    assert request["description"] is None and request["address"] is None
    assert request["status"] == "open"


async def test_a_concluded_suggestion_is_closed_with_the_published_reply(client, api_key):
    from mediation.suggestions import services
    from tests.cases.conftest import user

    code = await create(client, api_key)
    sid = (await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first())[
        "id"
    ]
    admin = await user("admin")
    from mediation.grid.tables import Department

    dept = (await Department.select(Department.id).where(Department.code == "jtj").first())["id"]
    await services.move(admin, sid, "register", {})
    await services.move(admin, sid, "transfer", {"department": str(dept)})
    await services.move(admin, sid, "start_handling", {})
    await services.move(
        admin, sid, "reply", {"outcome": "adopted", "reply_text": "已增设左转专用相位。"}
    )
    await services.move(admin, sid, "conclude", {})
    request = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    assert request["status"] == "closed"
    assert "已增设左转专用相位" in request["status_notes"]
    assert request["agency_responsible"] == "平湖市交通运输局"
    assert request["expected_datetime"] is None


async def test_errors_follow_accept_language_for_api_clients(client):
    response = await client.get(
        f"{BASE}/services/nothing.json", headers={"accept-language": "en-US,en;q=0.9"}
    )
    assert "service_code not found" in assert_spec_error(response, 404)


async def test_the_endpoints_are_in_the_openapi_document(client):
    schema = (await client.get("/schema/openapi.json")).json()
    paths = [p for p in schema["paths"] if p.startswith("/open311/v2/")]
    assert len(paths) >= 5
    post = schema["paths"]["/open311/v2/requests.json"]["post"]
    assert post["tags"] == ["open311"]
    # The form is documented for both encodings the endpoint takes.
    content = post["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    fields = content["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert {"api_key", "service_code", "description", "lat", "long", "email"} <= set(fields)
    assert content["multipart/form-data"]["schema"]["properties"]["media"]["format"] == "binary"


def test_the_command_line_issues_a_key_once(capsys):
    assert main(["create-key", "命令行客户端"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("o311_") and len(key) > 40
    assert main(["revoke-key", "命令行客户端"]) == 0


async def test_unknown_paths_and_methods_under_the_root_are_spec_errors(client):
    assert_spec_error(await client.get(f"{BASE}/nothing-here.json"), 404)
    assert_spec_error(await client.get(f"{BASE}/requests/a/b/c.json"), 404)
    assert_spec_error(await client.delete(f"{BASE}/services.json"), 405)
