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
from mediation.cases.services import CaseError, CaseRecord, case_for, mediators_taken_off
from mediation.clock import county_zone, to_local, utc_now
from mediation.documents.pdf import print_from_database
from mediation.grid.tables import Mediator
from mediation.i18n import gettext as _
from mediation.validators import ValidationError
from mediation.web import see_other, wants_fragment


async def _mediator_choices() -> list[tuple[str, str]]:
    rows = await Mediator.select(Mediator.id, Mediator.staff.display_name).order_by(Mediator.id)
    return [(str(r["id"]), r["staff.display_name"]) for r in rows]


def many(data: dict[str, Any], key: str) -> list[str]:
    """A form field that may repeat (ticked boxes): always a list of strings."""
    value = data.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


async def _new_session_page(
    case: CaseRecord, values: dict, errors: dict, conflicts: list, status_code: int
) -> Template:
    assigned = await sessions.assigned_mediators(case.id)
    return Template(
        "cases/session_new.html",
        context={
            "case": case,
            "values": values,
            "errors": errors,
            "conflicts": conflicts,
            "mediators": await _mediator_choices(),
            "assigned": assigned,
            "attending_choices": [(str(m.id), m.name) for m in assigned],
            "modes": list(sessions.MODES.items()),
        },
        status_code=status_code,
    )


class SessionController(Controller):
    path = "/cases/{case_id:int}/sessions"
    guards = [requires_role(*SESSION_ROLES)]
    include_in_schema = False

    @get("/new")
    async def new_session(self, request: Request, case_id: FromPath[int]) -> Template:
        user = current_user(request)
        case = await case_for(user, case_id)
        if case is None:
            raise NotFoundException()
        assigned = await sessions.assigned_mediators(case_id)
        # The case's own mediators come ticked, the one signed in (if assigned) chairs.
        chair = next((m for m in assigned if m.staff == user.id), assigned[0] if assigned else None)
        values = {
            "mode": "in_person",
            "minutes": "60",
            "room": "",
            "mediator": str(chair.id) if chair else "",
            "attending": [str(m.id) for m in assigned],
        }
        return await _new_session_page(case, values, {}, [], 200)

    @post("/new")
    async def create(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        case = await case_for(user, case_id)
        if case is None:
            raise NotFoundException()
        values: dict[str, Any] = {
            k: str(data.get(k, "")) for k in ("starts_at", "minutes", "room", "mode", "mediator")
        }
        values["attending"] = many(data, "attending")
        confirmed = bool(data.get("double_booking_confirmed"))
        errors: dict[str, str] = {}
        conflicts: list[sessions.Booking] = []
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
        if not errors and starts_at is not None:
            try:
                session_id, conflicts = await sessions.schedule_session(
                    user,
                    case_id,
                    starts_at,
                    minutes,
                    values["room"],
                    values["mode"],
                    inputs.db_id(values["mediator"]),
                    refuse_double_booking=not confirmed,
                    attending_mediators=[
                        i for i in map(inputs.db_id, values["attending"]) if i is not None
                    ],
                )
            except sessions.DoubleBooking as exc:
                conflicts = exc.conflicts
            except CaseError as exc:
                errors[exc.field or "form"] = exc.message
            else:
                target = f"/cases/{case_id}/sessions/{session_id}"
                return see_other(target + ("?double_booked=1" if conflicts else ""))
        return await _new_session_page(case, values, errors, conflicts, 422)

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
        user = current_user(request)
        ticks = many(data, "present")
        try:
            if ticks:
                await sessions.add_attendance(user, session_id, ticks)
            # Anyone else is typed by name; with ticks the name may stay empty.
            if str(data.get("name", "")).strip() or not ticks:
                await sessions.add_participant(
                    user,
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
            if wants_fragment(request):
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
        if wants_fragment(request):
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
        errors: dict[str, str] = {}
        if data.get("next_date"):
            try:
                next_date = date.fromisoformat(str(data["next_date"]))
            except ValueError:
                errors["next_date"] = _("Enter a date.")
        started_at = None
        if str(data.get("started_at", "")).strip():
            try:
                started_at = inputs.parse_local_datetime(str(data["started_at"]), county_zone())
            except ValidationError as exc:
                errors["started_at"] = exc.message
        if not errors:
            try:
                await sessions.close_session(
                    current_user(request),
                    session_id,
                    str(data.get("outcome", "")),
                    next_date,
                    started_at,
                )
            except CaseError as exc:
                errors[exc.field or "form"] = exc.message
        if errors:
            return await _session_page(request, case_id, session_id, errors, 422, data)
        return see_other(f"/cases/{case_id}/sessions/{session_id}")

    @post("/{session_id:int}/cancel")
    async def cancel(
        self,
        request: Request,
        case_id: FromPath[int],
        session_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        reason = str(data.get("cancel_reason", ""))
        try:
            await sessions.cancel_session(current_user(request), session_id, reason)
        except CaseError as exc:
            field = "cancel_reason" if exc.field == "reason" else "form"
            return await _session_page(
                request, case_id, session_id, {field: exc.message}, 422, data
            )
        return see_other(f"/cases/{case_id}/sessions/{session_id}")

    @post("/{session_id:int}/reschedule")
    async def reschedule(
        self,
        request: Request,
        case_id: FromPath[int],
        session_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        """Like a new session, a double booking needs an explicit "schedule anyway"."""
        try:
            starts_at = inputs.parse_local_datetime(
                str(data.get("new_starts_at", "")), county_zone()
            )
        except ValidationError as exc:
            return await _session_page(
                request, case_id, session_id, {"new_starts_at": exc.message}, 422, data
            )
        try:
            new_id, conflicts = await sessions.reschedule_session(
                current_user(request),
                session_id,
                starts_at,
                str(data.get("new_room", "")),
                str(data.get("reschedule_reason", "")),
                refuse_double_booking=not data.get("double_booking_confirmed"),
            )
        except sessions.DoubleBooking as exc:
            return await _session_page(
                request, case_id, session_id, {}, 422, data, conflicts=exc.conflicts
            )
        except CaseError as exc:
            field = {"reason": "reschedule_reason", "room": "new_room"}.get(exc.field, "form")
            return await _session_page(
                request, case_id, session_id, {field: exc.message}, 422, data
            )
        target = f"/cases/{case_id}/sessions/{new_id}"
        return see_other(target + ("?double_booked=1" if conflicts else ""))

    @get("/{session_id:int}/record.pdf")
    async def record_pdf(
        self, request: Request, case_id: FromPath[int], session_id: FromPath[int]
    ) -> Response:
        session = await sessions.session_for(current_user(request), session_id)
        if session is None or session.case != case_id:
            raise NotFoundException()
        if session.status in sessions.NOT_HELD_STATUSES:
            raise NotFoundException(_("This session did not take place: it has no record."))
        pdf = await print_from_database(
            "documents/session_record.html", sessions.record_context, session
        )
        return pdf_response(pdf, f"session-record-{session_id}.pdf")


async def _session_page(
    request: Request,
    case_id: int,
    session_id: int,
    errors: dict,
    status_code: int = 200,
    values: dict | None = None,
    conflicts: list | None = None,
) -> Template:
    session = await sessions.session_for(current_user(request), session_id)
    if session is None or session.case != case_id:
        raise NotFoundException()
    from mediation.cases.labels import PARTY_ROLE_LABELS
    from mediation.cases.tables import Party

    case_parties = await Party.select(
        Party.id, Party.name, Party.role, Party.agent_name, Party.agent_relation
    ).where(Party.case == case_id)
    present = {p.name for p in session.participants}
    # Attendance is ticked from the case's parties and their authorised agents.
    attendance_choices = []
    for p in case_parties:
        if p["name"] not in present:
            label = PARTY_ROLE_LABELS.get(p["role"], p["role"])
            attendance_choices.append(
                (f"party-{p['id']}", _("%(role)s: %(name)s", role=label, name=p["name"]))
            )
        if p["agent_name"] and p["agent_name"] not in present:
            whose = _("Authorised agent of %(party)s", party=p["name"])
            attendance_choices.append(
                (f"agent-{p['id']}", _("%(role)s: %(name)s", role=whose, name=p["agent_name"]))
            )
    # The end form's 实际开始时间: the scheduled start, unless that is still to come (parties
    # who came early): then it is left for the mediator to fill in.
    starts_later = session.starts_at > utc_now()
    return Template(
        "cases/session.html",
        context={
            "session": session,
            "starts_later": starts_later,
            "scheduled_start": ""
            if starts_later
            else f"{to_local(session.starts_at):%Y-%m-%dT%H:%M}",
            "case_id": case_id,
            "errors": errors,
            "values": values or {},
            "MODES": sessions.MODES,
            "PARTICIPANT_ROLES": sessions.PARTICIPANT_ROLES,
            "OUTCOMES": sessions.OUTCOMES,
            "SIDES": await sessions.sides_of_case(case_id),
            "role_labels": await sessions.role_labels(session),
            "STATUS_LABELS": sessions.STATUS_LABELS,
            "PARTY_ROLE_LABELS": PARTY_ROLE_LABELS,
            "attendance_choices": attendance_choices,
            "conflicts": conflicts or [],
            "ticked": many(values or {}, "present"),
            "presiding_off_case": session.mediator in await mediators_taken_off(case_id),
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
