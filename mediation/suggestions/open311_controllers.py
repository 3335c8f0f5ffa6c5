"""Open311 GeoReport v2 for people's suggestions, under /open311/v2/ (JSON only).

Endpoints (https://wiki.open311.org/GeoReport_v2):

- ``GET discovery.json``: the Service Discovery document.
- ``GET services.json``: one service per *suggestion category* (``SUGGESTION_CATEGORIES``),
  not per dispute category: what a citizen files here is a suggestion, and its
  ``service_code`` is stored as the suggestion's ``category``. Disputes have their own
  statistics list and do not come in through Open311.
- ``GET services/{service_code}.json``: the definition. Every service has ``metadata: false``
  (nothing beyond the standard fields is required); the definition lists our optional
  attributes (topic, measures, confidentiality, consent to publish, thematic collection).
- ``POST requests.json``: files a suggestion (form-encoded, as the spec says), with an
  ``api_key`` issued by ``create_api_key``; the answer's ``service_request_id`` is our
  receipt code (JY-2026-XXXXXX). The citizen's 6-digit secret is *not* returned: an Open311
  client follows its request by ``service_request_id`` and sees only the public status.
- ``GET requests.json`` and ``GET requests/{service_request_id}.json``: public, no key; what
  goes out is decided by ``open311.service_request_out`` (never the proposer's name, phone or
  email; nothing about the place of a confidential suggestion; the content only with consent).

Errors always have the spec's shape, ``[{"code": ..., "description": ...}]``, with the same
HTTP status. ``jurisdiction_id`` is accepted and ignored: this endpoint serves one county.

The Suggestion table has no columns for coordinates, address, e-mail or media: a given
``address_string``, ``lat``/``long`` and ``media_url`` are appended to the main reason (so staff
see them; they go out again only with consent), ``address_id`` is matched against our
administrative division codes (a match sets the suggestion's area), and ``email`` and
``device_id`` are not kept.

Issue a key: ``python -m mediation.suggestions.open311_controllers create-key "NAME"``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, Parameter
from litestar.types import Receive, Scope, Send
from msgspec import Meta

from mediation import i18n
from mediation.clock import utc_now
from mediation.db import with_database
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.suggestions import open311, rules, services
from mediation.suggestions.categories import CATEGORY_CODES, SUGGESTION_CATEGORIES, category_name
from mediation.suggestions.tables import ApiKey, Suggestion, SuggestionEvent
from mediation.web import guard_request

BASE_PATH = "/open311/v2"
KEY_PREFIX = "o311_"
MAX_KEY_LENGTH = 200
NO_MEASURES = "（未单独填写对策建议，详见主要事由。）"

# A sortable time stamp of the last change to SUGGESTION_CATEGORIES (Service Discovery).
CATEGORIES_CHANGESET = "2026-11-23T00:00:00+08:00"


def _categories() -> list[dict[str, Any]]:
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


# ---------------------------------------------------------------- API keys


def digest_key(key: str) -> str:
    """Keys are 256-bit random: a plain SHA-256 is enough, and lets us look a key up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_api_key(name: str) -> str:
    """Issue a key for an Open311 client; it is shown once, only its digest is stored."""
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name: who it is issued to")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    await ApiKey(name=name[:100], key_digest=digest_key(key), active=True).save()
    return key


async def revoke_api_keys(name: str) -> int:
    """Deactivate every key issued under ``name``; returns how many were active."""
    rows = (
        await ApiKey.update({ApiKey.active: False})
        .where(ApiKey.name == name.strip(), ApiKey.active.eq(True))
        .returning(ApiKey.id)
    )
    return len(rows)


async def check_api_key(key: str) -> dict | None:
    """The active key's row (id, name), stamped as used; None for a wrong or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    row = (
        await ApiKey.select(ApiKey.id, ApiKey.name)
        .where(ApiKey.key_digest == digest_key(key), ApiKey.active.eq(True))
        .first()
    )
    if row:
        await ApiKey.update({ApiKey.last_used_at: utc_now()}).where(ApiKey.id == row["id"])
    return row


# ---------------------------------------------------------------- documents (for OpenAPI)


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


class ServiceRequest(msgspec.Struct):
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


class Created(msgspec.Struct):
    service_request_id: Annotated[str, Meta(description="The receipt code, e.g. JY-2026-7K3Q9M")]
    service_notice: str | None
    account_id: str | None


class ServiceRequestForm(msgspec.Struct, kw_only=True):
    """POST requests: application/x-www-form-urlencoded, field names as the spec spells them."""

    api_key: Annotated[str, Meta(description="Required: the key issued to the client.")] = ""
    jurisdiction_id: Annotated[str, Meta(description="Ignored: one county per endpoint.")] = ""
    service_code: Annotated[str, Meta(description="Required: from GET services.")] = ""
    description: Annotated[str, Meta(description="Required: the main reason (主要事由).")] = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: Annotated[
        str, Meta(description="An administrative division code sets the area.")
    ] = ""
    email: Annotated[str, Meta(description="Checked, not kept.")] = ""
    device_id: Annotated[str, Meta(description="Not kept.")] = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    topic: str = msgspec.field(default="", name="attribute[topic]")
    measures: str = msgspec.field(default="", name="attribute[measures]")
    confidential: str = msgspec.field(default="", name="attribute[confidential]")
    consent_to_publish: str = msgspec.field(default="", name="attribute[consent_to_publish]")
    call: str = msgspec.field(default="", name="attribute[call]")


def _form_values(data: ServiceRequestForm) -> dict[str, Any]:
    return {f.encode_name: getattr(data, f.name) for f in msgspec.structs.fields(data)}


# ---------------------------------------------------------------- errors


class Open311Problem(Exception):
    """A refusal in the spec's format: a list of {code, description} and the HTTP status."""

    def __init__(self, status: int, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = [dict(e) for e in errors]


def _problem(status: int, description: str) -> Open311Problem:
    return Open311Problem(status, open311.error_response(status, description))


def _error_body(status: int, errors: list[dict[str, Any]], headers=None) -> Response:
    return Response(errors, status_code=status, media_type=MediaType.JSON, headers=headers)


def _on_problem(_request: Request, exc: Open311Problem) -> Response:
    return _error_body(exc.status, exc.errors)


def open311_http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status == 429:
        text = _("Too many attempts, please wait a minute and try again")
    elif status == 404:
        text = _("Page not found")
    elif status == 405:
        text = _("This action is not allowed here")
    elif status >= 500:
        text = _("Something went wrong on our side")
    else:
        text = _("The request could not be understood")
        if exc.detail and status == 400:
            text = f"{text}: {exc.detail}"
    return _error_body(status, open311.error_response(status, text), headers=exc.headers)


def _on_internal_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error in the Open311 interface", exc_info=exc)
    return _error_body(500, open311.error_response(500, _("Something went wrong on our side")))


async def _use_request_locale(request: Request) -> Response | None:
    """API clients have no locale cookie: Accept-Language chooses, Chinese by default."""
    if not request.cookies.get("lang"):
        first = (request.headers.get("accept-language") or "").split(",")[0].split(";")[0]
        locale = i18n.normalize_locale(first)
        if locale:
            i18n.set_locale(locale)
    return await guard_request(request)  # this hook replaces the app's, which does the same


# ---------------------------------------------------------------- rate limit


class _PublicRateLimit(RateLimitMiddleware):
    """POST requests are limited per client address to the settings' ``public_rate_limit``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = scope["litestar_app"].state.get("settings")
        if settings is not None:
            self.max_requests = settings.public_rate_limit
        await super().__call__(scope, receive, send)


def _client(request: Request) -> str:
    # Its own key: the login limiter counts the same addresses in the same store.
    return "open311:" + get_remote_address(request)


RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 20),
    identifier_for_request=_client,
    middleware_class=_PublicRateLimit,
    store="rate_limit",
)


def _list_client(request: Request) -> str:
    # Reading the list has its own count, so a client that lists often can still file.
    return "open311-list:" + get_remote_address(request)


# The list answers up to 1000 requests per call: limited per address like the public forms.
LIST_RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 20),
    identifier_for_request=_list_client,
    middleware_class=_PublicRateLimit,
    store="rate_limit",
)


# ---------------------------------------------------------------- reading suggestions

_COLUMNS = (
    Suggestion.id,
    Suggestion.tracking_code,
    Suggestion.status,
    Suggestion.category,
    Suggestion.title,
    Suggestion.reason,
    Suggestion.measures,
    Suggestion.proposer_name,
    Suggestion.proposer_phone,
    Suggestion.confidential,
    Suggestion.consent_to_publish,
    Suggestion.reply_text,
    Suggestion.created_at,
    Suggestion.conclude_due,
    Suggestion.department.name,
    Suggestion.region.code,
    Suggestion.region.name,
    Suggestion.region.parent.name,
    Suggestion.region.parent.parent.name,
)


async def _last_public_change(ids: list[int]) -> dict[int, datetime]:
    latest: dict[int, datetime] = {}
    for start in range(0, len(ids), 500):
        rows = await SuggestionEvent.select(SuggestionEvent.suggestion, SuggestionEvent.at).where(
            SuggestionEvent.suggestion.is_in(ids[start : start + 500]),
            SuggestionEvent.public.eq(True),
        )
        for r in rows:
            if r["suggestion"] not in latest or r["at"] > latest[r["suggestion"]]:
                latest[r["suggestion"]] = r["at"]
    return latest


def _record(row: dict, updated_at: datetime | None) -> dict[str, Any]:
    status = rules.SuggestionStatus(row["status"])
    public = row["consent_to_publish"] and not row["confidential"]
    place = [
        row.get(key)
        for key in ("region.name", "region.parent.name", "region.parent.parent.name")
        if row.get(key)
    ]
    return {
        "tracking_code": row["tracking_code"],
        "status": status.value,
        "status_notes": row["reply_text"]
        if public and status in rules.RATEABLE and row["reply_text"]
        else None,
        "category_code": row["category"] or None,
        "category_name": category_name(row["category"]),
        "topic": row["title"],
        "reason": row["reason"],
        "measures": "" if row["measures"] == NO_MEASURES else row["measures"],
        "department_name": row["department.name"],
        "received_at": row["created_at"],
        "updated_at": updated_at,
        "conclude_due": None if rules.is_finished(status) else row["conclude_due"],
        "address": "，".join(place) or None,
        "address_id": row["region.code"],
        "confidential": row["confidential"],
        "consent_to_publish": row["consent_to_publish"],
        # Read only to scrub them out of the text.
        "name": row["proposer_name"],
        "phone": row["proposer_phone"],
    }


async def _service_requests(rows: list[dict]) -> list[ServiceRequest]:
    latest = await _last_public_change([r["id"] for r in rows])
    return [
        msgspec.convert(
            open311.service_request_out(_record(r, latest.get(r["id"]))), ServiceRequest
        )
        for r in rows
    ]


def _format(name: str) -> str:
    """``x.json`` → ``x``; any other format is refused (only JSON is offered)."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        return name
    if extension.lower() != "json":
        raise _problem(
            400,
            i18n.gettext("Only the JSON format is offered: use .json."),
        )
    return stem


# ---------------------------------------------------------------- the controller

_ERRORS = {
    400: ResponseSpec(list[Open311Error], description="A required argument is missing or wrong"),
    404: ResponseSpec(list[Open311Error], description="Not found"),
}


class Open311Controller(Controller):
    """Open311 GeoReport v2 for suggestions: public reads, key-protected filing."""

    path = BASE_PATH
    tags = ["open311"]
    include_in_schema = True
    before_request = _use_request_locale
    # Public reads and key-authenticated filing: no session cookie (overrides the app's).
    security: list = []
    exception_handlers = {
        Open311Problem: _on_problem,
        HTTPException: open311_http_error,
        Exception: _on_internal_error,
    }

    @get(
        "/discovery.json",
        opt={"public": True},
        include_in_schema=True,
        summary="Service Discovery",
        description="Where the GeoReport v2 endpoint is, which formats it offers, who to ask.",
    )
    async def discovery(self, request: Request) -> Discovery:
        base = str(request.base_url).rstrip("/") + BASE_PATH
        return msgspec.convert(open311.discovery(base, changeset=CATEGORIES_CHANGESET), Discovery)

    @get(
        "/services.json",
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service List",
        description="One service per suggestion category; service_code is the category code.",
    )
    async def services(
        self,
        jurisdiction_id: Annotated[
            str | None, Parameter(description="Ignored: this endpoint serves one county.")
        ] = None,
    ) -> list[Service]:
        return msgspec.convert(open311.service_list(_categories()), list[Service])

    @get(
        "/services/{service_file:str}",
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service Definition",
        description=(
            "``service_file`` is the service_code followed by .json. No attribute is required "
            "(metadata is false); the optional ones are listed."
        ),
        responses=_ERRORS,
    )
    async def service_definition(
        self,
        service_file: FromPath[str],
        jurisdiction_id: Annotated[str | None, Parameter(description="Ignored.")] = None,
    ) -> ServiceDefinition:
        code = _format(service_file)
        if code not in CATEGORY_CODES:
            raise _problem(
                404,
                i18n.gettext("service_code not found: %(code)s.", code=code),
            )
        return ServiceDefinition(service_code=code, attributes=await _attributes())

    @post(
        "/requests.json",
        opt={"public": True},
        include_in_schema=True,
        status_code=201,
        middleware=[RATE_LIMIT.middleware],
        summary="POST Service Request: file a suggestion",
        description=(
            "Needs an api_key. The answer's service_request_id is the receipt code; the "
            "citizen's secret is not given to Open311 clients, who follow the request by its "
            "service_request_id and see its public status only."
        ),
        responses={
            **_ERRORS,
            403: ResponseSpec(list[Open311Error], description="api_key missing or not valid"),
            429: ResponseSpec(list[Open311Error], description="Too many requests"),
        },
    )
    async def create_request(
        self,
        request: Request,
        data: Annotated[ServiceRequestForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[list[Created]]:
        form = _form_values(data)
        if not form["api_key"]:
            form["api_key"] = request.query_params.get("api_key") or ""
        values, errors = open311.parse_service_request_in(form)
        if any(e["code"] == 403 for e in errors):
            raise Open311Problem(403, [e for e in errors if e["code"] == 403])
        key = await check_api_key(values["api_key"])
        if key is None:
            raise _problem(403, i18n.gettext("api_key is not valid."))
        if errors:
            raise Open311Problem(400, errors)
        if values["service_code"] not in CATEGORY_CODES:
            raise _problem(
                404,
                i18n.gettext("service_code not found: %(code)s.", code=values["service_code"]),
            )
        submission = await _submission(values, form.get("attribute[call]") or "")
        _cleaned, refused, receipt = await services.submit_suggestion(
            submission, rules.Channel.OPEN311.value
        )
        if refused or receipt is None:
            raise Open311Problem(
                400,
                [
                    open311.error_response(400, f"{_PARAMS.get(field, field)}: {message}")[0]
                    for field, message in refused.items()
                ],
            )
        code, _secret = receipt  # never sent: see the module's docstring
        row = (
            await Suggestion.select(Suggestion.id, Suggestion.conclude_due)
            .where(Suggestion.tracking_code == code)
            .first()
        )
        from mediation.grid.services import record_audit

        await record_audit(None, "open311_submit", "suggestion", row["id"], detail=key["name"])
        notice = i18n.gettext(
            "Received. Follow it with service_request_id %(code)s; it is due to be concluded "
            "by %(due)s.",
            code=code,
            due=row["conclude_due"].isoformat(),
        )
        return Response(
            msgspec.convert(open311.created_response(code, notice), list[Created]),
            status_code=201,
            media_type=MediaType.JSON,
        )

    @get(
        "/requests.json",
        opt={"public": True},
        include_in_schema=True,
        middleware=[LIST_RATE_LIMIT.middleware],
        summary="GET Service Requests",
        description=(
            "Public; at most 1000 requests and 90 days (by default the last 90). A list of "
            "service_request_id overrides every other argument."
        ),
        responses={400: _ERRORS[400]},
    )
    async def list_requests(
        self,
        service_request_id: Annotated[
            str | None, Parameter(description="Receipt codes, comma-separated")
        ] = None,
        service_code: Annotated[
            str | None, Parameter(description="Service codes, comma-separated")
        ] = None,
        start_date: Annotated[
            str | None, Parameter(description="W3C date-time", schema_extra={"format": "date-time"})
        ] = None,
        end_date: Annotated[
            str | None, Parameter(description="W3C date-time", schema_extra={"format": "date-time"})
        ] = None,
        status: Annotated[str | None, Parameter(description="open, closed or both")] = None,
        jurisdiction_id: Annotated[str | None, Parameter(description="Ignored.")] = None,
    ) -> list[ServiceRequest]:
        query = {
            "service_request_id": service_request_id or "",
            "service_code": service_code or "",
            "start_date": start_date or "",
            "end_date": end_date or "",
            "status": status or "",
        }
        params, errors = open311.parse_list_params(query)
        if errors:
            raise Open311Problem(400, errors)
        select = Suggestion.select(*_COLUMNS)
        if params["service_request_ids"]:
            select = select.where(Suggestion.tracking_code.is_in(params["service_request_ids"]))
        else:
            select = select.where(
                Suggestion.created_at >= params["start"],
                Suggestion.created_at <= params["end"],
                Suggestion.status.is_in([s.value for s in params["suggestion_statuses"]]),
            )
            if params["service_codes"]:
                select = select.where(Suggestion.category.is_in(params["service_codes"]))
        rows = await select.order_by(Suggestion.created_at, ascending=False).limit(params["limit"])
        return await _service_requests(rows)

    @get(
        "/requests/{request_file:str}",
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service Request",
        description="``request_file`` is the service_request_id followed by .json; the answer "
        "is a list of one request, as the spec has it.",
        responses=_ERRORS,
    )
    async def read_request(
        self,
        request_file: FromPath[str],
        jurisdiction_id: Annotated[str | None, Parameter(description="Ignored.")] = None,
    ) -> list[ServiceRequest]:
        code = rules.parse_tracking_code(_format(request_file))
        rows = []
        if code:
            rows = await Suggestion.select(*_COLUMNS).where(Suggestion.tracking_code == code)
        if not rows:
            raise _problem(404, _("This suggestion does not exist."))
        return await _service_requests(rows)


# Our field names → the Open311 argument a client sent them in.
_PARAMS = {
    "topic": "attribute[topic]",
    "reason": "description",
    "measures": "attribute[measures]",
    "name": "first_name/last_name",
    "phone": "phone",
    "confidential": "attribute[confidential]",
    "consent_to_publish": "attribute[consent_to_publish]",
    "region": "address_id",
    "call": "attribute[call]",
}


async def _submission(values: dict[str, Any], call: str) -> dict[str, Any]:
    """The suggestion form's values from the Open311 ones."""
    reason = values["reason"]
    extra = []
    place = values["address"]
    if values["lat"] is not None:
        place = (
            f"{place}（{values['lat']}, {values['long']}）"
            if place
            else (f"{values['lat']}, {values['long']}")
        )
    if place:
        extra.append(f"地点：{place}")
    if values["media_url"]:
        extra.append(f"附件链接：{values['media_url']}")
    if extra:
        reason = reason + "\n\n" + "\n".join(extra)
    if len(reason) > rules.MAX_REASON:
        raise Open311Problem(
            400,
            open311.error_response(
                400,
                _(
                    "%(field)s may have at most %(max)s characters (it has %(count)s).",
                    field="description + address_string + media_url",
                    max=rules.MAX_REASON,
                    count=len(reason),
                ),
            ),
        )
    region = ""
    if values["address_id"]:
        row = await Region.select(Region.id).where(Region.code == values["address_id"]).first()
        region = str(row["id"]) if row else ""
    return {
        "topic": values["topic"],
        "reason": reason,
        "measures": values["measures"] or NO_MEASURES,
        "name": values["name"],
        "phone": values["phone"],
        "reply_by_phone": "",
        "confidential": "1" if values["confidential"] else "",
        "consent_to_publish": "1" if values["consent_to_publish"] else "",
        "category": values["service_code"],
        "region": region,
        "call": call.strip(),
    }


async def _attributes() -> list[Attribute]:
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
                values=[AttributeValue(str(t["id"]), t["title"]) for t in topics],
            )
        )
    return attributes


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mediation.suggestions.open311_controllers",
        description="API keys of the Open311 interface.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create-key", help="issue a key (printed once, only its digest is kept)")
    p.add_argument("name", help="who the key is issued to, e.g. the client's organisation")
    p = sub.add_parser("revoke-key", help="deactivate every key issued under NAME")
    p.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "create-key":
        key = asyncio.run(with_database(create_api_key, args.name))
        print(key)
        print(
            f"API key for {args.name!r}: keep it safe, it cannot be shown again.", file=sys.stderr
        )
        return 0
    count = asyncio.run(with_database(revoke_api_keys, args.name))
    print(f"Revoked {count} key(s) of {args.name!r}.")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
