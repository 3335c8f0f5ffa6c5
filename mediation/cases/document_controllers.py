"""Follow-up visits and a case's printed documents: follow-up record, termination notice, file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import materials
from mediation.cases.controller_support import SESSION_ROLES, Form, pdf_response
from mediation.cases.services import CaseError
from mediation.documents.pdf import render_pdf_async
from mediation.i18n import gettext as _
from mediation.web import public_url, see_other


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
        return pdf_response(pdf, f"follow-up-{case_id}-{follow_up_id}.pdf")

    @get("/termination.pdf")
    async def termination_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        from mediation.cases.followups import termination_context

        try:
            context = await termination_context(current_user(request), case_id)
        except CaseError as exc:
            raise NotFoundException() from exc
        pdf = await render_pdf_async("documents/termination_notice.html", context)
        return pdf_response(pdf, f"termination-{case_id}.pdf")

    @get("/file.pdf")
    async def case_file_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        from mediation.cases.followups import case_file_context

        try:
            context = await case_file_context(
                current_user(request), case_id, public_url(request, "")
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        filed = await materials.case_file_context(
            current_user(request), case_id, request.app.state.settings.data_dir
        )
        pdf = await render_pdf_async("documents/case_file.html", replace(context, materials=filed))
        pdf = await materials.append_pdf_appendices_async(pdf, filed)
        return pdf_response(pdf, f"case-file-{case_id}.pdf")
