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

Issue a key: ``python -m mediation.suggestions.open311_keys create-key "NAME"``.

The interface is split by concern: ``open311`` (the spec's rules, pure), ``open311_render``
(XML/JSON), ``open311_documents`` (the documents' shapes and the services' attributes),
``open311_errors`` (refusals in the spec's format), ``open311_keys`` (API keys),
``open311_reading`` (list, one request, photos), ``open311_filing`` (POST requests) and this
module (the routes and their rate limits).
"""

from __future__ import annotations

import sys
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter
from litestar.types import BeforeRequestHookHandler, Receive, Scope, Send

from mediation import i18n
from mediation.i18n import gettext as _
from mediation.suggestions import open311, photos, rules
from mediation.suggestions import open311_render as render
from mediation.suggestions.categories import CATEGORY_CODES
from mediation.suggestions.open311_documents import (
    CATEGORIES_CHANGESET,
    Created,
    Discovery,
    FormOperation,
    Open311Error,
    Service,
    ServiceDefinition,
    ServiceRequest,
    categories,
    service_attributes,
)
from mediation.suggestions.open311_errors import (
    Open311Problem,
    check_jurisdiction,
    format_of,
    http_error_response,
    on_internal_error,
    on_problem,
    problem,
    resource,
)
from mediation.suggestions.open311_filing import MAX_POST_BODY, file_request
from mediation.suggestions.open311_keys import main
from mediation.suggestions.open311_reading import (
    BASE_PATH,
    find_request,
    find_requests,
    published_photo,
    service_requests,
)
from mediation.web import guard_request

__all__ = ["BASE_PATH", "LIST_RATE_LIMIT", "RATE_LIMIT", "Open311Controller", "main"]


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
    # Annotated as the hook it is: mypy would take a function assigned in the class body for a
    # method, which Litestar unbinds when it sets the controller up.
    before_request: BeforeRequestHookHandler | None = _use_request_locale
    # Public reads and key-authenticated filing: no session cookie (overrides the app's).
    security: list = []
    exception_handlers = {
        Open311Problem: on_problem,
        HTTPException: http_error_response,
        Exception: on_internal_error,
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
        await check_jurisdiction(jurisdiction_id)
        services_ = msgspec.to_builtins(
            msgspec.convert(open311.service_list(categories()), list[Service])
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
        code, fmt = resource(service_file)
        await check_jurisdiction(jurisdiction_id)
        if code not in CATEGORY_CODES:
            raise problem(
                404,
                i18n.gettext("service_code not found: %(code)s.", code=code),
            )
        definition = ServiceDefinition(service_code=code, attributes=await service_attributes())
        return render.document(fmt, "service_definition", msgspec.to_builtins(definition))

    @post(
        ["/requests.json", "/requests.xml"],
        opt={"public": True},
        include_in_schema=True,
        status_code=201,
        middleware=[RATE_LIMIT.middleware],
        request_max_body_size=MAX_POST_BODY,
        operation_class=FormOperation,
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
        created = await file_request(await request.form(), request.query_params.get("api_key"))
        return render.document(
            format_of(request), "service_requests", msgspec.to_builtins(created), 201
        )

    @get(
        ["/requests.json", "/requests.xml"],
        opt={"public": True},
        include_in_schema=True,
        middleware=[LIST_RATE_LIMIT.middleware],
        summary="GET Service Requests",
        description=(
            "Public; the newest requests first, at most 90 days (by default the last 90). "
            f"page_size requests per answer: {open311.DEFAULT_PAGE_SIZE} by default, at most "
            f"{open311.MAX_PAGE_SIZE}. A list of service_request_id overrides every other "
            "argument." + _FORMAT_NOTE
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
        page_size: Annotated[
            str | None,
            Parameter(
                description=f"How many requests, newest first: {open311.DEFAULT_PAGE_SIZE} by "
                f"default, at most {open311.MAX_PAGE_SIZE}",
                schema_extra={"type": "integer", "minimum": 1, "maximum": open311.MAX_PAGE_SIZE},
            ),
        ] = None,
        jurisdiction_id: Annotated[str | None, JURISDICTION] = None,
    ) -> Response[list[ServiceRequest]]:
        await check_jurisdiction(jurisdiction_id)
        query = {
            "service_request_id": service_request_id or "",
            "service_code": service_code or "",
            "start_date": start_date or "",
            "end_date": end_date or "",
            "status": status or "",
            "page_size": page_size or "",
        }
        params, errors = open311.parse_list_params(query)
        if errors:
            raise Open311Problem(400, errors)
        found = await service_requests(str(request.base_url), await find_requests(params))
        return render.document(format_of(request), "service_requests", msgspec.to_builtins(found))

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
        name, fmt = resource(request_file)
        await check_jurisdiction(jurisdiction_id)
        rows = await find_request(rules.parse_tracking_code(name))
        if not rows:
            raise problem(404, _("This suggestion does not exist."))
        found = await service_requests(str(request.base_url), rows)
        return render.document(fmt, "service_requests", msgspec.to_builtins(found))

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
        row = await published_photo(rules.parse_tracking_code(request_id), photo_file)
        data_dir = request.app.state.settings.data_dir
        content = await photos.read(data_dir, row.stored_as) if row else None
        if content is None:
            raise Open311Problem(404, open311.error_response(404, _("Page not found")))
        return Response(
            content,
            media_type="image/jpeg",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )


if __name__ == "__main__":
    sys.exit(main())
