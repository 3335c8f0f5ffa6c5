"""Web plumbing shared by every controller: locale per request, error pages, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Receive, Scope, Send

from mediation import i18n

LOCALE_COOKIE = "lang"


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


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never redirect a user to another host after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
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
    return Template(
        "errors/error.html",
        context={"status_code": status_code, "title": title, "detail": detail},
        status_code=status_code,
    )


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/open311/"):
        # Unknown paths and methods under the Open311 root answer in the standard's format.
        from mediation.suggestions.open311_controllers import open311_http_error

        return open311_http_error(request, exc)
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            # The page stays as it is (with whatever was typed) and offers to sign in again in
            # a new tab (static/app.js); a redirect would replace the whole page.
            return Response("", status_code=401)
        return Redirect(f"/login?next={quote(target)}")
    detail = ""
    if exc.status_code in (400, 413, 429) and exc.detail and wants_json(request):
        detail = exc.detail
    return error_page(request, exc.status_code, detail)


def handle_internal_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error", exc_info=exc)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """An htmx request that wants a fragment. Restoring a page missing from htmx's history cache
    (Back after many filter changes) asks for the whole page, layout and filters included."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
