"""Open311 refusals in the spec's format (a list of {code, description}), in the format the
resource asks for; also used by the app's HTTP error handler for every path under /open311/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from mediation import i18n
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.suggestions import open311
from mediation.suggestions import open311_render as render


class Open311Problem(Exception):
    """A refusal in the spec's format: a list of {code, description} and the HTTP status."""

    def __init__(self, status: int, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = [dict(e) for e in errors]


def problem(status: int, description: str) -> Open311Problem:
    return Open311Problem(status, open311.error_response(status, description))


def format_of(request: Request) -> str:
    """The format the resource asks for by its extension; XML (the spec's own) for an unknown
    one, so that even that refusal can be read."""
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return render.split_format(last)[1]
    except render.UnknownFormat:
        return render.XML


def error_body(request: Request, status: int, errors: list[dict[str, Any]], headers=None):
    return render.document(format_of(request), "errors", errors, status, headers)


def on_problem(request: Request, exc: Open311Problem) -> Response:
    return error_body(request, exc.status, exc.errors)


def http_error_response(request: Request, exc: HTTPException) -> Response:
    """Any HTTP error under /open311/ (unknown path, wrong method, rate limit) in the spec's
    format; the app's handler for HTTP errors hands these paths here."""
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
    return error_body(request, status, open311.error_response(status, text), exc.headers)


def on_internal_error(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error in the Open311 interface", exc_info=exc)
    return error_body(
        request, 500, open311.error_response(500, _("Something went wrong on our side"))
    )


def resource(name: str) -> tuple[str, str]:
    """``x.json`` → (``x``, json); a format other than XML or JSON is the spec's 400."""
    try:
        return render.split_format(name)
    except render.UnknownFormat:
        raise problem(
            400, i18n.gettext("Only the XML and JSON formats are offered: use .xml or .json.")
        ) from None


async def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """One county per endpoint: no jurisdiction_id is fine, another county's is not found."""
    wanted = (jurisdiction_id or "").strip()
    if not wanted:
        return
    county = await Region.select(Region.code).where(Region.parent.is_null()).first()
    if county is None or wanted != county["code"]:
        raise problem(404, i18n.gettext("jurisdiction_id not found: %(id)s.", id=wanted[:100]))
