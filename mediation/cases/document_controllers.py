"""Follow-up visits and a case's printed documents: follow-up record, termination notice, file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.services import CurrentUser
from mediation.cases import materials
from mediation.cases.controller_support import SESSION_ROLES, Form, pdf_response
from mediation.cases.services import CaseError
from mediation.documents.pdf import print_from_database
from mediation.i18n import gettext as _
from mediation.web import public_url, see_other

if TYPE_CHECKING:
    from mediation.cases.followups import CaseFilePrint


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
            pdf = await print_from_database(
                "documents/follow_up_record.html",
                follow_up_context,
                current_user(request),
                case_id,
                follow_up_id,
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        return pdf_response(pdf, f"follow-up-{case_id}-{follow_up_id}.pdf")

    @get("/termination.pdf")
    async def termination_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        from mediation.cases.followups import termination_context

        try:
            pdf = await print_from_database(
                "documents/termination_notice.html",
                termination_context,
                current_user(request),
                case_id,
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        return pdf_response(pdf, f"termination-{case_id}.pdf")

    @get("/file.pdf")
    async def case_file_pdf(self, request: Request, case_id: FromPath[int]) -> Response:
        try:
            pdf = await print_from_database(
                "documents/case_file.html",
                case_file_print_context,
                current_user(request),
                case_id,
                public_url(request, ""),
                request.app.state.settings.data_dir,
                after=case_file_appendices,
            )
        except CaseError as exc:
            raise NotFoundException() from exc
        return pdf_response(pdf, f"case-file-{case_id}.pdf")


async def case_file_print_context(
    user: CurrentUser, case_id: int, base_url: str, data_dir: Path
) -> CaseFilePrint:
    """The case file (卷宗): its documents part, then its materials part (printing the
    materials is an access to them, recorded as such)."""
    from mediation.cases.followups import case_file_context

    context = await case_file_context(user, case_id, base_url)
    filed = await materials.case_file_context(user, case_id, data_dir)
    return replace(context, materials=filed)


def case_file_appendices(pdf: bytes, context: CaseFilePrint) -> bytes:
    """The case file with its PDF materials drawn in as appendices."""
    pairs: list[tuple[int, bytes | Path]] = [
        (m.id, m.appendix_pdf) for m in context.materials if m.appendix_pdf
    ]
    return materials.append_pdf_appendices(pdf, pairs) if pairs else pdf
