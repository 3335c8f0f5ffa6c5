"""Direct-report points (直报点): binding a tablet, the point a tablet stands at, each
point's figures and the points the public board lists."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from mediation.accounts.services import CurrentUser
from mediation.cases.services import today
from mediation.clock import utc_now
from mediation.i18n import gettext as _
from mediation.suggestions.common import SuggestionError, digest_token
from mediation.suggestions.tables import DirectReportPoint, Suggestion

BIND_LINK_HOURS = 24


async def bind_device(user: CurrentUser, point_id: int) -> str:
    """Staff bind a tablet to a point: a one-time link (valid BIND_LINK_HOURS) that the tablet
    exchanges for its own device token; any tablet bound earlier stops working now."""
    token = secrets.token_urlsafe(32)
    updated = (
        await DirectReportPoint.update(
            {
                DirectReportPoint.bind_token_digest: digest_token(token),
                DirectReportPoint.bind_issued_at: utc_now(),
                DirectReportPoint.device_token_digest: "",
            }
        )
        .where(DirectReportPoint.id == point_id)
        .returning(DirectReportPoint.id)
    )
    if not updated:
        raise SuggestionError(_("This direct-report point does not exist."))
    from mediation.grid.services import record_audit

    await record_audit(user, "bind_device", "direct_report_point", point_id)
    return token


async def exchange_bind_token(link_token: str) -> str | None:
    """The tablet's device token for a binding link, or None if the link is unknown, used,
    replaced, withdrawn or expired. One UPDATE both checks and spends the link, so two tablets
    opening it at once cannot both get a device token."""
    if not link_token:
        return None
    device_token = secrets.token_urlsafe(32)
    now = utc_now()
    rows = (
        await DirectReportPoint.update(
            {
                DirectReportPoint.bind_token_digest: "",
                DirectReportPoint.device_token_digest: digest_token(device_token),
                DirectReportPoint.token_issued_at: now,
            }
        )
        .where(
            DirectReportPoint.bind_token_digest == digest_token(link_token),
            DirectReportPoint.bind_token_digest != "",
            DirectReportPoint.active.eq(True),
            DirectReportPoint.bind_issued_at >= now - timedelta(hours=BIND_LINK_HOURS),
        )
        .returning(DirectReportPoint.id)
    )
    if not rows:
        return None
    from mediation.grid.services import record_audit

    await record_audit(None, "device_bound", "direct_report_point", rows[0]["id"])
    return device_token


@dataclass(frozen=True, slots=True)
class PointToBind:
    """The direct-report point a binding link is for."""

    id: int
    name: str


async def point_for_bind_token(link_token: str) -> PointToBind | None:
    """The point a binding link is for, while the link is valid, without spending it (the
    page a GET of the link shows asks to confirm; only its POST binds)."""
    if not link_token:
        return None
    row = (
        await DirectReportPoint.select(DirectReportPoint.id, DirectReportPoint.name)
        .where(
            DirectReportPoint.bind_token_digest == digest_token(link_token),
            DirectReportPoint.bind_token_digest != "",
            DirectReportPoint.active.eq(True),
            DirectReportPoint.bind_issued_at >= utc_now() - timedelta(hours=BIND_LINK_HOURS),
        )
        .first()
    )
    return None if row is None else PointToBind(row["id"], row["name"])


async def revoke_device(user: CurrentUser, point_id: int) -> None:
    await DirectReportPoint.update(
        {DirectReportPoint.device_token_digest: "", DirectReportPoint.bind_token_digest: ""}
    ).where(DirectReportPoint.id == point_id)
    from mediation.grid.services import record_audit

    await record_audit(user, "revoke_device", "direct_report_point", point_id)


@dataclass(frozen=True, slots=True)
class KioskPoint:
    """The direct-report point a bound tablet stands at."""

    id: int
    name: str
    region: int | None
    region_path: str | None


async def point_for_token(token: str | None) -> KioskPoint | None:
    if not token:
        return None
    row = (
        await DirectReportPoint.select(
            DirectReportPoint.id,
            DirectReportPoint.name,
            DirectReportPoint.region,
            DirectReportPoint.region._.path,
        )
        .where(
            DirectReportPoint.device_token_digest == digest_token(token),
            DirectReportPoint.active.eq(True),
        )
        .first()
    )
    if row is None:
        return None
    return KioskPoint(row["id"], row["name"], row["region"], row["region.path"])


NO_FIGURES = {"received": 0, "replied": 0}


async def point_figures(on: date | None = None) -> dict[int, dict[str, int]]:
    """Suggestions handed in at each point this year: received, and answered so far."""
    on = on or today()
    rows = await Suggestion.select(Suggestion.point, Suggestion.status).where(
        Suggestion.point.is_not_null(), Suggestion.received_on >= date(on.year, 1, 1)
    )
    figures: dict[int, dict[str, int]] = {}
    for row in rows:
        entry = figures.setdefault(row["point"], dict(NO_FIGURES))
        entry["received"] += 1
        if row["status"] in ("replied", "concluded"):
            entry["replied"] += 1
    return figures


@dataclass(frozen=True, slots=True)
class PublicPoint:
    """A direct-report point as the public board lists it, with this year's figures."""

    id: int
    name: str
    address: str
    opening_hours: str
    host_organisation: str
    contact_name: str
    contact_phone: str
    region_name: str | None
    figures: Mapping[str, int]


async def public_points() -> list[PublicPoint]:
    """The active direct-report points as the public board lists them, with this year's figures."""
    rows = (
        await DirectReportPoint.select(
            DirectReportPoint.id,
            DirectReportPoint.name,
            DirectReportPoint.address,
            DirectReportPoint.opening_hours,
            DirectReportPoint.host_organisation,
            DirectReportPoint.contact_name,
            DirectReportPoint.contact_phone,
            DirectReportPoint.region.name,
        )
        .where(DirectReportPoint.active.eq(True))
        .order_by(DirectReportPoint.code)
    )
    figures = await point_figures()
    return [
        PublicPoint(
            id=row["id"],
            name=row["name"],
            address=row["address"],
            opening_hours=row["opening_hours"],
            host_organisation=row["host_organisation"],
            contact_name=row["contact_name"],
            contact_phone=row["contact_phone"],
            region_name=row["region.name"],
            figures=figures.get(row["id"], NO_FIGURES),
        )
        for row in rows
    ]
