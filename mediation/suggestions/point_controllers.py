"""Staff pages of the direct-report points (直报点): their particulars, binding a kiosk tablet
to one by a one-time link, and revoking it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.services import CurrentUser
from mediation.clock import utc_now
from mediation.documents.qr import qr_svg_data_uri
from mediation.grid.services import record_audit
from mediation.i18n import gettext as _
from mediation.suggestions import rules
from mediation.suggestions.common import STAFF_ROLES
from mediation.suggestions.points import (
    BIND_LINK_HOURS,
    NO_FIGURES,
    bind_device,
    point_figures,
    revoke_device,
)
from mediation.suggestions.staff_controllers import form_values, region_choices
from mediation.suggestions.tables import DirectReportPoint
from mediation.web import public_url, see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


# Fields of a point as the form names them, with their length limits.
POINT_FIELDS = (
    ("code", 32),
    ("name", 100),
    ("address", 200),
    ("opening_hours", 200),
    ("host_organisation", 100),
    ("contact_name", 50),
    ("contact_phone", 20),
)
POINT_REQUIRED = ("code", "name", "address", "opening_hours", "host_organisation")


async def _check_point(
    user: CurrentUser, values: dict[str, Any], point_id: int | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """A point's fields as typed, checked; (clean values, errors by field)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, limit in POINT_FIELDS:
        text = str(values.get(field) or "").strip()
        clean[field] = text
        if not text and field in POINT_REQUIRED:
            errors[field] = _("This field is required.")
        elif len(text) > limit:
            errors[field] = _(
                "Use at most %(max)s characters (now %(count)s).", max=limit, count=len(text)
            )
    if clean["contact_phone"] and "contact_phone" not in errors:
        phone = rules.normalize_phone(clean["contact_phone"])
        if phone is None:
            errors["contact_phone"] = _(
                "Enter a phone number of 7 to 15 digits, for example 13800138000 or 0573-85012345."
            )
    region = str(values.get("region") or "").strip()
    clean["region"] = None
    if region:
        if region not in {key for key, _label in await region_choices(user)}:
            errors["region"] = _("Choose from the list.")
        else:
            clean["region"] = int(region)
    elif user.region_path:
        errors["region"] = _("This field is required.")
    if clean["code"] and "code" not in errors:
        taken = DirectReportPoint.exists().where(DirectReportPoint.code == clean["code"])
        if point_id is not None:
            taken = taken.where(DirectReportPoint.id != point_id)
        if await taken:
            errors["code"] = _("This code is already in use.")
    return clean, errors


async def create_point(user: CurrentUser, values: dict[str, Any]) -> tuple[int | None, dict]:
    """A new direct-report point in the user's area; returns (id, errors by field)."""
    clean, errors = await _check_point(user, values)
    if errors:
        return None, errors
    point = DirectReportPoint(**clean)
    await point.save()
    await record_audit(user, "create", "direct_report_point", point.id, after=clean)
    return point.id, {}


async def update_point(user: CurrentUser, point_id: int, values: dict[str, Any]) -> dict:
    """Change a point's particulars (what the board tells citizens); returns errors by field."""
    before = await _point_for(user, point_id)
    clean, errors = await _check_point(user, values, point_id)
    if errors:
        return errors
    await DirectReportPoint.update(
        {getattr(DirectReportPoint, field): value for field, value in clean.items()}
    ).where(DirectReportPoint.id == point_id)
    await record_audit(
        user,
        "update",
        "direct_report_point",
        point_id,
        before={field: getattr(before, field, None) for field in clean},
        after=clean,
    )
    return {}


@dataclass(frozen=True, slots=True)
class PointRow:
    """A direct-report point as its staff pages show it: particulars, tablet, figures."""

    id: int
    code: str
    name: str
    address: str
    opening_hours: str
    host_organisation: str
    contact_name: str
    contact_phone: str
    active: bool
    token_issued_at: datetime | None
    region: int | None
    region_name: str | None
    bound: bool
    figures: dict[str, int]
    # Until when a binding link issued for this point and not used yet still binds a tablet.
    link_until: datetime | None = None

    def form_values(self) -> dict[str, str]:
        """The particulars as the edit form shows them."""
        values = {field: getattr(self, field) for field, _limit in POINT_FIELDS}
        return {**values, "region": str(self.region or "")}


async def _points(user: CurrentUser) -> list[PointRow]:
    rows = await DirectReportPoint.select(
        DirectReportPoint.id,
        DirectReportPoint.code,
        DirectReportPoint.name,
        DirectReportPoint.address,
        DirectReportPoint.opening_hours,
        DirectReportPoint.host_organisation,
        DirectReportPoint.contact_name,
        DirectReportPoint.contact_phone,
        DirectReportPoint.active,
        DirectReportPoint.token_issued_at,
        DirectReportPoint.device_token_digest,
        DirectReportPoint.bind_token_digest,
        DirectReportPoint.bind_issued_at,
        DirectReportPoint.region,
        DirectReportPoint.region.name,
        DirectReportPoint.region.path,
    ).order_by(DirectReportPoint.code)
    figures = await point_figures()
    now = utc_now()
    return [
        PointRow(
            id=row["id"],
            code=row["code"],
            name=row["name"],
            address=row["address"],
            opening_hours=row["opening_hours"],
            host_organisation=row["host_organisation"],
            contact_name=row["contact_name"],
            contact_phone=row["contact_phone"],
            active=row["active"],
            token_issued_at=row["token_issued_at"],
            region=row["region"],
            region_name=row["region.name"],
            # The digest never leaves this function: the page only needs to know one exists.
            bound=bool(row["device_token_digest"]),
            figures=figures.get(row["id"], NO_FIGURES),
            link_until=_link_until(row["bind_token_digest"], row["bind_issued_at"], now),
        )
        for row in rows
        if row["region"] is None or user.can_see_path(row["region.path"])
    ]


def _link_until(digest: str, issued: datetime | None, now: datetime) -> datetime | None:
    """When an outstanding binding link stops working; None if there is none."""
    if not digest or issued is None:
        return None
    until = issued + timedelta(hours=BIND_LINK_HOURS)
    return until if until > now else None


async def _point_for(user: CurrentUser, point_id: int) -> PointRow:
    point = next((p for p in await _points(user) if p.id == point_id), None)
    if point is None:
        raise NotFoundException()
    return point


class DirectReportPointController(Controller):
    """直报点: kiosk tablets in community halls, bound by a one-time link and revocable."""

    path = "/suggestions/points"
    guards = [requires_role(*STAFF_ROLES)]
    include_in_schema = False

    @get("/")
    async def points(self, request: Request) -> Template:
        return await _points_page(request, {}, {})

    @post("/")
    async def create(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        values = form_values(data)
        _point_id, errors = await create_point(current_user(request), values)
        if errors:
            return await _points_page(request, values, errors, 422)
        return see_other("/suggestions/points")

    @get("/{point_id:int}")
    async def edit(self, request: Request, point_id: FromPath[int]) -> Template:
        point = await _point_for(current_user(request), point_id)
        values = point.form_values()
        return await _point_page(request, point, values, {})

    @post("/{point_id:int}")
    async def update(
        self, request: Request, point_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        point = await _point_for(user, point_id)
        values = form_values(data)
        errors = await update_point(user, point_id, values)
        if errors:
            return await _point_page(request, point, values, errors, 422)
        return see_other("/suggestions/points")

    @post("/{point_id:int}/bind")
    async def bind(self, request: Request, point_id: FromPath[int]) -> Template:
        user = current_user(request)
        point = await _point_for(user, point_id)
        token = await bind_device(user, point_id)
        url = public_url(request, f"/kiosk/bind/{token}")
        # Rendered straight from the POST: the link is shown this once and stored nowhere.
        # Posting again simply issues a new link and voids this one.
        return Template(
            "suggestions/staff/bound.html",
            context={"point": point, "url": url, "qr": qr_svg_data_uri(url)},
        )

    @post("/{point_id:int}/revoke")
    async def revoke(self, request: Request, point_id: FromPath[int]) -> Redirect:
        user = current_user(request)
        await _point_for(user, point_id)
        await revoke_device(user, point_id)
        return see_other("/suggestions/points")


async def _points_page(
    request: Request, values: dict, errors: dict, status_code: int = 200
) -> Template:
    user = current_user(request)
    return Template(
        "suggestions/staff/points.html",
        context={
            "points": await _points(user),
            "region_choices": await region_choices(user),
            # Staff of a town place points in their town; county-wide staff may leave it open.
            "region_required": bool(user.region_path),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


async def _point_page(
    request: Request, point: PointRow, values: dict, errors: dict, status_code: int = 200
) -> Template:
    user = current_user(request)
    return Template(
        "suggestions/staff/point.html",
        context={
            "point": point,
            "region_choices": await region_choices(user),
            "region_required": bool(user.region_path),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )
