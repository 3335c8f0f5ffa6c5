"""Sign in, sign out and the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from mediation import i18n
from mediation.accounts import services
from mediation.accounts.sessions import SESSION_LEFT, new_session, renew_session, touch
from mediation.web import LOCALE_COOKIE, safe_next, see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
ONE_YEAR = 365 * 24 * 3600


def _with_locale_cookie(response: Redirect, locale: str, request: Request) -> Redirect:
    settings = request.app.state.settings
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


class AccountController(Controller):
    include_in_schema = False

    @get("/login", opt={"public": True})
    async def login_page(self, request: Request, next: FromQuery[str] = "") -> Template:
        return Template(
            "accounts/login.html", context={"form": {}, "errors": {}, "next": safe_next(next)}
        )

    @post("/login", opt={"public": True})
    async def login(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        form = {"username": str(data.get("username", "")).strip()}
        password = str(data.get("password", ""))
        next_url = safe_next(str(data.get("next", "")))
        errors: dict[str, str] = {}
        if not form["username"]:
            errors["username"] = i18n.gettext("Enter your user name.")
        if not password:
            errors["password"] = i18n.gettext("Enter your password.")
        user = None
        if not errors:
            try:
                user = await services.authenticate(form["username"], password)
            except services.AccountDisabled:
                errors["form"] = i18n.gettext(
                    "This account is disabled. Ask the administrator to enable it again."
                )
            else:
                if user is None:
                    errors["form"] = i18n.gettext("The user name or password is not correct.")
        if user is None:
            return Template(
                "accounts/login.html",
                context={"form": form, "errors": errors, "next": next_url},
                status_code=422,
            )
        # A fresh session with a new id on sign-in: nothing of the old one is carried over, and
        # an id planted in the browser beforehand never becomes a signed-in session.
        request.clear_session()
        renew_session(request)
        request.set_session(new_session(user.id, user.session_stamp))
        response = see_other(next_url)
        if user.locale:
            _with_locale_cookie(response, user.locale, request)
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        renew_session(request)
        return see_other("/login")

    @post("/session/ping", status_code=200)
    async def ping(self, request: Request) -> Response:
        """ "Stay signed in": the idle time starts again; answers the seconds now left."""
        session = dict(request.session)
        touch(session)
        request.set_session(session)
        settings = request.app.state.settings
        left = min(
            settings.session_idle, session["since"] + settings.session_max_age - session["seen"]
        )
        request.scope[SESSION_LEFT] = left  # type: ignore[literal-required]  # our key in the scope
        return Response({"left": left}, headers={"Cache-Control": "no-store"})

    @post("/locale", opt={"public": True})
    async def switch_locale(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Redirect:
        locale = i18n.normalize_locale(str(data.get("locale", ""))) or i18n.DEFAULT_LOCALE
        user = request.scope.get("user")
        if user is None and request.session.get("staff_id"):
            user = await services.load_user(request.session["staff_id"])
        if user is not None:
            await services.set_preferred_locale(user.id, locale)
        return _with_locale_cookie(see_other(safe_next(str(data.get("next", "")))), locale, request)
