"""Web plumbing shared by every controller: locale per request, error pages, redirects."""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders, UploadFile
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
)
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from mediation import i18n, inputs
from mediation.suggestions.open311_errors import http_error_response

LOCALE_COOKIE = "lang"
CSRF_COOKIE = "csrftoken"


def locale_for(connection: ASGIConnection) -> str:
    return i18n.normalize_locale(connection.cookies.get(LOCALE_COOKIE)) or i18n.DEFAULT_LOCALE


def locale_middleware(app: ASGIApp) -> ASGIApp:
    """Every request renders in the locale its cookie names (zh_CN unless switched)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = i18n.set_locale(locale_for(ASGIConnection(scope)))
        try:
            await app(scope, receive, send)
        finally:
            i18n.reset_locale(token)

    return middleware


# Only the app's own scripts and styles (no inline code, no eval: htmx is configured for that in
# base.html); QR codes are data: images; nothing may frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Headers every response carries (a ``before_send`` hook, so error pages get them too):
    the Content-Security-Policy, no framing, no referrer to other sites, no MIME sniffing, and
    ``Cache-Control: no-store`` on everything but static files unless the handler chose
    otherwise — pages, fragments, JSON and PDFs carry personal data, and a shared tablet's
    cache or the Back button must not bring it back."""
    if message["type"] != "http.response.start" or scope["type"] != "http":
        return
    headers = MutableScopeHeaders.from_message(message)
    content_type = headers.get("content-type") or ""
    if content_type.startswith("text/html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    elif content_type.startswith("application/pdf"):
        # The kiosk prints a receipt from a hidden frame of its own page.
        headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if not scope["path"].startswith("/static/") and "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
    left = scope.get("mediation.session_left")
    if isinstance(left, int):
        # The page's session warning (static/app.js) follows what each request left.
        headers["X-Session-Left"] = str(left)


def csrf_cookie_refresh_middleware(secret: str) -> Any:
    """A browser whose CSRF cookie was signed with an earlier SECRET_KEY gets a new one on its
    next page view (Litestar would keep re-using the stale cookie, and every form, the sign-in
    form included, would be refused until the user cleared their cookies)."""
    from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash

    # A browser sends the same cookie with every page view: checked once per process.
    @lru_cache(maxsize=4096)
    def valid(token: str) -> bool:
        if len(token) <= CSRF_SECRET_LENGTH:
            return False
        expected = generate_csrf_hash(token=token[:CSRF_SECRET_LENGTH], secret=secret)
        return hmac.compare_digest(token[CSRF_SECRET_LENGTH:], expected)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and scope["method"] in ("GET", "HEAD"):
                _drop_stale_csrf_cookie(scope, valid)
            await app(scope, receive, send)

        return middleware

    return factory


def _drop_stale_csrf_cookie(scope: Scope, valid: Any) -> None:
    raw = [(k, v) for k, v in scope["headers"] if k == b"cookie"]
    if not raw:
        return
    changed = False
    headers = []
    for key, value in scope["headers"]:
        if key == b"cookie":
            parts = []
            for part in value.decode("latin-1").split(";"):
                name, _, token = part.strip().partition("=")
                if name == CSRF_COOKIE and not valid(token.strip('"')):
                    changed = True
                    continue
                parts.append(part.strip())
            value = "; ".join(parts).encode("latin-1")
        headers.append((key, value))
    if changed:
        scope["headers"] = headers
        # The session middleware may have parsed the cookies already; forget what it cached.
        state = ScopeState.from_scope(scope)
        state.cookies = Empty
        state.headers = Empty


def public_url(request: Request, path: str) -> str:
    """An absolute link for print and QR codes, from PUBLIC_BASE_URL (a forged Host header must
    not end up on an agreement or a binding link)."""
    return request.app.state.settings.public_base_url.rstrip("/") + path


def options_middleware(app: ASGIApp) -> ASGIApp:
    """OPTIONS answers with every method of the path, signed in or not, before any guard.

    Litestar's own OPTIONS handler keeps the methods of the first handler registered on a
    path (GET was missing beside POST on /open311/v2/requests.json) and sits behind the
    controller's guards, which refuse it for lack of a user (authentication skips OPTIONS)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] == "OPTIONS":
            allowed = scope["app"].state.get("allowed_methods", {}).get(scope.get("path_template"))
            if allowed:
                response = ASGIResponse(status_code=204, headers={"Allow": allowed})
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never redirect a user to another host after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:  # browsers read /\host as //host
        return default
    return target


def see_other(url: str) -> Redirect:
    """After a successful POST: the browser GETs the next page (no resubmission on reload)."""
    return Redirect(url, status_code=303)


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/open311/")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# A bound tablet at a direct-report point carries this cookie; a request whose scope holds
# KIOSK_SCOPE renders in kiosk mode (base.html: no way to the staff pages).
KIOSK_COOKIE = "kiosk_token"
KIOSK_SCOPE = "mediation.kiosk"

_TITLES = {
    400: i18n.lazy_gettext("The request could not be understood"),
    401: i18n.lazy_gettext("Please sign in"),
    403: i18n.lazy_gettext("You do not have permission to see this page"),
    404: i18n.lazy_gettext("Page not found"),
    405: i18n.lazy_gettext("This action is not allowed here"),
    413: i18n.lazy_gettext("The upload is too large"),
    429: i18n.lazy_gettext("Too many attempts, please wait a minute and try again"),
    500: i18n.lazy_gettext("Something went wrong on our side"),
}


def error_page(request: Request, status_code: int, detail: str = "") -> Response:
    i18n.set_locale(locale_for(request))
    title = str(_TITLES.get(status_code) or _TITLES[500 if status_code >= 500 else 400])
    if wants_json(request):
        return Response(
            {"status_code": status_code, "detail": detail or title},
            status_code=status_code,
            media_type=MediaType.JSON,
        )
    if request.cookies.get(KIOSK_COOKIE) and request.scope.get(KIOSK_SCOPE) is None:
        # An error on a kiosk tablet stays in the kiosk (whether the token is still valid
        # only decides what the kiosk pages themselves allow, not how this page looks).
        request.scope[KIOSK_SCOPE] = {}  # type: ignore[literal-required]  # our key in the scope
    return Template(
        "errors/error.html",
        context={"status_code": status_code, "title": title, "detail": detail},
        status_code=status_code,
    )


class UnstorableInput(ClientException):
    """A field holds what no column can store: a NUL byte, or bytes that are not UTF-8."""

    def __init__(self, field: str) -> None:
        super().__init__(
            detail=i18n.gettext(
                "The field “%(field)s” contains a character that cannot be saved (a NUL "
                "character or text that is not UTF-8). Please remove it and send again.",
                field=field,
            )
        )


def _storable(text: str) -> bool:
    return "\x00" not in text


def _first_bad_pair(raw: bytes) -> str | None:
    """The name of the first field of a query string or url-encoded form whose value is not
    storable text. Litestar decodes such bytes to U+FFFD, silently: decide on the raw bytes."""
    for pair in raw.split(b"&"):
        name, _sep, value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        value_bytes = unquote_to_bytes(value.replace(b"+", b" "))
        label = name_bytes.decode("utf-8", "replace").replace("\x00", "")[:40]
        try:
            text = name_bytes.decode("utf-8") + value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            return label
        if not _storable(text):
            return label
    return None


def _first_bad_json(value: Any, name: str = "") -> str | None:
    if isinstance(value, str):
        return None if _storable(value) else name
    if isinstance(value, dict):
        for key, item in value.items():
            label = str(key).replace("\x00", "")[:40]
            if not _storable(str(key)):
                return label
            if (bad := _first_bad_json(item, label)) is not None:
                return bad
    if isinstance(value, list):
        for item in value:
            if (bad := _first_bad_json(item, name)) is not None:
                return bad
    return None


async def guard_request(request: Request) -> Response | None:
    """Refuse, before any handler runs, input that no column can hold: an id beyond the
    database's integer range names no record (404); a NUL byte or text that is not UTF-8 in
    the query, a form or a JSON body is refused with the field named (400). Without this,
    PostgreSQL and SQLite raise deep inside a query and the user gets a 500."""
    for value in request.path_params.values():
        if isinstance(value, int) and not inputs.in_db_range(value):
            raise NotFoundException()
        if isinstance(value, str) and not _storable(value):
            raise NotFoundException()
    if (field := _first_bad_pair(request.scope.get("query_string", b""))) is not None:
        raise UnstorableInput(field)
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    content_type, _options = request.content_type
    if content_type == RequestEncodingType.URL_ENCODED:
        field = _first_bad_pair(await request.body())
    elif content_type == RequestEncodingType.MULTI_PART:
        try:
            form = await request.form()
        except UnicodeDecodeError:
            raise UnstorableInput("?") from None
        field = next(
            (
                key
                for key, value in form.multi_items()
                if not _storable(key)
                or (isinstance(value, str) and not _storable(value))
                or (isinstance(value, UploadFile) and not _storable(value.filename or ""))
            ),
            None,
        )
    elif content_type == "application/json":
        try:
            field = _first_bad_json(await request.json())
        except Exception:  # malformed JSON: the handler's own parsing answers 400
            field = None
    else:
        field = None
    if field is not None:
        raise UnstorableInput(field.replace("\x00", "") or "?")
    return None


def _same_site_referer(request: Request) -> str:
    """The path and query of the page a request came from, when that page is on this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path or referer.netloc != request.headers.get("host", ""):
        return ""
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""), "")


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/open311/"):
        # Unknown paths and methods under the Open311 root answer in the standard's format.
        return http_error_response(request, exc)
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            # A form posted after the session ended: come back to the page it was on (its
            # text is kept as a local draft), not to the POST address.
            target = _same_site_referer(request) or "/"
        if request.headers.get("hx-request"):
            # The page stays as it is (with whatever was typed) and offers to sign in again in
            # a new tab (static/app.js); a redirect would replace the whole page.
            return Response("", status_code=401)
        return Redirect(f"/login?next={quote(target)}")
    detail = ""
    if exc.status_code in (400, 413, 429) and exc.detail and wants_json(request):
        detail = exc.detail
    elif isinstance(exc, UnstorableInput):
        detail = exc.detail
    return error_page(request, exc.status_code, detail)


def handle_internal_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error", exc_info=exc)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """An htmx request that wants a fragment (HTMXPlugin makes every request an HTMXRequest).
    Restoring a page missing from htmx's history cache (Back after many filter changes) asks
    for the whole page, layout and filters included."""
    if not isinstance(request, HTMXRequest):
        return False
    return bool(request.htmx) and not request.htmx.history_restore_request
