"""Pages of 一案一码: the party's own page (/my-case) and the staff's page of a case's codes."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from mediation import i18n
from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.sessions import renew_session
from mediation.cases.labels import PARTY_ROLE_LABELS
from mediation.documents.pdf import PRINT_LOCALE, print_from_database, render_pdf_async
from mediation.i18n import gettext as _
from mediation.portal import services
from mediation.roles import STAFF_ROLES
from mediation.suggestions import limits
from mediation.web import public_url, see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
PUBLIC = {"public": True}
MAX_BODY = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _one(value: Any, limit: int = 2000) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "")[:limit]


def _int(value: Any) -> int | None:
    text = _one(value, 20).strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def my_case_url(request: Request, code: str) -> str:
    return public_url(request, "/my-case?" + urlencode({"code": code}))


# After an action the browser is sent to GET /my-case (Post/Redirect/Get), so that a Reload
# cannot send the request again. The party's code and secret cross the redirect in the
# server-side session, with what was done, and the page that follows takes them out again: the
# confirmation shows once, and nothing stays for the next person on the device.
ACTED = "my_case_acted"
ACTED_SECONDS = 60  # from the action to the page that follows it


def _remember_action(request: Request, code: str, secret: str, done: str) -> None:
    session = dict(request.session) if isinstance(request.session, dict) else {}
    session[ACTED] = {
        "code": code,
        "secret": secret,
        "done": done,
        "until": time.time() + ACTED_SECONDS,
    }
    request.set_session(session)
    # The secret is in the session now: a session id planted in the browser must not hold it.
    renew_session(request)


def _take_action(request: Request) -> dict[str, str] | None:
    """What the action just before this page did, with the party's proof; once."""
    session = dict(request.session) if isinstance(request.session, dict) else {}
    acted = session.pop(ACTED, None)
    if acted is None:
        return None
    if session:
        request.set_session(session)
    else:
        request.clear_session()
    return acted if acted["until"] > time.time() else None


# ---------------------------------------------------------------- the party's page


def _page(
    request: Request,
    values: dict,
    *,
    view: services.PartyView | None = None,
    errors: dict | None = None,
    done: str = "",
    limited: bool = False,
    status_code: int = 200,
    retry_after: int = 0,
) -> Template:
    headers = dict(NO_STORE)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return Template(
        "portal/my_case.html",
        context={
            "values": values,
            "view": view,
            "errors": errors or {},
            "done": done,
            "limited": limited,
            "RATING_LABELS": services.RATING_LABELS,
        },
        status_code=status_code,
        headers=headers,
    )


async def _authenticate(
    request: Request, data: dict[str, Any]
) -> tuple[services.Access, dict] | Template:
    """The party behind the posted code and secret (and the values to show again), or the page
    to answer with instead."""
    values = {"code": _one(data.get("code"), 32).strip()}
    secret = _one(data.get("secret"), 32).strip()
    code = services.parse_code(values["code"]) or ""
    verdict = await limits.guard_code_lookup(request, "my-case", code)
    if not verdict.allowed:
        page = _page(
            request, values, limited=True, status_code=429, retry_after=verdict.retry_after
        )
        return page
    who = await services.access(values["code"], secret)
    if who is None:  # already counted as a failure
        page = _page(
            request,
            values,
            errors={"form": _("The case code or the secret is not right.")},
            status_code=403,
        )
        return page
    await limits.right_secret(request, "my-case", code)
    return who, {**values, "secret": secret}


class MyCaseController(Controller):
    """A party follows their own dispute with the code and secret from their slip."""

    path = "/my-case"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def form(self, request: Request, code: FromQuery[str] = "") -> Template:
        acted = _take_action(request)
        who = await services.access(acted["code"], acted["secret"]) if acted else None
        if acted and who:
            values = {"code": acted["code"], "secret": acted["secret"]}
            view = await services.party_view(who)
            return _page(request, values, view=view, done=acted["done"])
        return _page(request, {"code": code.strip()[:32]})

    @post("/", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def lookup(self, request: Request, data: Annotated[dict[str, Any], Form]) -> Template:
        authenticated = await _authenticate(request, data)
        if isinstance(authenticated, Template):
            return authenticated
        who, values = authenticated
        return _page(request, values, view=await services.party_view(who))

    @post("/act", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def act(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        """One of the party's actions: done, the page is fetched again and confirms it; refused,
        the page comes back with the message beside the field and what was typed."""
        authenticated = await _authenticate(request, data)
        if isinstance(authenticated, Template):
            return authenticated
        who, values = authenticated
        action = _one(data.get("action"), 32)
        reason = _one(data.get("reason"))
        done = action
        try:
            if action == "reschedule":
                to_mediator = await services.request_reschedule(
                    who, _int(data.get("session")) or 0, reason
                )
                done = "reschedule" if to_mediator else "reschedule_centre"
            elif action == "object":
                await services.object_to_mediator(who, _int(data.get("mediator")) or 0, reason)
            elif action == "confirm":
                await services.confirm_clause(who, _int(data.get("clause")) or 0)
            elif action == "rate":
                await services.rate_mediation(
                    who, _one(data.get("rating"), 32), _one(data.get("comment"), 2000)
                )
            else:
                raise services.PortalError(_("Choose what you want to do."), "action")
        except services.PortalError as exc:
            view = await services.party_view(who)
            errors = {f"{action}-{exc.field or 'form'}": exc.message}
            form = {"action": action, "reason": reason, "comment": _one(data.get("comment"))}
            return _page(request, {**values, **form}, view=view, errors=errors, status_code=422)
        _remember_action(request, values["code"], values["secret"], done)
        return Redirect("/my-case", status_code=303, headers=NO_STORE)

    @post("/agreement", opt=PUBLIC, request_max_body_size=MAX_BODY)
    async def agreement(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Response:
        """The party's copy of an issued agreement, as PDF (no ID numbers or phones)."""
        authenticated = await _authenticate(request, data)
        if isinstance(authenticated, Template):
            return authenticated
        who = authenticated[0]
        try:
            pdf = await print_from_database(
                "documents/agreement.html",
                services.party_agreement_print,
                who,
                _int(data.get("agreement")) or 0,
                public_url(request, ""),
            )
        except services.PortalError as exc:
            raise NotFoundException() from exc
        return Response(
            pdf,
            status_code=200,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="agreement-{who.code}.pdf"',
                **NO_STORE,
            },
        )


# ---------------------------------------------------------------- staff: codes of a case


class PartyCodeController(Controller):
    """Staff print a party's slip or notice, reissue a code, and read the texts sent."""

    path = "/cases/{case_id:int}/parties"
    guards = [requires_role(*STAFF_ROLES)]
    include_in_schema = False

    @get("/")
    async def codes(self, request: Request, case_id: FromPath[int]) -> Template:
        user = current_user(request)
        try:
            parties = await services.codes_of_case(user, case_id)
            messages = await services.messages_of_case(user, case_id)
        except services.PortalError as exc:
            raise NotFoundException() from exc
        from mediation.cases.services import case_for

        case = await case_for(user, case_id)
        return Template(
            "portal/codes.html",
            context={
                "case": case,
                "parties": parties,
                "messages": messages,
                "ROLE_LABELS": PARTY_ROLE_LABELS,
                "reissued": request.query_params.get("reissued", ""),
                "my_case_url": public_url(request, "/my-case"),
            },
            headers=NO_STORE,
        )

    @post("/{party_id:int}/reissue")
    async def reissue(
        self, request: Request, case_id: FromPath[int], party_id: FromPath[int]
    ) -> Redirect:
        try:
            await services.reissue_code(current_user(request), case_id, party_id)
        except services.PortalError as exc:
            raise NotFoundException() from exc
        return see_other(f"/cases/{case_id}/parties?reissued={party_id}")

    @get("/{party_id:int}/slip.pdf")
    async def slip(
        self,
        request: Request,
        case_id: FromPath[int],
        party_id: FromPath[int],
        paper: FromQuery[str] = "slip",
    ) -> Response:
        """The 80-mm slip, or with ?paper=a4 the acceptance notice (受理告知书)."""
        token = i18n.set_locale(PRINT_LOCALE)  # a party's document, whatever the UI language
        try:
            slip = await services.slip_for(current_user(request), case_id, party_id)
        except services.PortalError as exc:
            raise NotFoundException() from exc
        finally:
            i18n.reset_locale(token)
        url = my_case_url(request, slip.code)
        context = {"slip": slip, "url": url, "ROLE_LABELS": PARTY_ROLE_LABELS}
        template = "portal/notice_print.html" if paper == "a4" else "portal/slip_print.html"
        pdf = await render_pdf_async(template, context)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="party-{party_id}-{paper}.pdf"',
                **NO_STORE,
            },
        )
