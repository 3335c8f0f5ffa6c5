"""The Open311 documents in the spec's shape (for the OpenAPI document and to check what
goes out), the form fields of POST requests, and the services' optional attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from msgspec import Meta

from mediation import i18n
from mediation.suggestions import services
from mediation.suggestions.categories import SUGGESTION_CATEGORIES

# A sortable time stamp of the last change to SUGGESTION_CATEGORIES (Service Discovery).
CATEGORIES_CHANGESET = "2026-11-23T00:00:00+08:00"


def categories() -> list[dict[str, Any]]:
    english = i18n.get_locale() == "en"
    return [
        {
            "code": code,
            "name": en if english else zh,
            "description": description,
            "keywords": keywords,
            "group": group,
        }
        for code, zh, en, description, keywords, group, _dept in SUGGESTION_CATEGORIES
    ]


class Open311Error(msgspec.Struct):
    code: int
    description: str


class Endpoint(msgspec.Struct):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(msgspec.Struct):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class AttributeValue(msgspec.Struct):
    key: str
    name: str


class Attribute(msgspec.Struct, omit_defaults=True):
    """``values`` only for the list types, as in the spec's example."""

    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue] | None = None


class ServiceDefinition(msgspec.Struct):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(msgspec.Struct, frozen=True):
    """A suggestion as a GeoReport v2 service request: what the GET requests answer."""

    service_request_id: str
    status: Annotated[str, Meta(description="open or closed")]
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Created(msgspec.Struct, frozen=True):
    """The answer to POST requests: the new request's receipt code."""

    service_request_id: Annotated[str, Meta(description="The receipt code, e.g. JY-2026-7K3Q9M")]
    service_notice: str | None
    account_id: str | None


# The fields of POST requests, as the spec spells them, for the OpenAPI document (the handler
# reads the form itself, so that one handler takes both encodings).
FORM_FIELDS = {
    "api_key": "Required: the key issued to the client (or in the query string).",
    "jurisdiction_id": "Optional; if given, the county's division code.",
    "service_code": "Required: from GET services.",
    "description": "Required: the main reason (主要事由), at most 4,000 characters.",
    "lat": "WGS84 latitude; with long.",
    "long": "WGS84 longitude; with lat.",
    "address_string": "Where, most specific first; returned as address.",
    "address_id": "Kept; an administrative division code also sets the area.",
    "email": "Kept, never published.",
    "device_id": "Not kept.",
    "account_id": "Kept, never published.",
    "first_name": "Kept, never published.",
    "last_name": "Kept, never published.",
    "phone": "Kept, never published.",
    "media_url": "Published only with consent.",
    "attribute[topic]": "建议主题, at most 100 characters.",
    "attribute[measures]": "对策建议, at most 2,000 characters.",
    "attribute[confidential]": "true or false.",
    "attribute[consent_to_publish]": "true or false.",
    "attribute[call]": "The thematic collection answered, from the service definition.",
}


def _form_schema(with_media: bool) -> Schema:
    properties: dict[str, Any] = {
        name: Schema(type=OpenAPIType.STRING, description=text)
        for name, text in FORM_FIELDS.items()
    }
    if with_media:
        properties["media"] = Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description="A photo; stored without its metadata.",
        )
    return Schema(
        type=OpenAPIType.OBJECT,
        properties=properties,
        required=["api_key", "service_code", "description"],
    )


@dataclass
class FormOperation(Operation):
    """POST requests in the OpenAPI document: form-encoded or multipart."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "application/x-www-form-urlencoded": OpenAPIMediaType(schema=_form_schema(False)),
                "multipart/form-data": OpenAPIMediaType(schema=_form_schema(True)),
            },
        )


def form_values(form: Any) -> dict[str, Any]:
    """The posted fields as text (a repeated field: its first value); files are left out."""
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key not in values and not isinstance(value, UploadFile):
            values[key] = value
    return values


async def service_attributes() -> list[Attribute]:
    english = i18n.get_locale() == "en"

    def text(en: str, zh: str) -> str:
        return en if english else zh

    attributes = [
        Attribute(
            variable=True,
            code="topic",
            datatype="string",
            required=False,
            datatype_description=text("At most 100 characters", "不超过100字"),
            order=1,
            description=text(
                "Topic of the suggestion; without it, the first sentence of the description.",
                "建议主题；不填时取描述的第一句。",
            ),
        ),
        Attribute(
            variable=True,
            code="measures",
            datatype="text",
            required=False,
            datatype_description=text("At most 2000 characters", "不超过2000字"),
            order=2,
            description=text(
                "Proposed measures: what should be done. Strongly recommended.",
                "对策建议：建议采取的措施。强烈建议填写。",
            ),
        ),
        Attribute(
            variable=True,
            code="confidential",
            datatype="singlevaluelist",
            required=False,
            datatype_description=None,
            order=3,
            description=text(
                "Keep the proposer's identity from the department that handles it.",
                "对承办单位保密建议人身份。",
            ),
            values=[
                AttributeValue("true", text("Yes", "是")),
                AttributeValue("false", text("No", "否")),
            ],
        ),
        Attribute(
            variable=True,
            code="consent_to_publish",
            datatype="singlevaluelist",
            required=False,
            datatype_description=None,
            order=4,
            description=text(
                "The content may be published (never the proposer's personal data).",
                "同意公开建议内容（不公开个人信息）。",
            ),
            values=[
                AttributeValue("true", text("Yes", "是")),
                AttributeValue("false", text("No", "否")),
            ],
        ),
    ]
    topics = await services.open_topics()
    if topics:
        attributes.append(
            Attribute(
                variable=True,
                code="call",
                datatype="singlevaluelist",
                required=False,
                datatype_description=None,
                order=5,
                description=text(
                    "The thematic collection this suggestion answers, if any.",
                    "所响应的专项征集（如有）。",
                ),
                values=[AttributeValue(str(t.id), t.title) for t in topics],
            )
        )
    return attributes
