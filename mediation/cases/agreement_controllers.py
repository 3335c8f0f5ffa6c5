"""Pages for a case's mediation agreements (draft, issue, sign, print) and public verification."""

from __future__ import annotations

import time
from datetime import date
from html import escape
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.services import CurrentUser
from mediation.cases import agreements, workflow
from mediation.cases.access import case_entitled
from mediation.cases.controller_support import SESSION_ROLES, Form, grouped, pdf_response
from mediation.cases.services import CaseError
from mediation.cases.tables import Agreement
from mediation.clock import local_today
from mediation.documents.pdf import print_from_database, render_html
from mediation.i18n import gettext as _
from mediation.web import public_url, see_other


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
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        index: FromQuery[str] = "",
    ) -> Template:
        """One more empty clause for the draft form (htmx appends it). A local draft asks for
        its rows again with their own ``index``, so that its field names match."""
        if not await case_entitled(current_user(request), case_id):
            raise NotFoundException()
        row = int(index) if index.isdigit() and len(index) <= 9 else None
        if row is None:
            row = time.time_ns() // 1_000_000 % 1_000_000_000
        return Template(
            "cases/partials/_clause_row.html",
            context={
                "c": {
                    "index": row,
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
        """The sentence one clause will print as, in the print language, while it is typed.
        The request carries the whole draft form (htmx sends the enclosing form's fields):
        ``preview_clause`` names the clause (its index) whose sentence is wanted."""
        if not await case_entitled(current_user(request), case_id):
            raise NotFoundException()
        rows = grouped(data, "clauses", agreements.CLAUSE_FIELDS)
        wanted = str(data.get("preview_clause", "")).strip()
        if wanted:
            rows = [r for r in rows if str(r["index"]) == wanted]
        elif len(rows) > 1:  # which one is meant cannot be told: no preview rather than a wrong one
            rows = []
        clauses, errors = agreements.parse_clauses(rows)
        if not rows or not clauses:
            return Response("", media_type="text/html")
        if errors:
            html = "".join(f'<span class="error">{escape(m)}</span>' for m in errors.values())
            return Response(html, media_type="text/html")
        html = await anyio.to_thread.run_sync(
            render_html,
            "documents/_clause_preview.html",
            {"c": agreements.print_clause(clauses[0])},
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
            for r in grouped(data, "clauses", (*agreements.CLAUSE_FIELDS, "remove"))
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
            pdf = await print_from_database(
                "documents/agreement.html",
                agreement_of_case,
                user,
                case_id,
                agreement_id,
                public_url(request, ""),
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        return pdf_response(pdf, f"agreement-{agreement_id}.pdf")

    @post("/{agreement_id:int}/preview.pdf", status_code=200)
    async def preview(
        self,
        request: Request,
        case_id: FromPath[int],
        agreement_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Response:
        """The draft as it is on screen, unsaved: the draft form posts its current values here
        (into a new tab). Clauses with an error are left out; nothing is stored."""
        user = current_user(request)
        rows = [
            r
            for r in grouped(data, "clauses", (*agreements.CLAUSE_FIELDS, "remove"))
            if not r.get("remove")
        ]
        clauses, _errors = agreements.parse_clauses(rows)
        unsaved: dict[str, Any] = {
            name: str(data.get(name, ""))
            for name in (
                "main_facts",
                "issues",
                "responsibilities",
                "performance_method",
                "oral_content",
                "amended_clauses",
            )
            if name in data
        }
        unsaved["clauses"] = clauses
        try:
            copies = int(str(data.get("copies", "")))
            if 0 < copies < 100:
                unsaved["copies"] = copies
        except ValueError:
            pass
        try:
            unsaved["reached_on"] = date.fromisoformat(str(data.get("reached_on", "")).strip())
        except ValueError:
            pass
        try:
            pdf = await print_from_database(
                "documents/agreement.html",
                agreement_of_case,
                user,
                case_id,
                agreement_id,
                public_url(request, ""),
                unsaved,
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        return pdf_response(pdf, f"agreement-{agreement_id}-preview.pdf")


async def agreement_of_case(
    user: CurrentUser,
    case_id: int,
    agreement_id: int,
    base_url: str,
    unsaved: dict | None = None,
) -> agreements.AgreementPrint:
    """The agreement's print context, if it is an agreement of the case the address names."""
    row = await Agreement.select(Agreement.case).where(Agreement.id == agreement_id).first()
    if row is None or row["case"] != case_id:
        raise CaseError(_("This agreement does not exist."))
    return await agreements.print_context(user, agreement_id, base_url, unsaved=unsaved)


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
    if agreement is None or agreement.case != case_id:
        raise NotFoundException()
    if values:
        form = {k: str(values.get(k, "")) for k in _AGREEMENT_FIELDS}
        clauses = [
            r
            for r in grouped(values, "clauses", (*agreements.CLAUSE_FIELDS, "remove"))
            if not r.get("remove")
        ]
    else:
        stored = {k: getattr(agreement, k) for k in _AGREEMENT_FIELDS}
        form = {k: "" if v is None else str(v) for k, v in stored.items()}
        if not form["copies"] or agreement.status == "draft" and not agreement.clauses:
            form["copies"] = str(max(agreement.copies, len(agreement.parties) + 1))
        clauses = [
            {
                "index": i,
                **{
                    k: "" if getattr(c, k) is None else str(getattr(c, k))
                    for k in agreements.CLAUSE_FIELDS
                },
            }
            for i, c in enumerate(agreement.clauses)
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
            "drafting_refused": workflow.agreement_refused(agreement.case_status),
            "may_handle": await agreements.may_handle(
                current_user(request), agreement.case, agreement.case_region_path
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
