"""Pages for consultation sessions and agreements on a case, the PDFs, and public verification."""

from __future__ import annotations

import time
from datetime import date
from html import escape
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from mediation import inputs
from mediation.accounts.guards import current_user, requires_role
from mediation.cases import agreements, materials, sessions
from mediation.cases.access import case_entitled
from mediation.cases.services import CaseError, case_for
from mediation.clock import county_zone, local_today
from mediation.documents.pdf import render_html, render_pdf_async
from mediation.grid.tables import Mediator
from mediation.i18n import gettext as _
from mediation.intake.validators import ValidationError
from mediation.web import is_htmx, public_url, see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
SESSION_ROLES = ("mediator", "volunteer", "grid_worker", "police", "centre_staff")


def _grouped(data: dict, prefix: str, fields: tuple[str, ...]) -> list[dict]:
    indexes = sorted(
        {
            int(k.split("-")[1])
            for k in data
            if k.startswith(prefix + "-") and k.split("-")[1].isdigit()
        }
    )
    return [
        {"index": i, **{f: str(data.get(f"{prefix}-{i}-{f}", "")) for f in fields}} for i in indexes
    ]


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
        return _pdf_response(pdf, f"session-record-{session_id}.pdf")


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


def _pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class AgreementController(Controller):
    path = "/cases/{case_id:int}/agreements"
    guards = [requires_role(*SESSION_ROLES)]
    include_in_schema = False

    @post("/new")
    async def create(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            agreement_id = await agreements.create_agreement(
                current_user(request),
                case_id,
                str(data.get("kind", "written")),
                int(data["supplements"]) if str(data.get("supplements", "")).isdigit() else None,
            )
        except CaseError as exc:
            if exc.field in ("permission", "supplements"):
                raise PermissionDeniedException(exc.message) from exc
            if exc.field != "status":
                raise NotFoundException() from exc
            from mediation.cases.controllers import render_detail

            return await render_detail(request, case_id, {"agreement": exc.message}, 422)
        return see_other(f"/cases/{case_id}/agreements/{agreement_id}")

    @get("/{agreement_id:int}/clause-row")
    async def clause_row(
        self, request: Request, case_id: FromPath[int], agreement_id: FromPath[int]
    ) -> Template:
        """One more empty clause for the draft form (htmx appends it)."""
        if not await case_entitled(current_user(request), case_id):
            raise NotFoundException()
        return Template(
            "cases/partials/_clause_row.html",
            context={
                "c": {
                    "index": time.time_ns() // 1_000_000 % 1_000_000_000,
                    **dict.fromkeys(agreements.CLAUSE_FIELDS, ""),
                },
                "number": None,
                "errors": {},
                "case_id": case_id,
                "a": {"id": agreement_id},
            },
        )

    @post("/{agreement_id:int}/clause-preview")
    async def clause_preview(
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Response:
        """The sentence one clause will print as, in the print language, while it is typed."""
        if not await case_entitled(current_user(request), case_id):
            raise NotFoundException()
        rows = _grouped(data, "clauses", agreements.CLAUSE_FIELDS)
        clauses, errors = agreements.parse_clauses(rows)
        if not rows or not clauses:
            return Response("", media_type="text/html")
        if errors:
            html = "".join(f'<span class="error">{escape(m)}</span>' for m in errors.values())
            return Response(html, media_type="text/html")
        html = await anyio.to_thread.run_sync(
            render_html,
            "documents/_clause_preview.html",
            {"c": agreements.print_clause(vars(clauses[0]))},
        )
        return Response(html, media_type="text/html")

    @get("/{agreement_id:int}")
    async def agreement_page(
        self, request: Request, case_id: FromPath[int], agreement_id: FromPath[int]
    ) -> Template:
        return await _agreement_page(request, case_id, agreement_id, {})

    @post("/{agreement_id:int}")
    async def save_draft(
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        user = current_user(request)
        rows = [
            r
            for r in _grouped(data, "clauses", (*agreements.CLAUSE_FIELDS, "remove"))
            if not r.get("remove")
        ]
        clauses, errors = agreements.parse_clauses(rows)
        try:
            copies = int(str(data.get("copies", "3")) or 3)
            if not 0 < copies < 100:
                raise ValueError
        except ValueError:
            copies, errors["copies"] = 0, _("Enter a whole number.")
        reached_on = None
        if str(data.get("reached_on", "")).strip():
            try:
                reached_on = date.fromisoformat(str(data.get("reached_on")).strip())
            except ValueError:
                errors["reached_on"] = _("Enter a date.")
        if not errors:
            try:
                await agreements.update_draft(
                    user,
                    agreement_id,
                    str(data.get("main_facts", "")),
                    str(data.get("issues", "")),
                    str(data.get("responsibilities", "")),
                    str(data.get("performance_method", "")),
                    str(data.get("oral_content", "")),
                    copies,
                    clauses,
                    amended_clauses=str(data.get("amended_clauses", "")),
                    reached_on=reached_on,
                )
            except CaseError as exc:
                errors[exc.field or "form"] = exc.message
        if errors:
            return await _agreement_page(request, case_id, agreement_id, errors, 422, data)
        target = f"/cases/{case_id}/agreements/{agreement_id}"
        if data.get("then") == "issue":
            try:
                await agreements.issue_agreement(user, agreement_id)
            except CaseError as exc:
                return await _agreement_page(
                    request, case_id, agreement_id, {exc.field or "form": exc.message}, 422
                )
        return see_other(target + "?saved=1")

    @post("/{agreement_id:int}/signatures")
    async def sign(
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        try:
            signed_on = date.fromisoformat(str(data.get("signed_on", "")))
        except ValueError:
            return await _agreement_page(
                request, case_id, agreement_id, {"signed_on": _("Enter a date.")}, 422
            )
        try:
            await agreements.record_signature(
                current_user(request),
                agreement_id,
                str(data.get("signatory", "")),
                str(data.get("role", "")),
                signed_on,
            )
        except CaseError as exc:
            return await _agreement_page(
                request, case_id, agreement_id, {exc.field or "form": exc.message}, 422
            )
        return see_other(f"/cases/{case_id}/agreements/{agreement_id}")

    @post("/{agreement_id:int}/clauses/{clause_id:int}/done")
    async def clause_done(
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        clause_id: FromPath[int],
    ) -> Template | Redirect:
        try:
            await agreements.mark_clause_done(
                current_user(request), agreement_id, clause_id, local_today()
            )
        except CaseError as exc:
            return await _agreement_page(request, case_id, agreement_id, {"form": exc.message}, 422)
        return see_other(f"/cases/{case_id}/agreements/{agreement_id}")

    @get("/{agreement_id:int}/agreement.pdf")
    async def pdf(
        self, request: Request, case_id: FromPath[int], agreement_id: FromPath[int]
    ) -> Response:
        user = current_user(request)
        try:
            context = await agreements.print_context(user, agreement_id, public_url(request, ""))
        except CaseError as exc:
            raise NotFoundException() from exc
        pdf = await render_pdf_async("documents/agreement.html", context)
        return _pdf_response(pdf, f"agreement-{agreement_id}.pdf")


_AGREEMENT_FIELDS = (
    "main_facts",
    "issues",
    "responsibilities",
    "performance_method",
    "oral_content",
    "copies",
    "amended_clauses",
    "reached_on",
)


async def _agreement_page(
    request: Request,
    case_id: int,
    agreement_id: int,
    errors: dict,
    status_code: int = 200,
    values: dict | None = None,
) -> Template:
    agreement = await agreements.agreement_for(current_user(request), agreement_id)
    if agreement is None or agreement["case"] != case_id:
        raise NotFoundException()
    if values:
        form = {k: str(values.get(k, "")) for k in _AGREEMENT_FIELDS}
        clauses = [
            r
            for r in _grouped(values, "clauses", (*agreements.CLAUSE_FIELDS, "remove"))
            if not r.get("remove")
        ]
    else:
        form = {k: ("" if agreement[k] is None else str(agreement[k])) for k in _AGREEMENT_FIELDS}
        if not form["copies"] or agreement["status"] == "draft" and not agreement["clauses"]:
            form["copies"] = str(max(agreement["copies"], len(agreement["parties"]) + 1))
        clauses = [
            {
                "index": i,
                **{k: ("" if c[k] is None else str(c[k])) for k in agreements.CLAUSE_FIELDS},
            }
            for i, c in enumerate(agreement["clauses"])
        ]
    # One empty clause to fill in; "Add a clause" appends more.
    next_index = max((int(c["index"]) for c in clauses), default=-1) + 1
    clauses.append({"index": next_index, **dict.fromkeys(agreements.CLAUSE_FIELDS, "")})
    return Template(
        "cases/agreement.html",
        context={
            "agreement": agreement,
            "case_id": case_id,
            "errors": errors,
            "form": form,
            "clauses": clauses,
            "KINDS": agreements.KINDS,
            "STATUSES": agreements.STATUSES,
            "SIGNATORY_ROLES": agreements.SIGNATORY_ROLES,
            "today": local_today(),
            "may_handle": await agreements.may_handle(
                current_user(request),
                {"id": agreement["case"], "region_path": agreement["case.region_path"]},
            ),
        },
        status_code=status_code,
    )


class VerifyController(Controller):
    """Public: anyone holding a printout checks it; no personal data is ever shown here."""

    path = "/verify"
    include_in_schema = False

    @get("/{code:str}", opt={"public": True})
    async def verify(self, code: FromPath[str]) -> Template:
        found = await agreements.public_verification(code)
        return Template(
            "cases/verify.html",
            context={"found": found, "code": code[:20], "STATUSES": agreements.STATUSES},
            status_code=200 if found else 404,
        )


class CaseDocumentController(Controller):
    """Follow-up visits and the case's printed documents: termination notice, case file."""

    path = "/cases/{case_id:int}"
    guards = [requires_role(*SESSION_ROLES)]
    include_in_schema = False

    @post("/follow-ups")
    async def follow_up(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        from mediation.cases.controllers import render_detail
        from mediation.cases.followups import record_follow_up

        values = {
            k: str(data.get(k, ""))
            for k in ("visited_on", "performance", "satisfaction", "method", "place")
        }
        values["note"] = str(data.get("note", ""))[:2000]
        try:
            visited_on = date.fromisoformat(values["visited_on"])
        except ValueError:
            error = {"fu-visited_on": _("Enter the date of the visit.")}
            return await render_detail(request, case_id, error, 422, {"follow_up": values})
        try:
            await record_follow_up(
                current_user(request),
                case_id,
                visited_on,
                values["performance"],
                values["satisfaction"],
                values["note"],
                values["method"],
                values["place"],
            )
        except CaseError as exc:
            if not exc.field:
                raise NotFoundException() from exc
            error = {f"fu-{exc.field}": exc.message}
            return await render_detail(request, case_id, error, 422, {"follow_up": values})
        return see_other(f"/cases/{case_id}#follow-ups")

    @get("/follow-ups/{follow_up_id:int}/record.pdf")
    async def follow_up_pdf(
        self, request: Request, case_id: FromPath[int], follow_up_id: FromPath[int]
    ) -> Response:
        from mediation.cases.followups import follow_up_context

        try:
            context = await follow_up_context(current_user(request), case_id, follow_up_id)
        except CaseError as exc:
            raise NotFoundException() from exc
        pdf = await render_pdf_async("documents/follow_up_record.html", context)
        return _pdf_response(pdf, f"follow-up-{case_id}-{follow_up_id}.pdf")

    @get("/termination.pdf")
    async def termination_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        from mediation.cases.followups import termination_context

        try:
            context = await termination_context(current_user(request), case_id)
        except CaseError as exc:
            raise NotFoundException() from exc
        pdf = await render_pdf_async("documents/termination_notice.html", context)
        return _pdf_response(pdf, f"termination-{case_id}.pdf")

    @get("/file.pdf")
    async def case_file_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        from mediation.cases.followups import case_file_context

        try:
            context = await case_file_context(
                current_user(request), case_id, public_url(request, "")
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        context.update(
            await materials.case_file_context(
                current_user(request), case_id, request.app.state.settings.data_dir
            )
        )
        pdf = await render_pdf_async("documents/case_file.html", context)
        pdf = await materials.append_pdf_appendices_async(pdf, context["materials"])
        return _pdf_response(pdf, f"case-file-{case_id}.pdf")
