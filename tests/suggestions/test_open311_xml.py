"""Open311 GeoReport v2 in full: the spec's own examples, XML beside JSON, location, media.

The example documents below are copied from the GeoReport v2 specification
(https://wiki.open311.org/GeoReport_v2). Its JSON examples write codes such as ``001`` as
bare numbers, which no JSON parser accepts; they are quoted here, as the XML examples (whose
values are text) have them.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from PIL import Image

from mediation.suggestions import open311
from mediation.suggestions.open311_render import from_xml, split_format, to_xml
from mediation.suggestions.tables import Suggestion
from tests.suggestions.test_open311 import SPEC_REQUEST_KEYS
from tests.suggestions.test_open311_http import BASE, EMAIL, PHONE, create, form

pytestmark = pytest.mark.anyio

COUNTY = "330482"  # the demo county's division code: its jurisdiction_id

# --- the specification's examples ------------------------------------------------------------

SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
    <service>
        <service_code>002</service_code>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>street</group>
        <service_name>Construction plate shifted</service_name>
        <description>Metal construction plate covering the street or sidewalk has been moved.</description>
    </service>
</services>"""  # noqa: E501
SPEC_SERVICES_JSON = """[
  {
    "service_code":"001",
    "service_name":"Cans left out 24x7",
    "description":"Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.",
    "metadata":true,
    "type":"realtime",
    "keywords":"lorem, ipsum, dolor",
    "group":"sanitation"
  },
  {
    "service_code":"002",
    "metadata":true,
    "type":"realtime",
    "keywords":"lorem, ipsum, dolor",
    "group":"street",
    "service_name":"Construction plate shifted",
    "description":"Metal construction plate covering the street or sidewalk has been moved."
  }
]"""  # noqa: E501

SPEC_DEFINITION_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes>
        <attribute>
            <variable>true</variable>
            <code>WHISHETN</code>
            <datatype>singlevaluelist</datatype>
            <required>true</required>
            <datatype_description></datatype_description>
            <order>1</order>
            <description>What is the ticket/tag/DL number?</description>
            <values>
                <value>
                    <key>123</key>
                    <name>Ford</name>
                </value>
                <value>
                    <key>124</key>
                    <name>Chrysler</name>
                </value>
            </values>
        </attribute>
    </attributes>
</service_definition>"""
SPEC_DEFINITION_JSON = """{
  "service_code":"DMV66",
  "attributes":[
    {
      "variable":true,
      "code":"WHISHETN",
      "datatype":"singlevaluelist",
      "required":true,
      "datatype_description":null,
      "order":1,
      "description":"What is the ticket/tag/DL number?",
      "values":[
        {"key":123, "name":"Ford"},
        {"key":124, "name":"Chrysler"}
      ]
    }
  ]
}"""

SPEC_POST_REQUEST = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
    "&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)
SPEC_CREATED_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
        <service_notice>
            The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code
        </service_notice>
        <account_id/>
    </request>
</service_requests>"""  # noqa: E501
SPEC_CREATED_JSON = """[
  {
    "service_request_id":"293944",
    "service_notice":"The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code",
    "account_id":null
  }
]"""  # noqa: E501

SPEC_REQUESTS_QUERY = (
    "start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open"
    "&jurisdiction_id=city.gov"
)
SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <address_id>545483</address_id>
        <zipcode>94122</zipcode>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
        <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url>
    </request>
</service_requests>"""
SPEC_REQUESTS_JSON = """[
  {
    "service_request_id":"638344",
    "status":"closed",
    "status_notes":"Duplicate request.",
    "service_name":"Sidewalk and Curb Issues",
    "service_code":"006",
    "description":null,
    "agency_responsible":null,
    "service_notice":null,
    "requested_datetime":"2010-04-14T06:37:38-08:00",
    "updated_datetime":"2010-04-14T06:37:38-08:00",
    "expected_datetime":"2010-04-15T06:37:38-08:00",
    "address":"8TH AVE and JUDAH ST",
    "address_id":"545483",
    "zipcode":"94122",
    "lat":"37.762221815",
    "long":"-122.4651145",
    "media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"
  }
]"""

SPEC_ERROR_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"""
SPEC_ERROR_JSON = """[
  {
    "code":"403",
    "description":"Invalid api_key received -- can't proceed with create_request."
  }
]"""


def _as_text(value):
    """JSON values as the XML carries them: text, true/false, empty for null."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


@pytest.mark.parametrize(
    ("xml", "json_text"),
    [
        (SPEC_SERVICES_XML, SPEC_SERVICES_JSON),
        (SPEC_DEFINITION_XML, SPEC_DEFINITION_JSON),
        (SPEC_CREATED_XML, SPEC_CREATED_JSON),
        (SPEC_REQUESTS_XML, SPEC_REQUESTS_JSON),
        (SPEC_ERROR_XML, SPEC_ERROR_JSON),
    ],
    ids=["services", "definition", "created", "requests", "errors"],
)
def test_the_specs_xml_examples_read_as_its_json_examples(xml, json_text):
    assert from_xml(xml) == _as_text(json.loads(json_text))


@pytest.mark.parametrize(
    ("root", "json_text", "xml"),
    [
        ("services", SPEC_SERVICES_JSON, SPEC_SERVICES_XML),
        ("service_definition", SPEC_DEFINITION_JSON, SPEC_DEFINITION_XML),
        ("service_requests", SPEC_CREATED_JSON, SPEC_CREATED_XML),
        ("service_requests", SPEC_REQUESTS_JSON, SPEC_REQUESTS_XML),
        ("errors", SPEC_ERROR_JSON, SPEC_ERROR_XML),
    ],
    ids=["services", "definition", "created", "requests", "errors"],
)
def test_our_xml_of_the_specs_json_examples_is_the_specs_xml(root, json_text, xml):
    ours = to_xml(root, json.loads(json_text))
    assert ours.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert from_xml(ours) == from_xml(xml)
    assert _tags(ours) == _tags(xml)


def _tags(xml) -> list[str]:
    import xml.etree.ElementTree as ET

    return [element.tag for element in ET.fromstring(xml).iter()]


def test_the_specs_example_post_body_parses_with_every_field():
    values, errors = open311.parse_service_request_in(dict(parse_qsl(SPEC_POST_REQUEST)))
    assert errors == []
    assert values["jurisdiction_id"] == "city.gov" and values["service_code"] == "001"
    assert (values["lat"], values["long"]) == (37.76524078, -122.4212043)
    assert values["address"] == "1234 5th street"
    assert values["email"] == "smit333@sfgov.edu" and values["account_id"] == "123456"
    assert values["name"] == "john smith" and values["phone"] == "111111111"
    assert values["reason"] == "A large sinkhole is destroying the street"
    assert values["media_url"].endswith("2212426634_5ed477a060.jpg")


def test_formats_come_from_the_extension():
    assert split_format("services.xml") == ("services", "xml")
    assert split_format("JY-2026-7K3Q9M.JSON") == ("JY-2026-7K3Q9M", "json")
    assert split_format("JY-2026-7K3Q9M") == ("JY-2026-7K3Q9M", "json")


# --- over HTTP ----------------------------------------------------------------------------------


def _spec_body(api_key: str, **changes: str) -> str:
    """The spec's example request, with our key, county and a service code of ours."""
    body = (
        SPEC_POST_REQUEST.replace("api_key=xyz", f"api_key={api_key}")
        .replace("jurisdiction_id=city.gov", f"jurisdiction_id={COUNTY}")
        .replace("service_code=001", "service_code=transport")
    )
    for key, value in changes.items():
        body += f"&{key}={value}"
    return body


async def _post_body(client, path: str, body: str):
    return await client.post(
        f"{BASE}/{path}",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )


@pytest.fixture
async def api_key():
    from mediation.suggestions.open311_keys import create_api_key

    return await create_api_key("XML 客户端")


async def test_the_specs_example_request_files_and_reads_back_in_xml(client, api_key):
    response = await _post_body(
        client, "requests.xml", _spec_body(api_key, **{"attribute[consent_to_publish]": "true"})
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert _tags(response.content) == _tags(SPEC_CREATED_XML)
    (created,) = from_xml(response.content)
    code = created["service_request_id"]
    assert created["account_id"] == "123456"  # the client's own account, echoed to it

    row = await Suggestion.select().where(Suggestion.tracking_code == code).first()
    assert (row["lat"], row["long"]) == (37.76524078, -122.4212043)
    assert row["address"] == "1234 5th street" and row["reason"].startswith("A large sinkhole")
    assert row["proposer_email"] == "smit333@sfgov.edu" and row["account_id"] == "123456"
    assert row["proposer_name"] == "john smith" and row["proposer_phone"] == "111111111"

    read = await client.get(f"{BASE}/requests/{code}.xml", params={"jurisdiction_id": COUNTY})
    assert read.status_code == 200 and read.headers["content-type"].startswith("text/xml")
    assert _tags(read.content) == _tags(SPEC_REQUESTS_XML)
    (request,) = from_xml(read.content)
    assert list(request) == SPEC_REQUEST_KEYS
    assert request["lat"] == "37.76524078" and request["long"] == "-122.4212043"
    assert request["address"].startswith("1234 5th street")
    assert request["media_url"] == ("http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg")
    # Kept, and never handed out.
    for private in ("smit333", "123456", "john", "smith", "111111111", "tt222111"):
        assert private not in read.text


async def test_list_and_read_agree_in_json_and_xml_with_the_location(client, api_key):
    code = await create(client, api_key, lat="30.6985", long="121.0153")
    as_json = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    assert (as_json["lat"], as_json["long"]) == (30.6985, 121.0153)
    assert as_json["address"].startswith("东湖路与胜利路交叉口")
    as_xml = from_xml((await client.get(f"{BASE}/requests/{code}.xml")).content)[0]
    assert as_xml == _as_text(as_json)
    for text in (as_json, as_xml):
        assert PHONE not in str(text) and EMAIL not in str(text)
    listed_json = (
        await client.get(f"{BASE}/requests.json", params={"service_request_id": code})
    ).json()
    listed_xml = from_xml(
        (await client.get(f"{BASE}/requests.xml", params={"service_request_id": code})).content
    )
    assert listed_json == [as_json] and listed_xml == [as_xml]


async def test_the_specs_sample_query_is_answered_in_xml(client):
    query = SPEC_REQUESTS_QUERY.replace("city.gov", COUNTY)
    response = await client.get(f"{BASE}/requests.xml?{query}")
    assert response.status_code == 200
    assert from_xml(response.content) == []  # nothing was filed in 2010
    assert "<service_requests />" in response.text


async def test_another_jurisdiction_is_the_specs_404_in_the_asked_format(client, api_key):
    response = await client.get(f"{BASE}/requests.xml?{SPEC_REQUESTS_QUERY}")
    assert response.status_code == 404
    (error,) = from_xml(response.content)
    assert error["code"] == "404" and "city.gov" in error["description"]
    response = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "city.gov"})
    assert response.status_code == 404 and response.json()[0]["code"] == 404
    before = await Suggestion.count()
    response = await _post_body(client, "requests.json", SPEC_POST_REQUEST.replace("xyz", api_key))
    assert response.status_code == 404 and await Suggestion.count() == before


async def test_discovery_services_and_definitions_come_in_xml(client):
    discovery = await client.get(f"{BASE}/discovery.xml")
    assert discovery.status_code == 200
    doc = from_xml(discovery.content)
    assert doc["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    services = from_xml((await client.get(f"{BASE}/services.xml")).content)
    as_json = (await client.get(f"{BASE}/services.json")).json()
    assert services == _as_text(as_json)
    definition = await client.get(f"{BASE}/services/transport.xml")
    assert _tags(definition.content)[:4] == [
        "service_definition",
        "service_code",
        "attributes",
        "attribute",
    ]
    assert from_xml(definition.content) == _as_text(
        (await client.get(f"{BASE}/services/transport.json")).json()
    )


async def test_errors_come_in_the_format_asked_for(client):
    response = await client.post(f"{BASE}/requests.xml", data=form(None))
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/xml")
    (error,) = from_xml(response.content)
    assert error["code"] == "403" and "api_key" in error["description"]
    assert _tags(response.content) == _tags(SPEC_ERROR_XML)


async def test_a_multipart_post_with_the_key_in_the_body_and_a_photo(client, api_key):
    photo = _jpeg_with_gps()
    fields = {**form(api_key), "lat": "30.6985", "long": "121.0153"}
    response = await client.post(
        f"{BASE}/requests.json", data=fields, files={"media": ("road.jpg", photo, "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    code = response.json()[0]["service_request_id"]
    request = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    media_url = request["media_url"]
    assert media_url and media_url.endswith(".jpg") and f"/media/{code}/" in media_url
    served = await client.get(media_url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in served.content and b"Exif" not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert not image.getexif()


async def test_the_photo_of_a_request_that_is_not_public_is_not_served(client, api_key):
    fields = form(api_key, **{"attribute[consent_to_publish]": "false"})
    response = await client.post(
        f"{BASE}/requests.json",
        data=fields,
        files={"media": ("road.jpg", _jpeg_with_gps(), "image/jpeg")},
    )
    code = response.json()[0]["service_request_id"]
    request = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    assert request["media_url"] is None
    from mediation.suggestions.tables import SuggestionPhoto

    photo = (
        await SuggestionPhoto.select(SuggestionPhoto.id)
        .where(SuggestionPhoto.suggestion.tracking_code == code)
        .first()
    )
    assert photo is not None  # kept for the staff
    assert (await client.get(f"{BASE}/media/{code}/{photo['id']}.jpg")).status_code == 404


async def test_a_description_of_the_specs_4000_characters_is_accepted(client, api_key):
    text = "路" * 3990 + "口拥堵需要治理。"
    assert len(text) == 3998
    code = await create(client, api_key, description=text, **{"attribute[topic]": "路口拥堵"})
    row = await Suggestion.select(Suggestion.reason).where(Suggestion.tracking_code == code).first()
    assert row["reason"] == text
    too_long = await client.post(
        f"{BASE}/requests.json", data=form(api_key, description="路" * 4001)
    )
    assert too_long.status_code == 400 and "4000" in too_long.json()[0]["description"]


async def test_service_notice_and_expected_datetime_follow_the_deadline_policy(client, api_key):
    response = await client.post(f"{BASE}/requests.json", data=form(api_key))
    created = response.json()[0]
    code = created["service_request_id"]
    row = (
        await Suggestion.select(Suggestion.route_due, Suggestion.conclude_due)
        .where(Suggestion.tracking_code == code)
        .first()
    )
    for notice in (created["service_notice"],):
        assert row["route_due"].isoformat() in notice
        assert row["conclude_due"].isoformat() in notice
    request = (await client.get(f"{BASE}/requests/{code}.json")).json()[0]
    assert request["expected_datetime"] == f"{row['conclude_due'].isoformat()}T23:59:59+08:00"
    assert row["conclude_due"].isoformat() in request["service_notice"]
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (320, 240), "orange")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 41.0, 52.0), 3: "E", 4: (121.0, 1.0, 4.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_gps_photo_really_has_metadata_to_remove():
    assert b"SecretCam" in _jpeg_with_gps()
