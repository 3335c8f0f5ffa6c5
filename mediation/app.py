"""The application factory: every controller, middleware and setting is wired here."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute
from litestar.security.session_auth import SessionAuth
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from mediation import db
from mediation.accounts.controllers import AccountController
from mediation.accounts.services import CurrentUser, load_user
from mediation.accounts.sessions import (
    SESSION_LEFT,
    QuietSessionConfig,
    SessionFileStore,
    still_valid,
)
from mediation.cases import labels as case_labels
from mediation.cases.agreement_controllers import AgreementController, VerifyController
from mediation.cases.controllers import (
    CaseController,
    DeadlinePolicyController,
    HolidayCalendarController,
    NotificationController,
)
from mediation.cases.document_controllers import CaseDocumentController
from mediation.cases.material_controllers import MaterialController
from mediation.cases.party_controllers import PartyController
from mediation.cases.session_controllers import SessionController
from mediation.grid.admin import AdminController
from mediation.grid.controllers import GridController, HomeController
from mediation.intake.api import CaseIntakeApiController
from mediation.intake.controllers import IntakeController
from mediation.keys import field_key_lifespan
from mediation.portal.controllers import MyCaseController, PartyCodeController
from mediation.reports.controllers import (
    ConclusionFiguresController,
    ReportController,
    StatutoryReportController,
    WarningController,
)
from mediation.settings import Settings, get_settings
from mediation.static_assets import static_file
from mediation.suggestions.open311_controllers import Open311Controller
from mediation.suggestions.point_controllers import DirectReportPointController
from mediation.suggestions.public_controllers import (
    BoardController,
    KioskController,
    SuggestController,
    TrackController,
)
from mediation.suggestions.staff_controllers import (
    SuggestionStaffController,
    SuggestionTopicController,
)
from mediation.tasks import sweep_lifespan
from mediation.templating import install_globals
from mediation.web import (
    CSRF_COOKIE,
    add_security_headers,
    csrf_cookie_refresh_middleware,
    guard_request,
    handle_http_exception,
    handle_internal_error,
    locale_middleware,
    options_middleware,
)

# Every controller, in one place.
CONTROLLERS: list[Any] = [
    HomeController,
    AccountController,
    GridController,
    AdminController,
    IntakeController,
    CaseController,
    MaterialController,
    PartyController,
    NotificationController,
    DeadlinePolicyController,
    HolidayCalendarController,
    CaseIntakeApiController,
    SessionController,
    AgreementController,
    VerifyController,
    CaseDocumentController,
    PartyCodeController,
    MyCaseController,
    SuggestionTopicController,
    DirectReportPointController,
    SuggestionStaffController,
    Open311Controller,
    KioskController,
    SuggestController,
    TrackController,
    BoardController,
    ReportController,
    ConclusionFiguresController,
    StatutoryReportController,
    WarningController,
]

# Pages anyone may open without signing in (the handlers also carry opt={"public": True}).
PUBLIC_PATHS = [
    "^/static/",
    "^/login",
    "^/locale",
    "^/schema",
    "^/health",
    "^/verify/",
    # The citizen's pages; "(/|$)" so that the staff's /suggestions is not matched.
    "^/kiosk(/|$)",
    "^/suggest(/|$)",
    "^/track(/|$)",
    "^/board(/|$)",
    "^/my-case(/|$)",
]


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> CurrentUser | None:
    """The signed-in user, unless their password, roles or region changed since sign-in: a
    password reset or a change of privileges ends every session signed in before it. A session
    also ends after ``SESSION_IDLE`` seconds without activity and ``SESSION_MAX_AGE`` seconds
    after sign-in (activity extends it up to that cap)."""
    staff_id = session.get("staff_id")
    if not isinstance(staff_id, int):
        return None
    if not still_valid(session, connection, connection.app.state.settings):
        connection.clear_session()  # the store forgets it when the response is sent
        return None
    user = await load_user(staff_id)
    if user is None or session.get("stamp") != user.session_stamp:
        connection.clear_session()
        connection.scope.pop(SESSION_LEFT, None)  # type: ignore[misc]  # no countdown on a 401
        return None
    return user


def _stores(settings: Settings) -> dict[str, Any]:
    if settings.redis_url:
        root = RedisStore.with_client(settings.redis_url)
        return {
            "sessions": root.with_namespace("sessions"),
            "rate_limit": root.with_namespace("rl"),
        }
    return {
        "sessions": SessionFileStore(settings.data_dir / "sessions", create_directories=True),
        "rate_limit": MemoryStore(),
    }


async def _is_login_attempt(request: Request) -> bool:
    # A coroutine function: Litestar runs a plain function here in a worker thread, on every
    # request.
    return request.method == "POST" and request.url.path == "/login"


async def _refresh_reference_data(_request: Request) -> None:
    """Keep the in-memory holiday calendar and dispute categories current (a clock check
    each; a query once a minute)."""
    from mediation.cases.category_store import refresh_categories
    from mediation.cases.holidays import refresh_calendar

    await refresh_calendar()
    await refresh_categories()


async def _before_request(request: Request) -> Response | None:
    await _refresh_reference_data(request)
    return await guard_request(request)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    session_config = QuietSessionConfig(
        key="msession",
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
    )
    auth = SessionAuth[CurrentUser, Any](
        retrieve_user_handler=retrieve_user,
        session_backend_config=session_config,
        exclude=PUBLIC_PATHS,
        exclude_opt_key="public",
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name="x-csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=["^/open311/"],  # API-key clients, no browser cookies involved
    )
    login_limit = RateLimitConfig(
        rate_limit=("minute", settings.login_rate_limit),
        check_throttle_handler=_is_login_attempt,
        store="rate_limit",
    )
    app = Litestar(
        route_handlers=[static_file, *CONTROLLERS],
        # Tablets on patchy networks: pages, CSS and JS gzipped (PDFs, photos and sheets are
        # compressed formats already).
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, exclude=r"\.(pdf|xlsx|jpe?g|png)$"
        ),
        lifespan=[
            db.lifespan,
            field_key_lifespan(settings.field_key),
            sweep_lifespan(settings.run_background_tasks, settings=settings),
        ],
        middleware=[
            csrf_cookie_refresh_middleware(settings.secret_key),
            login_limit.middleware,
            locale_middleware,
            options_middleware,
        ],
        on_app_init=[auth.on_app_init],
        before_request=_before_request,
        before_send=[add_security_headers],
        csrf_config=csrf,
        stores=_stores(settings),
        template_config=TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(
                install_globals(**case_labels.template_globals())
            )
        ),
        plugins=[HTMXPlugin()],
        exception_handlers={HTTPException: handle_http_exception, Exception: handle_internal_error},
        openapi_config=OpenAPIConfig(
            title="Grid mediation API", version="1.0.0", path="/schema", create_examples=False
        ),
        state=State({"settings": settings}),
        debug=settings.debug,
    )
    # Every path's complete list of methods, for options_middleware.
    app.state.allowed_methods = {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    _complete_openapi(app)
    return app


# Open311 filing (POST requests.json): the handler reads the form by hand, so one handler takes
# url-encoded and multipart bodies and answers a missing argument in the standard's format;
# the schema gets the form described here, with the standard's required arguments.
OPEN311_FORM_FIELDS = {
    "api_key": "Required: the key issued to the client.",
    "service_code": "Required: from GET services.",
    "description": "Required: the main reason (主要事由).",
    "jurisdiction_id": "Ignored: one county per endpoint.",
    "lat": "",
    "long": "",
    "address_string": "",
    "address_id": "An administrative division code sets the area.",
    "email": "Checked, not kept.",
    "device_id": "Not kept.",
    "account_id": "",
    "first_name": "",
    "last_name": "",
    "phone": "",
    "media_url": "",
    "attribute[topic]": "",
    "attribute[measures]": "",
    "attribute[confidential]": "",
    "attribute[consent_to_publish]": "",
    "attribute[call]": "",
}
OPEN311_REQUIRED_FORM_FIELDS = ["api_key", "service_code", "description"]


def _open311_form_body() -> RequestBody:
    def form(with_media: bool) -> Schema:
        properties: dict[str, Any] = {
            name: Schema(type=OpenAPIType.STRING, description=text or None)
            for name, text in OPEN311_FORM_FIELDS.items()
        }
        if with_media:
            properties["media"] = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        return Schema(
            type=OpenAPIType.OBJECT,
            properties=properties,
            required=OPEN311_REQUIRED_FORM_FIELDS,
        )

    return RequestBody(
        required=True,
        content={
            "application/x-www-form-urlencoded": OpenAPIMediaType(schema=form(False)),
            "multipart/form-data": OpenAPIMediaType(schema=form(True)),
        },
    )


def _complete_openapi(app: Litestar) -> None:
    """What the generated schema cannot infer from the handlers' signatures."""
    schema = app.openapi_schema
    for path, item in (schema.paths or {}).items():
        if not path.startswith("/open311/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is not None:
                operation.security = []  # public: no session cookie (the root asks for one)
        if path.endswith(("/requests.json", "/requests.xml")) and item.post is not None:
            if item.post.request_body is None:
                item.post.request_body = _open311_form_body()
