"""Open311 GeoReport v2 for people's suggestions, under /open311/v2/, in XML and JSON.

Endpoints (https://wiki.open311.org/GeoReport_v2); each answers in XML or JSON by the
extension of the resource (``services.xml``, ``requests/JY-2026-7K3Q9M.json``), errors too:

- ``GET discovery.{xml,json}``: the Service Discovery document.
- ``GET services.{xml,json}``: one service per *suggestion category* (``SUGGESTION_CATEGORIES``),
  not per dispute category: what a citizen files here is a suggestion, and its
  ``service_code`` is stored as the suggestion's ``category``.
- ``GET services/{service_code}.{xml,json}``: the definition. Every service has
  ``metadata: false``; the definition lists our optional attributes (topic, measures,
  confidentiality, consent to publish, thematic collection).
- ``POST requests.{xml,json}``: files a suggestion, form-encoded as the spec says or multipart
  (then a ``media`` file may come along: it is stored as the suggestion's photo, without its
  metadata), with an ``api_key`` in the body (or the query string). The answer's
  ``service_request_id`` is our receipt code (JY-2026-XXXXXX), and ``service_notice`` the
  deadlines of the policy. The citizen's 6-digit secret is *not* returned: an Open311 client
  follows its request by ``service_request_id`` and sees only the public status.
- ``GET requests.{xml,json}`` and ``GET requests/{service_request_id}.{xml,json}``: public, no
  key; what goes out is decided by ``open311.service_request_out``.
- ``GET media/{service_request_id}/{photo}.jpg``: the photo of a request whose proposer agreed
  to publication (re-encoded at intake, so without EXIF or location metadata).

Stored as given and returned: ``lat``/``long``, ``address_string`` (as ``address``) and
``address_id`` (an administrative division code also sets the suggestion's area); ``media_url``
(returned only with consent). Kept and never returned: ``first_name``/``last_name``,
``phone``, ``email``, ``account_id``. ``device_id`` is not kept.

``jurisdiction_id`` may be left out (this endpoint serves one county); if given it must be
the county's division code (e.g. 330482), else the answer is the spec's 404.

Issue a key: ``python -m mediation.suggestions.open311_controllers create-key "NAME"``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, Parameter
from litestar.types import Receive, Scope, Send
from msgspec import Meta

from mediation import i18n
from mediation.clock import utc_now
from mediation.db import with_database
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.suggestions import open311, photos, rules, services
from mediation.suggestions import open311_render as render
from mediation.suggestions.categories import CATEGORY_CODES, SUGGESTION_CATEGORIES, category_name
from mediation.suggestions.tables import ApiKey, Suggestion, SuggestionEvent, SuggestionPhoto
from mediation.web import guard_request

BASE_PATH = "/open311/v2"
KEY_PREFIX = "o311_"
MAX_KEY_LENGTH = 200
NO_MEASURES = "（未单独填写对策建议，详见主要事由。）"
# The text fields and one photo (multipart).
MAX_POST_BODY = photos.MAX_PHOTOS * photos.MAX_PHOTO_BYTES + 256 * 1024

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
class _FormOperation(Operation):
    """POST requests in the OpenAPI document: form-encoded or multipart."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "application/x-www-form-urlencoded": OpenAPIMediaType(schema=_form_schema(False)),
                "multipart/form-data": OpenAPIMediaType(schema=_form_schema(True)),
            },
        )


def _form_values(form: Any) -> dict[str, Any]:
    """The posted fields as text (a repeated field: its first value); files are left out."""
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key not in values and not isinstance(value, UploadFile):
            values[key] = value
    return values


# ---------------------------------------------------------------- errors and formats


class Open311Problem(Exception):
    """A refusal in the spec's format: a list of {code, description} and the HTTP status."""

    def __init__(self, status: int, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = [dict(e) for e in errors]


def _problem(status: int, description: str) -> Open311Problem:
    return Open311Problem(status, open311.error_response(status, description))


def format_of(request: Request) -> str:
    """The format the resource asks for by its extension; XML (the spec's own) for an unknown
    one, so that even that refusal can be read."""
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return render.split_format(last)[1]
    except render.UnknownFormat:
        return render.XML


def _error_body(request: Request, status: int, errors: list[dict[str, Any]], headers=None):
    return render.document(format_of(request), "errors", errors, status, headers)


def _on_problem(request: Request, exc: Open311Problem) -> Response:
    return _error_body(request, exc.status, exc.errors)


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
    return _error_body(request, status, open311.error_response(status, text), exc.headers)


def _on_internal_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error in the Open311 interface", exc_info=exc)
    return _error_body(
        request, 500, open311.error_response(500, _("Something went wrong on our side"))
    )


async def _use_request_locale(request: Request) -> Response | None:
    """API clients have no locale cookie: Accept-Language chooses, Chinese by default."""
    if not request.cookies.get("lang"):
        first = (request.headers.get("accept-language") or "").split(",")[0].split(";")[0]
        locale = i18n.normalize_locale(first)
        if locale:
            i18n.set_locale(locale)
    return await guard_request(request)  # this hook replaces the app's, which does the same


def _resource(name: str) -> tuple[str, str]:
    """``x.json`` → (``x``, json); a format other than XML or JSON is the spec's 400."""
    try:
        return render.split_format(name)
    except render.UnknownFormat:
        raise _problem(
            400, i18n.gettext("Only the XML and JSON formats are offered: use .xml or .json.")
        ) from None


async def _check_jurisdiction(jurisdiction_id: str | None) -> None:
    """One county per endpoint: no jurisdiction_id is fine, another county's is not found."""
    wanted = (jurisdiction_id or "").strip()
    if not wanted:
        return
    county = await Region.select(Region.code).where(Region.parent.is_null()).first()
    if county is None or wanted != county["code"]:
        raise _problem(404, i18n.gettext("jurisdiction_id not found: %(id)s.", id=wanted[:100]))


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
    Suggestion.proposer_email,
    Suggestion.confidential,
    Suggestion.consent_to_publish,
    Suggestion.reply_text,
    Suggestion.created_at,
    Suggestion.route_due,
    Suggestion.conclude_due,
    Suggestion.address,
    Suggestion.address_id,
    Suggestion.lat,
    Suggestion.long,
    Suggestion.media_url,
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


async def _first_photos(ids: list[int]) -> dict[int, int]:
    first: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        rows = (
            await SuggestionPhoto.select(SuggestionPhoto.id, SuggestionPhoto.suggestion)
            .where(SuggestionPhoto.suggestion.is_in(ids[start : start + 500]))
            .order_by(SuggestionPhoto.id)
        )
        for r in rows:
            first.setdefault(r["suggestion"], r["id"])
    return first


def _notice(status: rules.SuggestionStatus, route_due: date, conclude_due: date) -> str | None:
    """What the deadline policy promises next, for a request still on its way to a reply."""
    if status in (rules.SuggestionStatus.RECEIVED, rules.SuggestionStatus.REGISTERED):
        return i18n.gettext(
            "To be passed to the department in charge by %(route)s and concluded by %(due)s.",
            route=route_due.isoformat(),
            due=conclude_due.isoformat(),
        )
    if status in (rules.SuggestionStatus.TRANSFERRED, rules.SuggestionStatus.HANDLING):
        return i18n.gettext(
            "With the department in charge; to be concluded by %(due)s.",
            due=conclude_due.isoformat(),
        )
    return None


def _record(row: dict, updated_at: datetime | None, media_url: str | None = None) -> dict[str, Any]:
    status = rules.SuggestionStatus(row["status"])
    public = row["consent_to_publish"] and not row["confidential"]
    place = [
        row.get(key)
        for key in ("region.name", "region.parent.name", "region.parent.parent.name")
        if row.get(key)
    ]
    # Most specific first, as the spec asks: the address given, then the area's names.
    address = "，".join([row["address"], *place] if row["address"] else place)
    waiting = not rules.is_finished(status) and status is not rules.SuggestionStatus.REPLIED
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
        "service_notice": _notice(status, row["route_due"], row["conclude_due"])
        if waiting
        else None,
        "received_at": row["created_at"],
        "updated_at": updated_at,
        "conclude_due": row["conclude_due"] if waiting else None,
        "address": address or None,
        "address_id": row["address_id"] or row["region.code"],
        "lat": row["lat"],
        "long": row["long"],
        "media_url": media_url or row["media_url"] or None,
        "confidential": row["confidential"],
        "consent_to_publish": row["consent_to_publish"],
        # Read only to scrub them out of the text.
        "name": row["proposer_name"],
        "phone": row["proposer_phone"],
        "email": row["proposer_email"],
    }


async def _service_requests(request: Request, rows: list[dict]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    latest = await _last_public_change(ids)
    photo_of = await _first_photos(ids)
    base = str(request.base_url).rstrip("/") + BASE_PATH
    out = []
    for r in rows:
        media = None
        if r["id"] in photo_of:
            media = f"{base}/media/{r['tracking_code']}/{photo_of[r['id']]}.jpg"
        record = _record(r, latest.get(r["id"]), media)
        out.append(
            msgspec.to_builtins(
                msgspec.convert(open311.service_request_out(record), ServiceRequest)
            )
        )
    return out


# ---------------------------------------------------------------- the controller

_ERRORS = {
    400: ResponseSpec(list[Open311Error], description="A required argument is missing or wrong"),
    404: ResponseSpec(list[Open311Error], description="Not found"),
}
_FORMAT_NOTE = " The same in XML: use .xml instead of .json."
JURISDICTION = Parameter(
    description="Optional: this endpoint serves one county (its division code, e.g. 330482)."
)


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
        ["/discovery.json", "/discovery.xml"],
        opt={"public": True},
        include_in_schema=True,
        summary="Service Discovery",
        description="Where the GeoReport v2 endpoint is, which formats it offers, who to ask."
        + _FORMAT_NOTE,
    )
    async def discovery(self, request: Request) -> Response[Discovery]:
        base = request.app.state.settings.public_base_url.rstrip("/") + BASE_PATH
        doc = open311.discovery(base, changeset=CATEGORIES_CHANGESET)
        return render.document(format_of(request), "discovery", doc)

    @get(
        ["/services.json", "/services.xml"],
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service List",
        description="One service per suggestion category; service_code is the category code."
        + _FORMAT_NOTE,
        responses={404: _ERRORS[404]},
    )
    async def services(
        self,
        request: Request,
        jurisdiction_id: Annotated[str | None, JURISDICTION] = None,
    ) -> Response[list[Service]]:
        await _check_jurisdiction(jurisdiction_id)
        services_ = msgspec.to_builtins(
            msgspec.convert(open311.service_list(_categories()), list[Service])
        )
        return render.document(format_of(request), "services", services_)

    @get(
        "/services/{service_file:str}",
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service Definition",
        description=(
            "``service_file`` is the service_code followed by .xml or .json. No attribute is "
            "required (metadata is false); the optional ones are listed."
        ),
        responses=_ERRORS,
    )
    async def service_definition(
        self,
        service_file: FromPath[str],
        jurisdiction_id: Annotated[str | None, JURISDICTION] = None,
    ) -> Response[ServiceDefinition]:
        code, fmt = _resource(service_file)
        await _check_jurisdiction(jurisdiction_id)
        if code not in CATEGORY_CODES:
            raise _problem(
                404,
                i18n.gettext("service_code not found: %(code)s.", code=code),
            )
        definition = ServiceDefinition(service_code=code, attributes=await _attributes())
        return render.document(fmt, "service_definition", msgspec.to_builtins(definition))

    @post(
        ["/requests.json", "/requests.xml"],
        opt={"public": True},
        include_in_schema=True,
        status_code=201,
        middleware=[RATE_LIMIT.middleware],
        request_max_body_size=MAX_POST_BODY,
        operation_class=_FormOperation,
        summary="POST Service Request: file a suggestion",
        description=(
            "Needs an api_key, in the body or the query string. Form-encoded as the spec says, "
            "or multipart with an optional ``media`` photo. The answer's service_request_id is "
            "the receipt code; the citizen's secret is not given to Open311 clients, who follow "
            "the request by its service_request_id and see its public status only." + _FORMAT_NOTE
        ),
        responses={
            **_ERRORS,
            403: ResponseSpec(list[Open311Error], description="api_key missing or not valid"),
            429: ResponseSpec(list[Open311Error], description="Too many requests"),
        },
    )
    async def create_request(self, request: Request) -> Response[list[Created]]:
        # Read by hand, not as a typed body: one handler takes both encodings.
        posted = await request.form()
        form = _form_values(posted)
        if not form.get("api_key"):
            form["api_key"] = request.query_params.get("api_key") or ""
        values, errors = open311.parse_service_request_in(form)
        if any(e["code"] == 403 for e in errors):
            raise Open311Problem(403, [e for e in errors if e["code"] == 403])
        key = await check_api_key(values["api_key"])
        if key is None:
            raise _problem(403, i18n.gettext("api_key is not valid."))
        await _check_jurisdiction(values["jurisdiction_id"])
        if errors:
            raise Open311Problem(400, errors)
        if values["service_code"] not in CATEGORY_CODES:
            raise _problem(
                404,
                i18n.gettext("service_code not found: %(code)s.", code=values["service_code"]),
            )
        photo_files = await _media(posted)
        submission = await _submission(values, str(form.get("attribute[call]") or ""))
        _cleaned, refused, receipt = await services.submit_suggestion(
            submission,
            rules.Channel.OPEN311.value,
            photo_files=photo_files,
            reason_limit=rules.MAX_DESCRIPTION,
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
            await Suggestion.select(Suggestion.id, Suggestion.route_due, Suggestion.conclude_due)
            .where(Suggestion.tracking_code == code)
            .first()
        )
        from mediation.grid.services import record_audit

        await record_audit(None, "open311_submit", "suggestion", row["id"], detail=key["name"])
        notice = i18n.gettext(
            "Received. Follow it with service_request_id %(code)s. %(next)s",
            code=code,
            next=_notice(rules.SuggestionStatus.RECEIVED, row["route_due"], row["conclude_due"]),
        )
        created = open311.created_response(code, notice, values["account_id"])
        return render.document(format_of(request), "service_requests", created, 201)

    @get(
        ["/requests.json", "/requests.xml"],
        opt={"public": True},
        include_in_schema=True,
        middleware=[LIST_RATE_LIMIT.middleware],
        summary="GET Service Requests",
        description=(
            "Public; at most 1000 requests and 90 days (by default the last 90). A list of "
            "service_request_id overrides every other argument." + _FORMAT_NOTE
        ),
        responses={400: _ERRORS[400], 404: _ERRORS[404]},
    )
    async def list_requests(
        self,
        request: Request,
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
        jurisdiction_id: Annotated[str | None, JURISDICTION] = None,
    ) -> Response[list[ServiceRequest]]:
        await _check_jurisdiction(jurisdiction_id)
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
        found = await _service_requests(request, rows)
        return render.document(format_of(request), "service_requests", found)

    @get(
        "/requests/{request_file:str}",
        opt={"public": True},
        include_in_schema=True,
        summary="GET Service Request",
        description="``request_file`` is the service_request_id followed by .xml or .json; the "
        "answer is a list of one request, as the spec has it.",
        responses=_ERRORS,
    )
    async def read_request(
        self,
        request: Request,
        request_file: FromPath[str],
        jurisdiction_id: Annotated[str | None, JURISDICTION] = None,
    ) -> Response[list[ServiceRequest]]:
        name, fmt = _resource(request_file)
        await _check_jurisdiction(jurisdiction_id)
        code = rules.parse_tracking_code(name)
        rows = []
        if code:
            rows = await Suggestion.select(*_COLUMNS).where(Suggestion.tracking_code == code)
        if not rows:
            raise _problem(404, _("This suggestion does not exist."))
        return render.document(fmt, "service_requests", await _service_requests(request, rows))

    @get(
        "/media/{request_id:str}/{photo_file:str}",
        opt={"public": True},
        include_in_schema=True,
        summary="The photo of a request (media_url)",
        description="Only for a request whose proposer agreed to publication; the photo was "
        "re-encoded at intake, without EXIF or location metadata.",
        responses={404: _ERRORS[404]},
        media_type="image/jpeg",
    )
    async def media(
        self, request: Request, request_id: FromPath[str], photo_file: FromPath[str]
    ) -> Response[bytes]:
        code = rules.parse_tracking_code(request_id)
        stem, _dot, extension = photo_file.rpartition(".")
        row = None
        if code and stem.isdigit() and len(stem) < 12 and extension.lower() in ("jpg", "jpeg"):
            row = (
                await SuggestionPhoto.select(SuggestionPhoto.stored_as)
                .where(
                    SuggestionPhoto.id == int(stem),
                    SuggestionPhoto.suggestion.tracking_code == code,
                    SuggestionPhoto.suggestion.consent_to_publish.eq(True),
                    SuggestionPhoto.suggestion.confidential.eq(False),
                )
                .first()
            )
        data_dir = request.app.state.settings.data_dir
        path = photos.path_of(data_dir, row["stored_as"]) if row else None
        if path is None or not path.is_file():
            raise Open311Problem(404, open311.error_response(404, _("Page not found")))
        return Response(
            path.read_bytes(),
            media_type="image/jpeg",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )


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
    "address": "address_string",
    "photos": "media",
}


async def _media(form: Any) -> list[photos.Photo]:
    """A photo sent as the multipart field ``media``: checked and re-encoded without metadata."""
    uploads = [
        value
        for key, value in form.multi_items()
        if key == "media" and isinstance(value, UploadFile) and value.filename
    ]
    if not uploads:
        return []
    try:
        contents = [(f.filename, await f.read()) for f in uploads[: photos.MAX_PHOTOS]]
        return await anyio.to_thread.run_sync(photos.prepare_all, contents)
    except photos.PhotoError as exc:
        raise _problem(400, f"media: {exc.message}") from exc


async def _submission(values: dict[str, Any], call: str) -> dict[str, Any]:
    """The suggestion form's values from the Open311 ones."""
    region = ""
    if values["address_id"]:
        row = await Region.select(Region.id).where(Region.code == values["address_id"]).first()
        region = str(row["id"]) if row else ""
    return {
        "topic": values["topic"],
        "reason": values["reason"],
        "measures": values["measures"] or NO_MEASURES,
        "name": values["name"],
        "phone": values["phone"],
        "email": values["email"],
        "account_id": values["account_id"] or "",
        "reply_by_phone": "",
        "confidential": "1" if values["confidential"] else "",
        "consent_to_publish": "1" if values["consent_to_publish"] else "",
        "category": values["service_code"],
        "region": region,
        "call": call.strip(),
        "address": values["address"],
        "address_id": values["address_id"],
        "lat": "" if values["lat"] is None else repr(values["lat"]),
        "long": "" if values["long"] is None else repr(values["long"]),
        "media_url": values["media_url"],
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
