"""Pages for a case's consultation sessions: schedule, participants, live minutes, close, record."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from mediation import inputs
from mediation.accounts.guards import current_user, requires_role
from mediation.cases import sessions
from mediation.cases.controller_support import SESSION_ROLES, Form, pdf_response
from mediation.cases.services import CaseError, case_for
from mediation.clock import county_zone
from mediation.documents.pdf import render_pdf_async
from mediation.grid.tables import Mediator
from mediation.i18n import gettext as _
from mediation.validators import ValidationError
from mediation.web import is_htmx, see_other


async def _mediator_choices() -> list[tuple[str, str]]:
    rows = await Mediator.select(Mediator.id, Mediator.staff.display_name).order_by(Mediator.id)
    return [(str(r["id"]), r["staff.display_name"]) for r in rows]


class SessionController(Controller):
    path = "/cases/{case_id:int}/sessions"
    guards = [requires_role(*SESSION_ROLES)]
    include_in_schema = False

    @get("/new")
    async def new_session(self, request: Request, case_id: FromPath[int]) -> Template:
        case = await case_for(current_user(request), case_id)
        if case is None:
            raise NotFoundException()
        values = {"mode": "in_person", "minutes": "60", "room": ""}
        return Template(
            "cases/session_new.html",
            context={
                "case": case,
                "values": values,
                "errors": {},
                "conflicts": [],
                "mediators": await _mediator_choices(),
                "modes": list(sessions.MODES.items()),
            },
        )

    @post("/new")
    async def create(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        case = await case_for(user, case_id)
        if case is None:
            raise NotFoundException()
        values = {
            k: str(data.get(k, "")) for k in ("starts_at", "minutes", "room", "mode", "mediator")
        }
        errors: dict[str, str] = {}
        try:
            starts_at = inputs.parse_local_datetime(values["starts_at"], county_zone())
        except ValidationError as exc:
            starts_at = None
            errors["starts_at"] = exc.message
        try:
            minutes = int(values["minutes"] or 60)
        except ValueError:
            minutes = 0
            errors["minutes"] = _("Enter a whole number.")
        if not errors:
            try:
                session_id, conflicts = await sessions.schedule_session(
                    user,
                    case_id,
                    starts_at,
                    minutes,
                    values["room"],
                    values["mode"],
                    inputs.db_id(values["mediator"]),
                )
            except CaseError as exc:
                errors[exc.field or "form"] = exc.message
            else:
                target = f"/cases/{case_id}/sessions/{session_id}"
                return see_other(target + ("?double_booked=1" if conflicts else ""))
        return Template(
            "cases/session_new.html",
            context={
                "case": case,
                "values": values,
                "errors": errors,
                "conflicts": [],
                "mediators": await _mediator_choices(),
                "modes": list(sessions.MODES.items()),
            },
            status_code=422,
        )

    @get("/{session_id:int}")
    async def session_page(
        self, request: Request, case_id: FromPath[int], session_id: FromPath[int]
    ) -> Template:
        return await _session_page(request, case_id, session_id, {})

    @post("/{session_id:int}/participants")
    async def add_participant(
        self,
        request: Request,
        case_id: FromPath[int],
        session_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        try:
            await sessions.add_participant(
                current_user(request),
                session_id,
                str(data.get("name", "")),
                str(data.get("role", "")),
                str(data.get("side", "")),
                bool(data.get("attended")),
            )
        except CaseError as exc:
            return await _session_page(
                request,
                case_id,
                session_id,
                {"participant-" + (exc.field or "form"): exc.message},
                422,
                data,
            )
        return see_other(f"/cases/{case_id}/sessions/{session_id}")

    @post("/{session_id:int}/minutes")
    async def add_minute(
        self,
        request: Request,
        case_id: FromPath[int],
        session_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        """htmx appends the new statement in place; without JavaScript the page reloads."""
        user = current_user(request)
        try:
            entry = await sessions.add_minute(
                user, session_id, str(data.get("speaker", "")), str(data.get("statement", ""))
            )
        except CaseError as exc:
            if is_htmx(request):
                return Template(
                    "cases/partials/_minute_form.html",
                    context={
                        "session": await sessions.session_for(user, session_id),
                        "case_id": case_id,
                        "errors": {exc.field or "form": exc.message},
                        "values": data,
                    },
                )
            return await _session_page(
                request, case_id, session_id, {exc.field or "form": exc.message}, 422, data
            )
        if is_htmx(request):
            return Template(
                "cases/partials/_minute_added.html",
                context={
                    "entry": entry,
                    "session": await sessions.session_for(user, session_id),
                    "case_id": case_id,
                    "errors": {},
                    "values": {"speaker": data.get("speaker", "")},
                },
            )
        return see_other(f"/cases/{case_id}/sessions/{session_id}#minutes")

    @post("/{session_id:int}/close")
    async def close(
        self,
        request: Request,
        case_id: FromPath[int],
        session_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        next_date = None
        if data.get("next_date"):
            try:
                next_date = date.fromisoformat(str(data["next_date"]))
            except ValueError:
                return await _session_page(
                    request, case_id, session_id, {"next_date": _("Enter a date.")}, 422, data
                )
        try:
            await sessions.close_session(
                current_user(request), session_id, str(data.get("outcome", "")), next_date
            )
        except CaseError as exc:
            return await _session_page(
                request, case_id, session_id, {exc.field or "form": exc.message}, 422, data
            )
        return see_other(f"/cases/{case_id}/sessions/{session_id}")

    @get("/{session_id:int}/record.pdf")
    async def record_pdf(
        self, request: Request, case_id: FromPath[int], session_id: FromPath[int]
    ) -> Response:
        session = await sessions.session_for(current_user(request), session_id)
        if session is None or session["case"] != case_id:
            raise NotFoundException()
        pdf = await render_pdf_async(
            "documents/session_record.html", await sessions.record_context(session)
        )
        return pdf_response(pdf, f"session-record-{session_id}.pdf")


async def _session_page(
    request: Request,
    case_id: int,
    session_id: int,
    errors: dict,
    status_code: int = 200,
    values: dict | None = None,
) -> Template:
    session = await sessions.session_for(current_user(request), session_id)
    if session is None or session["case"] != case_id:
        raise NotFoundException()
    return Template(
        "cases/session.html",
        context={
            "session": session,
            "case_id": case_id,
            "errors": errors,
            "values": values or {},
            "MODES": sessions.MODES,
            "PARTICIPANT_ROLES": sessions.PARTICIPANT_ROLES,
            "OUTCOMES": sessions.OUTCOMES,
            "SIDES": sessions.SIDES,
            **await _material_context(case_id),
        },
        status_code=status_code,
    )


async def _material_context(case_id: int) -> dict:
    """What the session page's "add a material" form needs (a receipt photographed mid-session)."""
    from mediation.cases.materials import KINDS
    from mediation.cases.tables import Party

    parties = await Party.select(Party.id, Party.name, Party.role).where(Party.case == case_id)
    return {"material_parties": parties, "MATERIAL_KINDS": KINDS}
