"""The dispute intake form: tablet first, nothing typed is lost, one case per submission."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from mediation import uploads
from mediation.accounts.guards import current_user, requires_role
from mediation.cases import categories, materials, services
from mediation.grid.services import grids_for
from mediation.i18n import gettext as _
from mediation.intake.forms import blank_party, parse_intake
from mediation.roles import INTAKE_ROLES
from mediation.validators import ValidationError, validate_id_number, validate_phone
from mediation.web import see_other

Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


async def _form_context(request: Request, values: dict, errors: dict) -> dict:
    user = current_user(request)
    grids = await grids_for(user)
    if not values.get("grid"):
        mine = next((g for g in grids if g.mine), grids[0] if grids else None)
        values["grid"] = str(mine.id) if mine else ""
    return {
        "values": values,
        "errors": errors,
        "grid_choices": [(str(g.id), g.name) for g in grids],
        "category_choices": categories.current().intake_choices(),
        "duplicates": [],
    }


def _uploads(data: dict) -> list[UploadFile]:
    files = data.get("attachments")
    if files is None:
        return []
    if not isinstance(files, list):
        files = [files]
    return [f for f in files if isinstance(f, UploadFile) and f.filename]


class IntakeController(Controller):
    path = "/cases/new"
    guards = [requires_role(*INTAKE_ROLES)]
    include_in_schema = False

    @get("/")
    async def new_case(self, request: Request) -> Template:
        values = {
            "idempotency_key": uuid.uuid4().hex,
            "colour": "green",
            "source": "door_knocking",
            "parties_consent": "yes",
            "parties": [blank_party(0, "applicant"), blank_party(1, "respondent")],
        }
        return Template("intake/new.html", context=await _form_context(request, values, {}))

    @post("/", request_max_body_size=64 * 1024 * 1024)
    async def submit(
        self, request: Request, data: Annotated[dict[str, Any], Multipart]
    ) -> Template | Redirect:
        user = current_user(request)
        values, case_input, errors = parse_intake(data)
        checked = []
        for upload in _uploads(data)[: uploads.MAX_FILES + 1]:
            try:
                checked.append(materials.prepare_upload(upload.filename, await upload.read()))
            except materials.MaterialError as exc:
                errors["attachments"] = exc.message
        if len(checked) > uploads.MAX_FILES:
            errors["attachments"] = _("Attach at most %(n)s files.", n=uploads.MAX_FILES)
        if case_input is not None and not errors:
            try:
                case_id = await services.register_case(
                    case_input, user, values.get("idempotency_key", "")
                )
            except services.CaseError as exc:
                errors[exc.field or "form"] = exc.message
            else:
                settings = request.app.state.settings
                for item in checked:
                    # A retried submission carries the same files: they are kept once.
                    await materials.save_material(user, case_id, item, settings.data_dir)
                return see_other(f"/cases/{case_id}?registered=1")
        context = await _form_context(request, values, errors)
        if errors.get("attachments"):
            context["errors"]["form"] = _(
                "Please choose the files again: for safety, a browser "
                "does not keep chosen files when a form comes back."
            )
        return Template("intake/new.html", context=context, status_code=422)

    @get("/party-row")
    async def party_row(self, index: FromQuery[int] = 2) -> Template:
        return Template(
            "intake/partials/_party.html",
            context={"party": blank_party(max(0, min(index, 999_999))), "errors": {}},
        )

    @post("/duplicates")
    async def duplicates(
        self, request: Request, data: Annotated[dict[str, Any], Multipart]
    ) -> Template:
        """Possible duplicates while the worker types: same person or same place and kind."""
        user = current_user(request)
        values, _input, _errors = parse_intake(data)
        ids, phones = [], []
        for row in values["parties"]:
            try:
                if row["id_number"] and row["kind"] == "person":
                    ids.append(validate_id_number(row["id_number"]))
            except ValidationError:
                pass
            try:
                if row["phone"]:
                    phones.append(validate_phone(row["phone"]))
            except ValidationError:
                pass
        found = await services.find_duplicates(
            user, ids, phones, values.get("location", ""), values.get("category", "")
        )
        return Template(
            "intake/partials/_duplicates.html",
            context={"duplicates": found, "values": values},
        )
