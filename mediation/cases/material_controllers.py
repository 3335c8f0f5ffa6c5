"""Pages for a case's evidence and materials: add from a camera or files, open, withdraw."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.cases import materials
from mediation.cases.controllers import CASE_ROLES, render_detail
from mediation.i18n import gettext as _
from mediation.web import see_other

Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _uploads(data: dict) -> list[UploadFile]:
    files = data.get("files")
    if files is None:
        return []
    if not isinstance(files, list):
        files = [files]
    return [f for f in files if isinstance(f, UploadFile) and f.filename]


class MaterialController(Controller):
    path = "/cases/{case_id:int}/materials"
    guards = [requires_role(*CASE_ROLES)]
    include_in_schema = False

    @post("/", request_max_body_size=64 * 1024 * 1024)
    async def add(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Multipart]
    ) -> Template | Redirect:
        user = current_user(request)
        values = {k: str(data.get(k, "")) for k in ("kind", "description", "party", "session")}
        session_id = _int(values["session"])
        uploads = _uploads(data)
        errors: dict[str, str] = {}
        prepared = []
        if not uploads:
            errors["material-files"] = _("Take a photo or choose a file.")
        elif len(uploads) > materials.MAX_FILES:
            errors["material-files"] = _("Attach at most %(n)s files.", n=materials.MAX_FILES)
        else:
            for upload in uploads:
                try:
                    prepared.append(materials.prepare_upload(upload.filename, await upload.read()))
                except materials.MaterialError as exc:
                    errors["material-files"] = exc.message
                    break
        if not errors:
            try:
                await materials.add_materials(
                    user,
                    case_id,
                    prepared,
                    request.app.state.settings.data_dir,
                    values["kind"],
                    values["description"],
                    _int(values["party"]) or None,
                    session_id,
                )
            except materials.MaterialError as exc:
                if not exc.field:
                    raise NotFoundException() from exc
                errors[f"material-{exc.field}"] = exc.message
        if errors:
            return await render_detail(request, case_id, errors, 422, {"material": values})
        if session_id:
            return see_other(f"/cases/{case_id}/sessions/{session_id}?material_added=1#materials")
        return see_other(f"/cases/{case_id}?material_added=1#materials")

    async def _send(self, request: Request, case_id: int, material_id: int, how: str) -> Response:
        try:
            content, content_type, filename = await materials.open_material(
                current_user(request),
                case_id,
                material_id,
                how,
                request.app.state.settings.data_dir,
            )
        except materials.MaterialError as exc:
            raise NotFoundException() from exc
        headers = {
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        if content_type != materials.PDF:
            # An image opened on its own can run nothing; PDFs need the browser's viewer.
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
        disposition = "attachment" if how == "download" else "inline"
        # As litestar's File names it: plain when ASCII, RFC 5987 otherwise.
        if filename.isascii() and '"' not in filename:
            headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
        else:
            headers["Content-Disposition"] = f"{disposition}; filename*=utf-8''{quote(filename)}"
        return Response(content, media_type=content_type, headers=headers)

    @get("/{material_id:int}")
    async def view(
        self, request: Request, case_id: FromPath[int], material_id: FromPath[int]
    ) -> Response:
        return await self._send(request, case_id, material_id, "view")

    @get("/{material_id:int}/download")
    async def download(
        self, request: Request, case_id: FromPath[int], material_id: FromPath[int]
    ) -> Response:
        return await self._send(request, case_id, material_id, "download")

    @get("/{material_id:int}/thumbnail")
    async def thumbnail(
        self, request: Request, case_id: FromPath[int], material_id: FromPath[int]
    ) -> Response:
        return await self._send(request, case_id, material_id, "thumbnail")

    @post("/{material_id:int}/withdraw")
    async def withdraw(
        self,
        request: Request,
        case_id: FromPath[int],
        material_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        reason = str(data.get("reason", ""))[:1000]
        try:
            await materials.withdraw_material(current_user(request), case_id, material_id, reason)
        except materials.MaterialError as exc:
            if not exc.field:
                raise NotFoundException() from exc
            errors = {f"withdraw-{material_id}": exc.message}
            values = {"withdraw": {"id": material_id, "reason": reason}}
            return await render_detail(request, case_id, errors, 422, values)
        return see_other(f"/cases/{case_id}#materials")
