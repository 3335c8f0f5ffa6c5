"""The citizen's side of people's suggestions, no account needed: the kiosk at a
direct-report point, the web form, the receipt, progress tracking and the public board."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from mediation.documents.pdf import render_pdf_async
from mediation.documents.qr import qr_svg_data_uri
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.suggestions import limits, photos, rules, services
from mediation.suggestions.categories import category_choices
from mediation.web import (
    KIOSK_COOKIE,
    KIOSK_SCOPE,
    LOCALE_COOKIE,
    error_page,
    public_url,
    see_other,
    wants_fragment,
)

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
PUBLIC = {"public": True}
MAX_BODY = 64 * 1024  # text fields only, no uploads
# The suggestion form: text plus up to three photos.
MAX_FORM_BODY = photos.MAX_PHOTOS * photos.MAX_PHOTO_BYTES + 256 * 1024

KIOSK_COOKIE_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
# Idle seconds before a kiosk wipes itself; a shorter ?reset=N is honoured (tests, demos).
FORM_RESET_SECONDS = 90
RECEIPT_RESET_SECONDS = 60
# How long after submitting the receipt PDF (with the secret) can still be printed.
RECEIPT_TTL = 10 * 60

TEXT_FIELDS = (
    "topic",
    "reason",
    "measures",
    "category",
    "region",
    "address",
    "lat",
    "long",
    "name",
    "phone",
    "call",
    "website",
)
FLAGS = ("reply_by_phone", "confidential", "consent_to_publish")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# ---------------------------------------------------------------- helpers


def _one(value: Any) -> str:
    """A form value as one string: a repeated field keeps its last value."""
    if isinstance(value, list):
        value = value[-1] if value else ""
    # Never cut here: the rules refuse a text over its limit and name the limit, and the
    # request's body size bounds what can arrive at all.
    return str(value or "")


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: _one(data.get(name)).strip() for name in TEXT_FIELDS}
    for flag in FLAGS:
        values[flag] = "1" if rules.parse_flag(_one(data.get(flag))) else ""
    return values


def _reset_seconds(requested: str, default: int) -> int:
    """Only a shorter delay may be asked for: nobody can keep a kiosk from clearing itself."""
    if requested.isdigit() and 1 <= int(requested) < default:
        return int(requested)
    return default


def _track_url(request: Request, code: str) -> str:
    return public_url(request, "/track?" + urlencode({"code": code}))


def _session(request: Request) -> dict[str, Any]:
    session = request.session
    return dict(session) if isinstance(session, dict) else {}


def _remember_receipt(request: Request, code: str, secret: str) -> None:
    """The secret goes to the server-side session only, for the one receipt page that shows it."""
    session = _session(request)
    now = time.time()
    receipts = {c: r for c, r in session.get("receipts", {}).items() if r["until"] > now}
    receipts[code] = {"secret": secret, "until": now + RECEIPT_TTL, "shown": False}
    session["receipts"] = receipts
    request.set_session(session)


# The kiosk's form carries the visit it was shown for; a tablet is shared, and a browser's Back
# and Reload resend an earlier citizen's POST (their name, phone and text) long after the kiosk
# reset. Only the form of the current visit is taken: any other is answered with a blank form,
# or, for the visit that has just filed, with its receipt again (a double tap files once).
VISIT_FIELD = "visit"


def _new_visit(request: Request) -> str:
    session = _session(request)
    visit = session["kiosk_visit"] = secrets.token_urlsafe(16)
    request.set_session(session)
    return visit


def _replayed_visit(request: Request, posted: str) -> Redirect | None:
    """Where a kiosk POST goes if it is not of the current visit; None if it is."""
    session = _session(request)
    current = session.get("kiosk_visit")
    if current and posted and secrets.compare_digest(current, posted):
        return None
    filed = session.get("kiosk_filed") or {}
    if posted and filed.get("visit") and secrets.compare_digest(filed["visit"], posted):
        return see_other(f"/kiosk/receipt/{filed['code']}")
    return see_other("/kiosk")


def _visit_filed(request: Request, visit: str, code: str) -> None:
    session = _session(request)
    session.pop("kiosk_visit", None)
    session["kiosk_filed"] = {"visit": visit, "code": code}
    request.set_session(session)


def _pending_receipt(request: Request, code: str) -> dict | None:
    entry = _session(request).get("receipts", {}).get(code)
    return entry if entry and entry["until"] > time.time() else None


def _mark_shown(request: Request, code: str) -> None:
    session = _session(request)
    receipts = dict(session.get("receipts", {}))
    receipts[code] = {**receipts[code], "shown": True}
    session["receipts"] = receipts
    request.set_session(session)


async def _kiosk_point(request: Request) -> services.KioskPoint | None:
    """The point of the tablet this request comes from (its device cookie), if it is a bound
    kiosk; noted in the scope so that every public page renders in kiosk mode (base.html)."""
    point = await services.point_for_token(request.cookies.get(KIOSK_COOKIE))
    request.scope[KIOSK_SCOPE] = point  # type: ignore[literal-required]  # our key in the scope
    return point


def _set_kiosk_cookie(request: Request, response: Response, device_token: str) -> None:
    """The device token for every public page (path "/"): /track and /board are kiosk pages
    on the tablet too. A cookie of a tablet bound before (path "/kiosk") is replaced."""
    response.set_cookie(
        KIOSK_COOKIE,
        device_token,
        max_age=KIOSK_COOKIE_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    response.delete_cookie(KIOSK_COOKIE, path="/kiosk")


def _kiosk_reset_seconds(request: Request) -> int:
    return _reset_seconds(request.query_params.get("reset", ""), FORM_RESET_SECONDS)


def _unbound(request: Request, invalid_link: bool = False) -> Template:
    return Template(
        "suggestions/public/kiosk_unbound.html",
        context={"invalid_link": invalid_link},
        status_code=403,
        headers=NO_STORE,
    )


async def _public_region_choices() -> list[tuple[str, str]]:
    """Towns and their villages/communities of the county, indented as a tree."""
    rows = await Region.select(Region.id, Region.name, Region.path).order_by(Region.path)
    top = min((r["path"].count("/") for r in rows), default=0)
    return [
        (str(r["id"]), "\u3000" * (r["path"].count("/") - top - 1) + r["name"])
        for r in rows
        if r["path"].count("/") > top
    ]


async def _form_page(
    request: Request,
    mode: str,
    point: services.KioskPoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
    reset: str = "",
    limited: str = "",
    retry_after: int = 0,
) -> Template:
    headers = dict(NO_STORE)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    topics = await services.open_topics()
    return Template(
        "suggestions/public/form.html",
        context={
            "mode": mode,
            "kiosk": mode == "kiosk",
            "action": "/kiosk" if mode == "kiosk" else "/suggest",
            "point": point,
            "values": {**values, "website": ""},
            "errors": errors,
            "topic_choices": [(str(t.id), t.title) for t in topics],
            "category_choices": category_choices(),
            "region_choices": await _public_region_choices(),
            "max_photos": photos.MAX_PHOTOS,
            "reset_seconds": _reset_seconds(reset, FORM_RESET_SECONDS),
            "limited": limited,
            "visit": _session(request).get("kiosk_visit", "") if mode == "kiosk" else "",
            "max": {
                "topic": rules.MAX_TOPIC,
                "reason": rules.MAX_REASON,
                "measures": rules.MAX_MEASURES,
                "name": rules.MAX_NAME,
                "address": rules.MAX_ADDRESS,
            },
        },
        status_code=status_code,
        headers=headers,
    )


async def _form_data(request: Request) -> dict[str, Any]:
    """The posted form, multipart (with photos) or URL-encoded (without): repeated names
    become lists, as the photo input sends them."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in data:
            data[key] = [*data[key], value] if isinstance(data[key], list) else [data[key], value]
        else:
            data[key] = value
    return data


async def _photos_from(data: dict[str, Any]) -> tuple[list[photos.Photo], dict[str, str]]:
    """The uploaded photos, re-encoded off the event loop; or the error to show by the field."""
    files = data.get("photos")
    files = files if isinstance(files, list) else [files]
    uploads = [f for f in files if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return [], {}
    try:
        contents = [(f.filename, await f.read()) for f in uploads]
        return await anyio.to_thread.run_sync(photos.prepare_all, contents), {}
    except photos.PhotoError as exc:
        again = _("Please choose the photos again.")
        return [], {"photos": f"{exc.message} {again}"}


# The web form carries a random key of its own (a kiosk has its visit instead), so that the
# same form sent twice files once: a hidden field, not the session, as a citizen's phone gets
# no server-side session for merely opening the form.
FORM_KEY_FIELD = "idempotency_key"


def _new_form_key() -> str:
    return uuid.uuid4().hex


def _receipt_of_filing(request: Request, mode: str, code: str, secret: str) -> Redirect:
    """To the receipt; the secret waits there for this browser unless it holds it already (a
    form sent twice must not show a secret again that this browser has been shown)."""
    if secret and _pending_receipt(request, code) is None:
        _remember_receipt(request, code, secret)
    return see_other(f"/{'kiosk' if mode == 'kiosk' else 'suggest'}/receipt/{code}")


async def _submit(
    request: Request,
    data: dict[str, Any],
    mode: str,
    point: services.KioskPoint | None,
    visit: str = "",
) -> Template | Redirect:
    """Limits first, then the service; a refusal re-renders everything the citizen typed.
    A web form already filed answers with its receipt, before any limit: it files nothing."""
    values = _values(data)
    form_key = rules.parse_form_key(_one(data.get(FORM_KEY_FIELD))) if mode == "web" else None
    if form_key and (filed := await services.filed_with_form_key(form_key)):
        return _receipt_of_filing(request, mode, *filed)
    if mode == "web":
        values[FORM_KEY_FIELD] = form_key or _new_form_key()
    settings = request.app.state.settings
    store = limits.store_of(request)
    verdict = await limits.hit(
        store, limits.address_limit(settings), limits.client_address(request)
    )
    limited = "address" if not verdict.allowed else ""
    if verdict.allowed and point is not None:
        verdict = await limits.hit(store, limits.point_limit(settings), str(point.id))
        limited = "point" if not verdict.allowed else ""
    if limited:
        return await _form_page(
            request,
            mode,
            point,
            values,
            {},
            status_code=429,
            limited=limited,
            retry_after=verdict.retry_after,
        )
    if point is not None and point.region and not values.get("region"):
        # A kiosk stands in a community: that is the area the suggestion is most likely about,
        # and it lets that community's centre see it.
        values["region"] = str(point.region)
    channel = "direct_report_point" if mode == "kiosk" else "web"
    photo_files, photo_errors = await _photos_from(data)
    _cleaned, errors, receipt = await services.submit_suggestion(
        values,
        channel,
        point.id if point else None,
        photo_files=photo_files,
        extra_errors=photo_errors,
        form_key=form_key,
    )
    if receipt is None:
        return await _form_page(request, mode, point, values, errors, status_code=422)
    code, secret = receipt
    if visit:
        _visit_filed(request, visit, code)
    return _receipt_of_filing(request, mode, code, secret)


async def _receipt(request: Request, mode: str, name: str, reset: str = "") -> Template | Response:
    """The receipt page (``CODE``) or its thermal-printer PDF (``CODE.pdf``).

    The secret is shown once: the first view of the page reveals it; the PDF can be printed
    while the receipt is pending (a few minutes, this browser only).
    """
    printable = name.endswith(".pdf")
    code = rules.parse_tracking_code(name.removesuffix(".pdf"))
    if code is None:
        raise NotFoundException()
    entry = _pending_receipt(request, code)
    found = await services.track(code, entry["secret"]) if entry else None
    prefix = "/kiosk" if mode == "kiosk" else "/suggest"
    context = {
        "mode": mode,
        "kiosk": mode == "kiosk",
        "code": code,
        "found": found,
        "track_url": _track_url(request, code),
        "route_days": services.POLICY.route_days,
        "conclude_days": services.POLICY.conclude_days,
    }
    if printable:
        if found is None or entry is None:  # nothing is found without the entry
            raise NotFoundException()
        point = await _kiosk_point(request) if mode == "kiosk" else None
        pdf = await render_pdf_async(
            "suggestions/receipt_print.html",
            {**context, "secret": entry["secret"], "point": point},
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": f'inline; filename="receipt-{code}.pdf"',
            },
        )
    secret = None
    if found is not None and entry is not None and not entry["shown"]:
        secret = entry["secret"]
        _mark_shown(request, code)
    return Template(
        "suggestions/public/receipt.html",
        context={
            **context,
            "secret": secret,
            "qr": qr_svg_data_uri(context["track_url"]),
            "pdf_url": f"{prefix}/receipt/{code}.pdf",
            "reset_seconds": _reset_seconds(reset, RECEIPT_RESET_SECONDS),
        },
        headers=NO_STORE,
    )


# ---------------------------------------------------------------- kiosk


class KioskController(Controller):
    """A tablet at a direct-report point, bound to it by a device token in a cookie."""

    path = "/kiosk"
    include_in_schema = False

    @get("/bind/{token:str}", opt=PUBLIC)
    async def bind_page(self, request: Request, token: FromPath[str]) -> Template:
        """Opening the link only asks: a chat preview or a link checker fetching it must not
        spend it (the tablet would then be refused)."""
        point = await services.point_for_bind_token(token)
        if point is None:
            return _unbound(request, invalid_link=True)
        return Template(
            "suggestions/public/kiosk_bind.html",
            context={"point": point, "token": token},
            headers=NO_STORE,
        )

    @post("/bind/{token:str}", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def bind(self, request: Request, token: FromPath[str]) -> Template | Redirect:
        # The link is spent here: this tablet gets its own device token, a second use of the
        # link (another tablet) is refused.
        device_token = await services.exchange_bind_token(token)
        if device_token is None:
            return _unbound(request, invalid_link=True)
        # A kiosk carries nobody's session: a member of staff who opened the link here is
        # signed out, so the next citizen cannot walk into the staff pages.
        request.clear_session()
        response = Redirect("/kiosk", status_code=303, headers=NO_STORE)
        _set_kiosk_cookie(request, response, device_token)
        return response

    @get("/new", opt=PUBLIC)
    async def start_over(self, request: Request) -> Redirect:
        """Where the kiosk goes when it resets: no session, the default language, a blank form."""
        request.clear_session()
        response = Redirect("/kiosk", status_code=303, headers=NO_STORE)
        response.delete_cookie(LOCALE_COOKIE)
        return response

    @get("/", opt=PUBLIC)
    async def form(self, request: Request, reset: FromQuery[str] = "") -> Template:
        point = await _kiosk_point(request)
        if point is None:
            return _unbound(request)
        # A fresh form is a fresh citizen: nothing of the previous one stays in the session.
        if _session(request):
            request.clear_session()
        # The point's community is the likeliest area: shown chosen, the citizen may change it.
        values = {"region": str(point.region)} if point.region else {}
        _new_visit(request)
        page = await _form_page(request, "kiosk", point, values, {}, reset=reset)
        _set_kiosk_cookie(request, page, request.cookies[KIOSK_COOKIE])
        return page

    @post("/", opt=PUBLIC, request_max_body_size=MAX_FORM_BODY)
    async def submit(self, request: Request) -> Template | Redirect:
        point = await _kiosk_point(request)
        if point is None:
            return _unbound(request)
        data = await _form_data(request)
        visit = str(data.get(VISIT_FIELD) or "")
        replayed = _replayed_visit(request, visit)
        if replayed is not None:
            return replayed
        return await _submit(request, data, "kiosk", point, visit=visit)

    @get("/receipt/{name:str}", opt=PUBLIC)
    async def receipt(
        self, request: Request, name: FromPath[str], reset: FromQuery[str] = ""
    ) -> Template | Response:
        if await _kiosk_point(request) is None:
            return _unbound(request)
        return await _receipt(request, "kiosk", name, reset)


# ---------------------------------------------------------------- web form


class SuggestController(Controller):
    """The same form on the web, from the citizen's own phone or computer."""

    path = "/suggest"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def form(self, request: Request) -> Template | Redirect:
        if await _kiosk_point(request) is not None:
            # On a bound tablet the web form is the kiosk's: it clears itself and files for
            # the point.
            return Redirect("/kiosk", status_code=303, headers=NO_STORE)
        return await _form_page(request, "web", None, {FORM_KEY_FIELD: _new_form_key()}, {})

    @post("/", opt=PUBLIC, request_max_body_size=MAX_FORM_BODY)
    async def submit(self, request: Request) -> Template | Redirect:
        point = await _kiosk_point(request)
        mode = "kiosk" if point is not None else "web"
        return await _submit(request, await _form_data(request), mode, point)

    @get("/receipt/{name:str}", opt=PUBLIC)
    async def receipt(self, request: Request, name: FromPath[str]) -> Template | Response:
        if await _kiosk_point(request) is not None:
            return await _receipt(request, "kiosk", name)
        return await _receipt(request, "web", name)


# ---------------------------------------------------------------- tracking


def _track_page(
    request: Request,
    values: dict[str, str],
    *,
    found: services.TrackedSuggestion | None = None,
    errors: dict[str, str] | None = None,
    rated: dict | None = None,
    status_code: int = 200,
    limited: bool = False,
    retry_after: int = 0,
) -> Template:
    headers = dict(NO_STORE)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    context = {
        "values": values,
        "found": found,
        "errors": errors or {},
        "rated": rated,
        "limited": limited,
        "STATUS_LABELS": rules.STATUS_LABELS,
        "OUTCOME_LABELS": rules.OUTCOME_LABELS,
        "RATING_LABELS": rules.RATING_LABELS,
        "can_reopen": found is not None and found.times_reopened < rules.MAX_REOPENINGS,
        "kiosk": request.scope.get(KIOSK_SCOPE) is not None,
        "reset_seconds": _kiosk_reset_seconds(request),
    }
    if wants_fragment(request) and found is not None:
        # htmx 2 swaps only 2xx answers: the fragment carries any message itself.
        return Template(
            "suggestions/public/partials/_tracking.html", context=context, headers=headers
        )
    return Template(
        "suggestions/public/track.html", context=context, status_code=status_code, headers=headers
    )


def _too_many(request: Request, verdict: limits.Verdict) -> Response:
    response = error_page(request, 429)
    response.headers["Retry-After"] = str(verdict.retry_after)
    return response


async def _refused(request: Request, code: str, values: dict[str, Any]) -> Template:
    """A wrong code or secret (already counted): the same words whatever was wrong."""
    return _track_page(
        request,
        values,
        errors={"form": _("The code or the secret is not right.")},
        status_code=422,
    )


class TrackController(Controller):
    """Progress with the receipt code and secret; a wrong pair reveals nothing at all."""

    path = "/track"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def form(self, request: Request, code: FromQuery[str] = "") -> Template:
        await _kiosk_point(request)
        return _track_page(request, {"code": code.strip()[:32]})

    @post("/", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def lookup(self, request: Request, data: Annotated[dict[str, Any], Form]) -> Template:
        await _kiosk_point(request)
        values = {"code": _one(data.get("code")).strip()[:32]}
        secret = _one(data.get("secret")).strip()[:32]
        code = rules.parse_tracking_code(values["code"]) or ""
        verdict = await limits.guard_code_lookup(request, "track", code)
        if not verdict.allowed:
            return _track_page(
                request, values, status_code=429, limited=True, retry_after=verdict.retry_after
            )
        found = await services.track(values["code"], secret)
        if found is None:
            return await _refused(request, code, values)
        await limits.right_secret(request, "track", code)
        return _track_page(request, {**values, "secret": secret}, found=found)

    @post("/rate", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def rate(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Response:
        await _kiosk_point(request)
        values = {"code": _one(data.get("code")).strip()[:32]}
        secret = _one(data.get("secret")).strip()[:32]
        rating = _one(data.get("rating")).strip()[:32]
        code = rules.parse_tracking_code(values["code"]) or ""
        verdict = await limits.guard_code_lookup(request, "track", code)
        if not verdict.allowed:
            return _too_many(request, verdict)
        try:
            reopened = await services.rate(values["code"], secret, rating)
        except services.SuggestionError as exc:
            found = await services.track(values["code"], secret)
            if found is None:
                return await _refused(request, code, values)
            await limits.right_secret(request, "track", code)
            return _track_page(
                request,
                {**values, "secret": secret},
                found=found,
                errors={"rating": exc.message},
                status_code=422,
            )
        await limits.right_secret(request, "track", code)
        found = await services.track(values["code"], secret)
        return _track_page(
            request,
            {**values, "secret": secret},
            found=found,
            rated={"rating": rating, "reopened": reopened},
        )


# ---------------------------------------------------------------- public board


class BoardController(Controller):
    """Adopted suggestions whose proposers agreed: what was proposed and what came of it."""

    path = "/board"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def board(
        self,
        request: Request,
        category: FromQuery[str] = "",
        outcome: FromQuery[str] = "",
        department: FromQuery[str] = "",
    ) -> Template:
        from mediation.inputs import db_id

        kiosk = await _kiosk_point(request) is not None
        categories = category_choices()
        departments = await services.board_departments()
        args = {
            "category": category if category in dict(categories) else "",
            "outcome": outcome if outcome in services.BOARD_OUTCOMES else "",
            "department": department if db_id(department) in dict(departments) else "",
        }
        return Template(
            "suggestions/public/board.html",
            context={
                "kiosk": kiosk,
                "reset_seconds": _kiosk_reset_seconds(request),
                "rows": await services.public_board(
                    category=args["category"],
                    outcome=args["outcome"],
                    department=db_id(args["department"]),
                ),
                "points": await services.public_points(),
                "OUTCOME_LABELS": rules.OUTCOME_LABELS,
                "args": args,
                "category_choices": categories,
                "outcome_choices": [
                    (o, rules.OUTCOME_LABELS[rules.Outcome(o)]) for o in services.BOARD_OUTCOMES
                ],
                "department_choices": departments,
            },
        )
