"""Open311 GeoReport v2: the documents match the spec's examples and leak no personal data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mediation import i18n
from mediation.suggestions.open311 import (
    MAX_WINDOW,
    OPEN311_STATUS,
    REQUEST_FIELDS,
    SPECIFICATION,
    created_response,
    derive_topic,
    discovery,
    error_response,
    parse_list_params,
    parse_service_request_in,
    parse_w3_datetime,
    proposer_name,
    scrub,
    service_list,
    service_request_out,
    statuses_for,
    w3_datetime,
)
from mediation.suggestions.rules import SuggestionStatus

pytestmark = pytest.mark.pure

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=CHINA)

# Field names copied from the JSON examples of https://wiki.open311.org/GeoReport_v2 and
# https://wiki.open311.org/Service_Discovery.
SPEC_DISCOVERY_KEYS = ["changeset", "contact", "key_service", "endpoints"]
SPEC_ENDPOINT_KEYS = ["specification", "url", "changeset", "type", "formats"]
SPEC_SERVICE_KEYS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
SPEC_REQUEST_KEYS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
# The spec's example POST body, as a form parser hands it over.
SPEC_POST_EXAMPLE = {
    "api_key": "xyz",
    "jurisdiction_id": "city.gov",
    "service_code": "001",
    "lat": "37.76524078",
    "long": "-122.4212043",
    "address_string": "1234 5th street",
    "email": "smit333@sfgov.edu",
    "device_id": "tt222111",
    "account_id": "123456",
    "first_name": "john",
    "last_name": "smith",
    "phone": "111111111",
    "description": "A large sinkhole is destroying the street",
    "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
    "attribute[WHISPAWN]": "123456",
    "attribute[WHISDORN]": "COISL001",
}


@pytest.fixture(autouse=True)
def chinese():
    token = i18n.set_locale("zh_CN")
    yield
    i18n.reset_locale(token)


def suggestion(**changes):
    record = {
        "tracking_code": "JY-2026-7K3Q9M",
        "status": "transferred",
        "status_notes": "已转县住建局办理。",
        "category_code": "housing",
        "category_name": "住房建设",
        "topic": "老旧小区加装电梯",
        "reason": "幸福里3幢六层没有电梯，老人上下楼困难。",
        "measures": "出台加装电梯补贴政策。",
        "department_name": "县住建局",
        "service_notice": "30日内答复。",
        "received_at": datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 4, 9, 0),
        "conclude_due": date(2026, 4, 1),
        "address": "幸福里3幢",
        "address_id": "HX-0312",
        "zipcode": "314200",
        "lat": 30.6975,
        "long": 121.0152,
        "media_url": "https://example.gov.cn/media/1.jpg",
        "confidential": False,
        "consent_to_publish": True,
        "name": "王秀英",
        "phone": "13905731234",
        "email": "wxy@example.com",
        "device_id": "ipad-7",
        "account_id": "acct-9",
    }
    record.update(changes)
    return record


# --- discovery and services -------------------------------------------------------------------


def test_the_discovery_document_has_the_fields_of_the_spec():
    doc = discovery("https://jianyi.example.gov.cn/open311/v2/")
    assert list(doc) == SPEC_DISCOVERY_KEYS
    (endpoint,) = doc["endpoints"]
    assert list(endpoint) == SPEC_ENDPOINT_KEYS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" == SPECIFICATION
    assert endpoint["url"] == "https://jianyi.example.gov.cn/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["changeset"] == doc["changeset"]
    assert "人民建议征集办公室" in doc["contact"]
    assert "api_key" in doc["key_service"]


def test_the_discovery_document_takes_the_operators_own_texts():
    doc = discovery("https://x.example", changeset="2026-05-01 08:00", contact="电话 12345")
    assert doc["changeset"] == doc["endpoints"][0]["changeset"] == "2026-05-01 08:00"
    assert doc["contact"] == "电话 12345"


def test_each_category_is_a_realtime_service_without_metadata():
    services = service_list(
        [
            {
                "code": "traffic",
                "name": "交通出行",
                "description": "公交、道路、停车",
                "keywords": ["公交", "停车"],
                "group": "城市管理",
            },
            {"code": "other", "name": "其他"},
        ]
    )
    assert [list(service) for service in services] == [SPEC_SERVICE_KEYS] * 2
    first, second = services
    assert first == {
        "service_code": "traffic",
        "service_name": "交通出行",
        "description": "公交、道路、停车",
        "metadata": False,
        "type": "realtime",
        "keywords": "公交, 停车",
        "group": "城市管理",
    }
    assert second["description"] == "" and second["keywords"] == "" and second["group"] == ""


# --- a suggestion as a service request --------------------------------------------------------


def test_a_service_request_has_exactly_the_fields_of_the_spec_in_its_order():
    out = service_request_out(suggestion())
    assert list(out) == SPEC_REQUEST_KEYS == list(REQUEST_FIELDS)
    assert out["service_request_id"] == "JY-2026-7K3Q9M"
    assert out["service_code"] == "housing" and out["service_name"] == "住房建设"
    assert out["agency_responsible"] == "县住建局"
    assert out["service_notice"] == "30日内答复。"
    assert out["lat"] == 30.6975 and out["long"] == 121.0152
    json.dumps(out)  # serialisable as it stands


def test_datetimes_are_iso_8601_with_the_china_offset():
    out = service_request_out(suggestion())
    assert out["requested_datetime"] == "2026-03-02T09:30:00+08:00"  # from UTC
    assert out["updated_datetime"] == "2026-03-04T09:00:00+08:00"  # naive = China time
    assert out["expected_datetime"] == "2026-04-01T23:59:59+08:00"  # by the end of the day
    assert parse_w3_datetime(out["requested_datetime"]) == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_w3_datetimes_handle_every_input():
    assert w3_datetime(None) is None
    assert w3_datetime(date(2026, 1, 1)) == "2026-01-01T00:00:00+08:00"
    moment = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert w3_datetime(moment) == "2026-01-01T20:00:00+08:00"


def test_a_request_never_updated_shows_its_receipt_time_as_updated():
    out = service_request_out(suggestion(updated_at=None))
    assert out["updated_datetime"] == out["requested_datetime"]


@pytest.mark.parametrize(
    ("status", "open311"),
    [
        ("received", "open"),
        ("registered", "open"),
        ("transferred", "open"),
        ("handling", "open"),
        ("replied", "open"),
        ("rerouted", "closed"),
        ("concluded", "closed"),
        ("closed", "closed"),
    ],
)
def test_our_statuses_map_onto_open_and_closed(status, open311):
    assert service_request_out(suggestion(status=status))["status"] == open311


def test_the_status_mapping_covers_every_status():
    assert set(OPEN311_STATUS) == set(SuggestionStatus)
    closed = {status for status, value in OPEN311_STATUS.items() if value == "closed"}
    assert closed == {
        SuggestionStatus.CONCLUDED,
        SuggestionStatus.REROUTED,
        SuggestionStatus.CLOSED,
    }
    assert statuses_for(["closed"]) == sorted(closed, key=list(SuggestionStatus).index)
    assert set(statuses_for(["open", "closed"])) == set(SuggestionStatus)


def test_status_notes_say_where_the_suggestion_stands_in_words():
    out = service_request_out(suggestion(status="transferred"))
    assert out["status_notes"] == "已转办；已转县住建局办理。"
    assert service_request_out(suggestion(status_notes=None))["status_notes"] == "已转办"


def test_a_published_suggestion_shows_its_content():
    out = service_request_out(suggestion())
    assert out["description"] == (
        "老旧小区加装电梯\n\n幸福里3幢六层没有电梯，老人上下楼困难。\n\n出台加装电梯补贴政策。"
    )
    assert out["address"] == "幸福里3幢"
    assert out["media_url"] == "https://example.gov.cn/media/1.jpg"


def test_a_suggestion_without_consent_to_publish_shows_no_content():
    out = service_request_out(suggestion(consent_to_publish=False))
    assert out["description"] is None
    assert out["address"] is None and out["media_url"] is None
    assert out["status"] == "open" and out["service_code"] == "housing"


def test_no_personal_data_ever_goes_out():
    text = json.dumps(service_request_out(suggestion()), ensure_ascii=False)
    for personal in ("王秀英", "13905731234", "wxy@example.com", "ipad-7", "acct-9"):
        assert personal not in text


def test_a_confidential_suggestion_says_nothing_about_the_proposer():
    record = suggestion(
        confidential=True,
        reason="我是王秀英，电话13905731234，举报幸福里物业挪用维修基金。",
        status_notes="王秀英反映的情况已转办。",
    )
    out = service_request_out(record)
    text = json.dumps(out, ensure_ascii=False)
    assert "王秀英" not in text
    assert "13905731234" not in text
    assert "wxy@example.com" not in text
    # Not even the content or the place: they could point at the whistle-blower.
    for key in ("description", "address", "address_id", "zipcode", "lat", "long", "media_url"):
        assert out[key] is None, key
    assert out["status"] == "open" and out["service_request_id"] == "JY-2026-7K3Q9M"


def test_personal_details_written_into_the_text_are_masked():
    record = suggestion(
        reason=(
            "我叫王秀英，手机139 0573 1234，邮箱wxy@example.com，"
            "身份证330482199001011234，家里座机0573-85012345。"
        ),
    )
    description = service_request_out(record)["description"]
    for personal in ("王秀英", "139 0573 1234", "wxy@example.com", "330482199001011234"):
        assert personal not in description
    assert "0573-85012345" not in description
    assert description.count("***") == 5
    assert "我叫***，手机***，邮箱***，身份证***，家里座机***。" in description


def test_scrubbing_leaves_ordinary_numbers_alone():
    text = "12路公交每20分钟一班，2026-03-02起，补贴3000元，邮编314200。"
    assert scrub(text) == text
    assert scrub("全角手机１３９０５７３１２３４") == "全角手机***"
    assert scrub("") == "" and scrub(None) == ""


def test_the_description_is_cut_to_the_spec_limit_of_4000_characters():
    out = service_request_out(suggestion(reason="由" * 2000, measures="策" * 2000))
    assert len(out["description"]) == 4000


def test_a_half_location_is_not_published():
    out = service_request_out(suggestion(long=None))
    assert out["lat"] is None and out["long"] is None


# --- errors and the POST response -------------------------------------------------------------


def test_errors_have_the_format_of_the_spec():
    body = error_response(403, "Invalid api_key received -- can't proceed with create_request.")
    assert body == [
        {
            "code": 403,
            "description": "Invalid api_key received -- can't proceed with create_request.",
        }
    ]


def test_the_created_response_has_the_format_of_the_spec():
    assert created_response("JY-2026-7K3Q9M", "30日内答复。") == [
        {
            "service_request_id": "JY-2026-7K3Q9M",
            "service_notice": "30日内答复。",
            "account_id": None,
        }
    ]
    assert created_response("JY-2026-7K3Q9M", None, "123456")[0]["account_id"] == "123456"


# --- POST requests ----------------------------------------------------------------------------


def test_the_spec_example_request_is_accepted():
    values, errors = parse_service_request_in(SPEC_POST_EXAMPLE)
    assert errors == []
    assert values["api_key"] == "xyz"
    assert values["jurisdiction_id"] == "city.gov"
    assert values["service_code"] == "001"
    assert values["reason"] == "A large sinkhole is destroying the street"
    assert values["topic"] == "A large sinkhole is destroying the street"
    assert values["measures"] == ""
    assert (values["lat"], values["long"]) == (37.76524078, -122.4212043)
    assert values["address"] == "1234 5th street"
    assert values["name"] == "john smith"
    assert values["phone"] == "111111111"
    assert values["email"] == "smit333@sfgov.edu"
    assert values["account_id"] == "123456"
    assert values["media_url"].endswith("2212426634_5ed477a060.jpg")
    assert values["channel"] == "open311"
    assert values["confidential"] is False and values["consent_to_publish"] is False


def test_the_device_id_is_not_kept():
    values, _ = parse_service_request_in(SPEC_POST_EXAMPLE)
    assert "tt222111" not in json.dumps(values)


def test_topic_measures_and_flags_come_from_attributes():
    values, errors = parse_service_request_in(
        {
            "api_key": "k",
            "service_code": "traffic",
            "description": "阳光花园附近没有公交站，居民出行要走二十分钟。",
            "attribute[topic]": "阳光花园增设公交站",
            "attribute[measures]": "12路公交绕行阳光花园。",
            "attribute[confidential]": "true",
            "attribute[consent_to_publish]": "1",
        }
    )
    assert errors == []
    assert values["topic"] == "阳光花园增设公交站"
    assert values["measures"] == "12路公交绕行阳光花园。"
    assert values["confidential"] is True and values["consent_to_publish"] is True


def test_without_a_topic_the_first_sentence_of_the_description_is_used():
    assert derive_topic("路灯坏了。晚上很黑。") == "路灯坏了"
    long = "人民路南段" + "路灯" * 30
    assert len(derive_topic(long)) == 50 and derive_topic(long).endswith("…")


def test_a_chinese_name_puts_the_family_name_first():
    assert proposer_name("秀英", "王") == "王秀英"
    assert proposer_name("John", "Smith") == "John Smith"
    assert proposer_name("", "") == ""
    values, _ = parse_service_request_in(
        {
            "api_key": "k",
            "service_code": "c",
            "description": "d",
            "first_name": "三",
            "last_name": "张",
        }
    )
    assert values["name"] == "张三"


def test_a_missing_api_key_is_a_403_and_missing_fields_are_400s():
    values, errors = parse_service_request_in({})
    assert values["api_key"] == ""
    codes = sorted(error["code"] for error in errors)
    assert codes == [400, 400, 403]
    descriptions = " ".join(error["description"] for error in errors)
    assert "api_key" in descriptions
    assert "service_code" in descriptions
    assert "description" in descriptions
    assert all(set(error) == {"code", "description"} for error in errors)


def test_a_location_is_optional_for_a_suggestion():
    values, errors = parse_service_request_in(
        {"api_key": "k", "service_code": "c", "description": "建议增加公交班次。"}
    )
    assert errors == []
    assert values["lat"] is None and values["address"] == "" and values["address_id"] == ""


@pytest.mark.parametrize(
    ("lat", "long", "fragment"),
    [
        ("30.7", "", "同时"),
        ("", "121.0", "同时"),
        ("north", "121.0", "数字"),
        ("91", "121.0", "-90"),
        ("30.7", "-181", "-180"),
    ],
)
def test_a_bad_location_is_refused(lat, long, fragment):
    form = {"api_key": "k", "service_code": "c", "description": "d", "lat": lat, "long": long}
    values, errors = parse_service_request_in(form)
    assert len(errors) == 1 and errors[0]["code"] == 400
    assert fragment in errors[0]["description"]
    assert values["lat"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "call me"),
        ("email", "not-an-address"),
        ("media_url", "javascript:alert(1)"),
        ("media_url", "ftp://example.com/a.jpg"),
        ("attribute[confidential]", "perhaps"),
        ("description", "由" * 4001),
        ("attribute[topic]", "题" * 101),
        ("address_string", "址" * 251),
    ],
)
def test_a_bad_optional_field_is_refused_with_its_name(field, value):
    form = {"api_key": "k", "service_code": "c", "description": "d", field: value}
    _, errors = parse_service_request_in(form)
    assert len(errors) == 1 and errors[0]["code"] == 400
    assert field.split("[")[0] in errors[0]["description"]


def test_phones_are_read_loosely():
    for phone in ("13905731234", "0573-85012345", "+86 139 0573 1234"):
        values, errors = parse_service_request_in(
            {"api_key": "k", "service_code": "c", "description": "d", "phone": phone}
        )
        assert errors == [], phone
        assert values["phone"].lstrip("+").isdigit()


def test_repeated_form_fields_use_the_first_value():
    values, errors = parse_service_request_in(
        {"api_key": ["k"], "service_code": ["c", "d"], "description": ["建议"]}
    )
    assert errors == []
    assert values["service_code"] == "c"


# --- GET requests -----------------------------------------------------------------------------


def test_by_default_the_list_covers_the_last_90_days():
    params, errors = parse_list_params({}, now=NOW)
    assert errors == []
    assert params["end"] == NOW
    assert params["start"] == NOW - timedelta(days=90)
    assert params["limit"] == 100  # the documented default page_size
    assert params["service_request_ids"] == [] and params["service_codes"] == []
    assert set(params["suggestion_statuses"]) == set(SuggestionStatus)


def test_page_size_chooses_how_many_up_to_the_documented_maximum():
    from mediation.suggestions.open311 import MAX_PAGE_SIZE

    assert MAX_PAGE_SIZE == 1000
    assert parse_list_params({"page_size": "1"}, now=NOW) == (
        {**parse_list_params({}, now=NOW)[0], "limit": 1},
        [],
    )
    assert parse_list_params({"page_size": "1000"}, now=NOW)[0]["limit"] == 1000
    for bad in ("0", "1001", "-5", "ten", "1.5", "２"):
        params, errors = parse_list_params({"page_size": bad}, now=NOW)
        assert [e["code"] for e in errors] == [400], bad
        assert "page_size" in errors[0]["description"] and "1000" in errors[0]["description"]


def test_the_spec_sample_query_is_understood():
    params, errors = parse_list_params(
        {
            "start_date": "2010-05-24T00:00:00Z",
            "end_date": "2010-06-24T00:00:00Z",
            "status": "open",
            "jurisdiction_id": "city.gov",
        },
        now=NOW,
    )
    assert errors == []
    assert params["start"] == datetime(2010, 5, 24, tzinfo=UTC)
    assert params["end"] == datetime(2010, 6, 24, tzinfo=UTC)
    assert params["statuses"] == ["open"]
    assert SuggestionStatus.CONCLUDED not in params["suggestion_statuses"]
    assert SuggestionStatus.REPLIED in params["suggestion_statuses"]


def test_one_end_of_the_window_fixes_the_other():
    params, _ = parse_list_params({"start_date": "2026-05-01T00:00:00+08:00"}, now=NOW)
    assert params["end"] == NOW  # not beyond today
    params, _ = parse_list_params({"start_date": "2026-01-01T00:00:00+08:00"}, now=NOW)
    assert params["end"] - params["start"] == MAX_WINDOW
    params, _ = parse_list_params({"end_date": "2026-04-01T00:00:00+08:00"}, now=NOW)
    assert params["start"] == datetime(2026, 1, 1, tzinfo=CHINA)


def test_a_window_longer_than_90_days_is_refused():
    _, errors = parse_list_params(
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-02T00:00:01+08:00"},
        now=NOW,
    )
    assert errors == [{"code": 400, "description": "start_date 与 end_date 的间隔不得超过90天。"}]
    _, exactly_90 = parse_list_params(
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-01T00:00:00+08:00"},
        now=NOW,
    )
    assert exactly_90 == []


def test_a_window_that_ends_before_it_starts_is_refused():
    _, errors = parse_list_params(
        {"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"}, now=NOW
    )
    assert [error["description"] for error in errors] == ["start_date 不得晚于 end_date。"]


def test_dates_must_be_w3c_datetimes_but_a_missing_zone_means_china_time():
    _, errors = parse_list_params({"start_date": "2026/03/02", "end_date": "yesterday"}, now=NOW)
    assert [error["code"] for error in errors] == [400, 400]
    assert "start_date" in errors[0]["description"] and "end_date" in errors[1]["description"]
    assert parse_w3_datetime("2026-03-02") == datetime(2026, 3, 2, tzinfo=CHINA)
    assert parse_w3_datetime("2026-03-02T08:00") == datetime(2026, 3, 2, 8, tzinfo=CHINA)
    assert parse_w3_datetime("2026-03-02T08:00:00-05:00") == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert parse_w3_datetime("2026-02-30T08:00:00Z") is None


def test_statuses_and_service_codes_are_comma_separated():
    params, errors = parse_list_params(
        {"status": "open, closed", "service_code": "traffic,housing,traffic"}, now=NOW
    )
    assert errors == []
    assert params["statuses"] == ["open", "closed"]
    assert params["service_codes"] == ["traffic", "housing"]


def test_an_unknown_status_is_refused():
    _, errors = parse_list_params({"status": "open,pending"}, now=NOW)
    assert errors == [
        {"code": 400, "description": "status 只能为 open 或 closed，不能为 pending。"}
    ]


def test_request_ids_override_every_other_argument():
    params, errors = parse_list_params(
        {
            "service_request_id": "JY-2026-7K3Q9M, jy-2026-22222z",
            "start_date": "not a date",
            "status": "pending",
        },
        now=NOW,
    )
    assert errors == []
    assert params["service_request_ids"] == ["JY-2026-7K3Q9M", "JY-2026-22222Z"]
    assert "start" not in params


def test_a_malformed_request_id_is_refused():
    params, errors = parse_list_params({"service_request_id": "JY-2026-7K3Q9M,638344"}, now=NOW)
    assert params["service_request_ids"] == ["JY-2026-7K3Q9M"]
    assert errors == [{"code": 400, "description": "无效的 service_request_id：638344。"}]
