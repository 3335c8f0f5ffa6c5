"""People's suggestions with the database: intake, tracking, screening, routing, replies."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.cases.services import CaseError, CaseInput, PartyInput, register_case, today
from mediation.clock import utc_now
from mediation.db import PreparedSelect, fields_of, write_transaction
from mediation.grid.tables import Department, Grid, Region
from mediation.i18n import gettext as _
from mediation.inputs import contains
from mediation.masking import mask_phone
from mediation.roles import AREA_ROLES
from mediation.settings import get_settings
from mediation.suggestions import photos, rules, similarity
from mediation.suggestions.categories import CATEGORY_CODES
from mediation.suggestions.photos import Photo
from mediation.suggestions.tables import (
    DirectReportPoint,
    Suggestion,
    SuggestionEvent,
    SuggestionPhoto,
    SuggestionTopic,
)

POLICY = rules.SuggestionPolicy()
STAFF_ROLES = AREA_ROLES
# What a department may see of a suggestion: never the proposer when it is confidential.
IDENTITY_FIELDS = ("proposer_name", "proposer_phone", "proposer_email", "account_id")


class SuggestionError(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _key() -> str:
    return get_settings().secret_key


def digest_token(token: str) -> str:
    return hashlib.sha256(("device:" + token).encode()).hexdigest()


# ---------------------------------------------------------------- direct-report points


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


@dataclass(frozen=True, slots=True)
class TopicRow:
    """专项征集: a thematic call for suggestions (see ``tables.SuggestionTopic``)."""

    id: int
    title: str
    description: str
    opens_on: date
    closes_on: date
    published: bool
    created_by: int | None


async def open_topics(on: date | None = None) -> list[TopicRow]:
    """The published calls open on ``on`` (today), the one closing soonest first."""
    on = on or today()
    rows = (
        await SuggestionTopic.select()
        .where(
            SuggestionTopic.published.eq(True),
            SuggestionTopic.opens_on <= on,
            SuggestionTopic.closes_on >= on,
        )
        .order_by(SuggestionTopic.closes_on)
    )
    return [TopicRow(**r) for r in rows]


async def create_topic(
    user: CurrentUser, title: str, description: str, opens_on: date, closes_on: date
) -> int:
    if not title.strip():
        raise SuggestionError(_("This field is required."), "title")
    if closes_on < opens_on:
        raise SuggestionError(
            _("The closing date must not be before the opening date."), "closes_on"
        )
    topic = SuggestionTopic(
        title=title.strip()[:100],
        description=description.strip()[:2000],
        opens_on=opens_on,
        closes_on=closes_on,
        created_by=user.id,
    )
    await topic.save()
    return topic.id


# ---------------------------------------------------------------- intake and tracking


async def _event(
    suggestion_id: int,
    actor: CurrentUser | None,
    action: str,
    from_status: str,
    to_status: str,
    note: str = "",
    public: bool = True,
) -> None:
    await SuggestionEvent.insert(
        SuggestionEvent(
            suggestion=suggestion_id,
            actor=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note[:2000],
            public=public,
        )
    )


async def submit_suggestion(
    values: dict[str, Any],
    channel: str,
    point_id: int | None = None,
    actor: CurrentUser | None = None,
    photo_files: list[Photo] | None = None,
    extra_errors: dict[str, str] | None = None,
    reason_limit: int = rules.MAX_REASON,
) -> tuple[dict[str, Any], dict[str, str], tuple[str, str] | None]:
    """Validate and store; returns (clean values, errors, (tracking code, secret) or None).

    ``photo_files`` are already checked and re-encoded (``mediation.suggestions.photos``).
    An Open311 client also hands over ``email``, ``account_id``, ``address_id`` and
    ``media_url``, checked by ``open311.parse_service_request_in``: they are kept, never
    published.
    """
    cleaned, errors = rules.clean_submission(values, reason_limit=reason_limit)
    region_id = None
    if str(values.get("region") or "").isdigit():
        region_id = int(values["region"])
        if not await Region.exists().where(Region.id == region_id):
            errors["region"] = _("Choose from the list.")
    call_id = None
    if str(values.get("call") or "").isdigit():
        call_id = int(values["call"])
        if call_id not in {t.id for t in await open_topics()}:
            errors["call"] = _("This collection is closed.")
    cleaned["region"] = values.get("region") or ""
    cleaned["call"] = values.get("call") or ""
    cleaned["category"] = str(values.get("category") or "")[:32]
    if cleaned["category"] and cleaned["category"] not in CATEGORY_CODES:
        errors["category"] = _("Choose from the list.")
    errors.update(extra_errors or {})
    if errors:
        return cleaned, errors, None
    region_path = ""
    if region_id:
        region = await Region.select(Region.path).where(Region.id == region_id).first()
        region_path = region["path"] if region else ""
    received = today()
    clocks = rules.suggestion_clocks(received, POLICY)
    secret = rules.new_secret()
    for _attempt in range(5):
        code = rules.new_tracking_code(received.year)
        if not await Suggestion.exists().where(Suggestion.tracking_code == code):
            break
    suggestion = Suggestion(
        tracking_code=code,
        secret_digest=rules.hash_secret(secret, _key(), code=code),
        channel=channel,
        point=point_id,
        call=call_id,
        title=cleaned["topic"],
        reason=cleaned["reason"],
        measures=cleaned["measures"],
        proposer_name=cleaned["name"],
        proposer_phone=cleaned["phone"],
        reply_by_phone=cleaned["reply_by_phone"],
        confidential=cleaned["confidential"],
        consent_to_publish=cleaned["consent_to_publish"],
        category=cleaned["category"],
        region=region_id,
        region_path=region_path,
        address=cleaned["address"],
        lat=cleaned["lat"],
        long=cleaned["long"],
        address_id=str(values.get("address_id") or "")[:64],
        proposer_email=str(values.get("email") or "")[:254],
        account_id=str(values.get("account_id") or "")[:100],
        media_url=str(values.get("media_url") or "")[:2000],
        status="received",
        received_on=received,
        route_due=clocks.route_due,
        conclude_due=clocks.conclude_due,
    )
    await suggestion.save()
    data_dir = get_settings().data_dir
    for photo in photo_files or []:
        await SuggestionPhoto(
            suggestion=suggestion.id,
            content_type="image/jpeg",
            size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            stored_as=await photos.store(data_dir, photo),
        ).save()
    await _event(suggestion.id, actor, "received", "", "received")
    return cleaned, {}, (code, secret)


_PHOTOS_OF = PreparedSelect(
    lambda suggestion_id: (
        SuggestionPhoto.select(SuggestionPhoto.id, SuggestionPhoto.width, SuggestionPhoto.height)
        .where(SuggestionPhoto.suggestion == suggestion_id)
        .order_by(SuggestionPhoto.id)
    )
)


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """A photo handed in with a suggestion, as its page shows it."""

    id: int
    width: int
    height: int


async def photos_of(suggestion_id: int) -> list[PhotoRow]:
    return [PhotoRow(**r) for r in await _PHOTOS_OF(suggestion_id)]


@dataclass(frozen=True, slots=True)
class PublicStep:
    """A step of a suggestion's timeline the citizen may see."""

    at: datetime
    action: str
    from_status: str
    to_status: str


@dataclass(frozen=True, slots=True)
class TrackedSuggestion:
    """What the citizen sees of their suggestion with the receipt code and secret."""

    id: int
    tracking_code: str
    title: str
    status: str
    outcome: str
    reply_text: str
    replied_at: datetime | None
    rating: str
    times_reopened: int
    received_on: date
    department_name: str | None
    conclude_due: date
    case_number: str | None
    events: list[PublicStep]
    can_rate: bool


async def track(code: str, secret: str) -> TrackedSuggestion | None:
    """What the citizen sees with the receipt code and secret; a wrong secret reveals nothing."""
    parsed = rules.parse_tracking_code(code)
    row = None
    if parsed:
        row = (
            await Suggestion.select(
                Suggestion.id,
                Suggestion.tracking_code,
                Suggestion.secret_digest,
                Suggestion.title,
                Suggestion.status,
                Suggestion.outcome,
                Suggestion.reply_text,
                Suggestion.replied_at,
                Suggestion.rating,
                Suggestion.times_reopened,
                Suggestion.received_on,
                Suggestion.department.name,
                Suggestion.conclude_due,
                Suggestion.case.number,
            )
            .where(Suggestion.tracking_code == parsed)
            .first()
        )
    # Verify even when there is no such code, so timing does not tell codes apart.
    ok = rules.verify_secret(
        secret, row["secret_digest"] if row else "0" * 64, _key(), code=parsed or ""
    )
    if row is None or not ok:
        return None
    events = (
        await SuggestionEvent.select(
            SuggestionEvent.at,
            SuggestionEvent.action,
            SuggestionEvent.from_status,
            SuggestionEvent.to_status,
        )
        .where(SuggestionEvent.suggestion == row["id"], SuggestionEvent.public.eq(True))
        .order_by(SuggestionEvent.id)
    )
    return TrackedSuggestion(
        id=row["id"],
        tracking_code=row["tracking_code"],
        title=row["title"],
        status=row["status"],
        outcome=row["outcome"],
        reply_text=row["reply_text"],
        replied_at=row["replied_at"],
        rating=row["rating"],
        times_reopened=row["times_reopened"],
        received_on=row["received_on"],
        department_name=row["department.name"],
        conclude_due=row["conclude_due"],
        case_number=row["case.number"],
        events=[PublicStep(**e) for e in events],
        can_rate=row["status"] in {s.value for s in rules.RATEABLE} and not row["rating"],
    )


async def rate(code: str, secret: str, rating: str) -> bool:
    """The citizen rates the reply; "not satisfied" reopens it, once. Returns whether it was
    reopened."""
    found = await track(code, secret)
    if found is None:
        raise SuggestionError(_("The code or the secret is not right."))
    try:
        checked = rules.check_rating(found.status, rating, already_rated=bool(found.rating))
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message, "rating") from exc
    reopen = rules.may_reopen(checked, found.times_reopened)
    async with write_transaction():
        await Suggestion.update({Suggestion.rating: str(checked)}).where(Suggestion.id == found.id)
        await _event(
            found.id,
            None,
            "rated",
            found.status,
            found.status,
            str(rules.RATING_LABELS[checked]),
        )
        if reopen:
            move = rules.apply(
                "reopen",
                found.status,
                rating=str(checked),
                times_reopened=found.times_reopened,
            )
            await Suggestion.update(
                {
                    Suggestion.status: move.to_status.value,
                    Suggestion.times_reopened: found.times_reopened + 1,
                    Suggestion.rating: "",
                }
            ).where(Suggestion.id == found.id)
            await _event(found.id, None, "reopen", found.status, move.to_status.value)
            # Handled again for this proposer alone: it no longer follows a leader, and a
            # leader's own reopening leaves its members' answers as they are.
            left = (
                await Suggestion.update({Suggestion.group_leader: None})
                .where(Suggestion.id == found.id, Suggestion.group_leader.is_not_null())
                .returning(Suggestion.id)
            )
            if left:
                await _event(
                    found.id, None, "ungrouped", move.to_status.value, move.to_status.value
                )
    return reopen


# ---------------------------------------------------------------- staff


def redact(row: dict, for_department: bool) -> dict:
    """A department never learns who asked for confidentiality (and no one else's phone)."""
    if for_department and row.get("confidential"):
        return {**row, **{f: "" for f in IDENTITY_FIELDS}, "identity_hidden": True}
    return row


@dataclass(frozen=True, slots=True)
class StaffStep:
    """A step of a suggestion's timeline as the office sees it."""

    id: int
    suggestion: int
    at: datetime
    actor: int | None
    actor_name: str | None
    action: str
    from_status: str
    to_status: str
    note: str
    public: bool


@dataclass(frozen=True, slots=True)
class SuggestionDetail:
    """A suggestion as the office (or, redacted, a department) reads and acts on it."""

    # The suggestion's own columns (see ``tables.Suggestion``), all but the secret's digest.
    id: int
    tracking_code: str
    channel: str
    point: int | None
    call: int | None
    title: str
    reason: str
    measures: str
    proposer_name: str
    proposer_phone: str
    proposer_email: str
    account_id: str
    reply_by_phone: bool
    confidential: bool
    consent_to_publish: bool
    category: str
    region: int | None
    region_path: str
    address: str
    address_id: str
    lat: float | None
    long: float | None
    media_url: str
    status: str
    department: int | None
    outcome: str
    reply_text: str
    replied_at: datetime | None
    rating: str
    times_reopened: int
    reward_tier: str
    group_leader: int | None
    case: int | None
    received_on: date
    route_due: date
    conclude_due: date
    extension_days: int
    extensions: int
    overdue: bool
    created_at: datetime
    version: int
    # Names of what it refers to.
    department_name: str | None
    point_name: str | None
    call_title: str | None
    case_number: str | None
    region_name: str | None
    events: list[StaffStep]
    actions: list[str]  # the steps its status allows
    identity_hidden: bool = False  # the proposer's identity blanked for a department


# Columns of other tables read with the suggestion, and the fields they fill.
_JOINED_FIELDS = {
    "department.name": "department_name",
    "point.name": "point_name",
    "call.title": "call_title",
    "case.number": "case_number",
    "region.name": "region_name",
}


# The suggestion page's reads, their SQL built once (see ``db.PreparedSelect``).
_STAFF_ROW = PreparedSelect(
    lambda suggestion_id: (
        Suggestion.select(
            *Suggestion.all_columns(exclude=[Suggestion.secret_digest]),
            Suggestion.department.name,
            Suggestion.point.name,
            Suggestion.call.title,
            Suggestion.case.number,
            Suggestion.region.name,
        )
        .where(Suggestion.id == suggestion_id)
        .limit(1)
    )
)
_STAFF_STEPS = PreparedSelect(
    lambda suggestion_id: (
        SuggestionEvent.select(*SuggestionEvent.all_columns(), SuggestionEvent.actor.display_name)
        .where(SuggestionEvent.suggestion == suggestion_id)
        .order_by(SuggestionEvent.id)
    )
)


async def suggestion_for_staff(user: CurrentUser, suggestion_id: int) -> SuggestionDetail | None:
    rows = await _STAFF_ROW(suggestion_id)
    if not rows:
        return None
    row = rows[0]
    if user.has_role(*STAFF_ROLES):
        if row["region_path"] and not user.can_see_path(row["region_path"]):
            return None
        department_view = False
    elif user.has_role("handler"):
        if row["department"] != user.department_id:
            return None
        department_view = True
    else:
        return None
    events = await _STAFF_STEPS(suggestion_id)
    return SuggestionDetail(
        **fields_of(redact(row, department_view), _JOINED_FIELDS),
        events=[StaffStep(**fields_of(e, {"actor.display_name": "actor_name"})) for e in events],
        actions=[a.value for a in rules.allowed_actions(row["status"])],
    )


def _list_scope(query, user: CurrentUser, status: str = ""):
    """Staff see their area's suggestions (and those without an area), a department handler its
    department's; anyone else nothing (None)."""
    if user.has_role(*STAFF_ROLES):
        if user.region_path:
            query = query.where(
                Suggestion.region_path.like(user.region_path + "%") | (Suggestion.region_path == "")
            )
    elif user.has_role("handler") and user.department_id:
        query = query.where(Suggestion.department == user.department_id)
    else:
        return None
    if status:
        query = query.where(Suggestion.status == status)
    return query


@dataclass
class ListFilters:
    """Narrowing of the staff list, as the dashboard's figures link to it (all optional)."""

    channel: str = ""
    point: int | None = None
    department: int | None = None
    region_path: str = ""
    date_from: date | None = None  # received on or after (county date)
    date_to: date | None = None
    outcomes: tuple[str, ...] = ()
    rating: str = ""
    reward: str = ""
    routed: bool = False
    replied: bool = False
    reopened: bool = False
    q: str = ""  # free text over the receipt code, title and content


def apply_list_filters(query, f: ListFilters | None):
    if f is None:
        return query
    if f.q.strip():
        # The term as typed: its % and _ match themselves, as in the case list's search.
        term = f.q.strip()
        query = query.where(
            contains(Suggestion.tracking_code, term)
            | contains(Suggestion.title, term)
            | contains(Suggestion.reason, term)
            | contains(Suggestion.measures, term)
        )
    if f.channel:
        query = query.where(Suggestion.channel == f.channel)
    if f.point:
        query = query.where(Suggestion.point == f.point)
    if f.department:
        query = query.where(Suggestion.department == f.department)
    if f.region_path:
        query = query.where(Suggestion.region_path.like(f.region_path + "%"))
    if f.date_from:
        query = query.where(Suggestion.received_on >= f.date_from)
    if f.date_to:
        query = query.where(Suggestion.received_on <= f.date_to)
    if f.outcomes:
        query = query.where(Suggestion.outcome.is_in(list(f.outcomes)))
    if f.rating:
        query = query.where(Suggestion.rating == f.rating)
    if f.reward:
        query = query.where(Suggestion.reward_tier == f.reward)
    if f.routed:
        query = query.where(Suggestion.department.is_not_null())
    if f.replied:
        query = query.where(Suggestion.replied_at.is_not_null())
    if f.reopened:
        query = query.where(Suggestion.times_reopened > 0)
    return query


async def staff_list(
    user: CurrentUser,
    status: str = "",
    page: int = 1,
    page_size: int = 25,
    filters: ListFilters | None = None,
) -> tuple[list[dict], bool]:
    query = Suggestion.select(
        Suggestion.id,
        Suggestion.tracking_code,
        Suggestion.title,
        Suggestion.status,
        Suggestion.received_on,
        Suggestion.overdue,
        Suggestion.channel,
        Suggestion.confidential,
        Suggestion.department.name,
        Suggestion.region_path,
    )
    query = _list_scope(query, user, status)
    if query is None:
        return [], False
    query = apply_list_filters(query, filters)
    rows = (
        await query.order_by(Suggestion.id, ascending=False)
        .limit(page_size + 1)
        .offset((max(page, 1) - 1) * page_size)
    )
    return rows[:page_size], len(rows) > page_size


EXPORT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A suggestion as the spreadsheet export lists it: phone masked, and for a department the
    identity of a proposer who asked for confidentiality left out (``identity_hidden``)."""

    tracking_code: str
    received_on: date
    channel: str
    title: str
    reason: str
    measures: str
    category: str
    region_name: str | None
    status: str
    department_name: str | None
    outcome: str | None
    replied_at: datetime | None
    proposer_name: str
    proposer_phone: str
    identity_hidden: bool


async def export_rows(
    user: CurrentUser, status: str = "", filters: ListFilters | None = None
) -> list[ExportRow]:
    """The rows of the list as a spreadsheet gets them: the same scope, identity redacted for a
    department when the proposer asked for confidentiality, phones always masked."""
    query = Suggestion.select(
        Suggestion.tracking_code,
        Suggestion.received_on,
        Suggestion.channel,
        Suggestion.title,
        Suggestion.reason,
        Suggestion.measures,
        Suggestion.category,
        Suggestion.region.name,
        Suggestion.status,
        Suggestion.department.name,
        Suggestion.outcome,
        Suggestion.replied_at,
        Suggestion.confidential,
        Suggestion.proposer_name,
        Suggestion.proposer_phone,
    )
    query = _list_scope(query, user, status)
    if query is None:
        return []
    query = apply_list_filters(query, filters)
    department_view = not user.has_role(*STAFF_ROLES)
    rows = await query.order_by(Suggestion.id, ascending=False).limit(EXPORT_LIMIT)
    out = []
    for row in rows:
        row = redact(row, department_view)
        out.append(
            ExportRow(
                tracking_code=row["tracking_code"],
                received_on=row["received_on"],
                channel=row["channel"],
                title=row["title"],
                reason=row["reason"],
                measures=row["measures"],
                category=row["category"],
                region_name=row["region.name"],
                status=row["status"],
                department_name=row["department.name"],
                outcome=row["outcome"],
                replied_at=row["replied_at"],
                proposer_name=row["proposer_name"],
                proposer_phone=mask_phone(row["proposer_phone"]),
                identity_hidden=bool(row.get("identity_hidden")),
            )
        )
    return out


@dataclass(slots=True)
class SimilarSuggestion:
    """A suggestion on the same matter as the one read, and how alike the two are (0 to 1)."""

    id: int
    title: str
    reason: str
    measures: str
    tracking_code: str
    status: str
    score: float
    # Already in the same group as the suggestion read (set by the page, which knows the group).
    in_group: bool = False


async def similar_to(
    user: CurrentUser, suggestion_id: int, limit: int = 8
) -> list[SimilarSuggestion]:
    """Suggestions on the same matter already in the system (received since the start of the
    same month last year), from the index each process keeps (``similar_index``)."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None:
        return []
    return [s for s, _place in await similar_with_places(row, limit)]


@dataclass(frozen=True, slots=True)
class SimilarPlace:
    """Where a similar suggestion sits: its area and the group it belongs to."""

    region_path: str
    group_leader: int | None


async def similar_with_places(
    row: SuggestionDetail, limit: int = 8
) -> list[tuple[SimilarSuggestion, SimilarPlace]]:
    """``similar_to`` for a suggestion already read (``suggestion_for_staff``), each with its
    area and group (the page shows only those the user may see, and which are grouped)."""
    from mediation.suggestions import similar_index

    since = date(today().year - 1, today().month, 1)
    new = similarity.SuggestionText(row.id, row.title, row.reason, row.measures)
    found = await similar_index.find_similar(new, since, limit)
    if not found:
        return []
    rows = await Suggestion.select(
        *_SIMILAR_COLUMNS, Suggestion.region_path, Suggestion.group_leader
    ).where(Suggestion.id.is_in([i for i, _score in found]))
    by_id = {c["id"]: c for c in rows}
    return [
        (
            SimilarSuggestion(
                id=by_id[i]["id"],
                title=by_id[i]["title"],
                reason=by_id[i]["reason"],
                measures=by_id[i]["measures"],
                tracking_code=by_id[i]["tracking_code"],
                status=by_id[i]["status"],
                score=round(score, 2),
            ),
            SimilarPlace(by_id[i]["region_path"] or "", by_id[i]["group_leader"]),
        )
        for i, score in found
        if i in by_id
    ]


_SIMILAR_COLUMNS = (
    Suggestion.id,
    Suggestion.title,
    Suggestion.reason,
    Suggestion.measures,
    Suggestion.tracking_code,
    Suggestion.status,
)


async def similar_to_scan(suggestion_id: int, limit: int = 8) -> list[tuple[int, float]]:
    """(id, score) as the page used to find them: every suggestion of the window read and
    compared on each call (kept to check the index against)."""
    row = await Suggestion.select(*_SIMILAR_COLUMNS).where(Suggestion.id == suggestion_id).first()
    if row is None:
        return []
    since = date(today().year - 1, today().month, 1)
    candidates = await Suggestion.select(*_SIMILAR_COLUMNS).where(
        Suggestion.received_on >= since, Suggestion.id != suggestion_id
    )
    new = similarity.SuggestionText(row["id"], row["title"], row["reason"], row["measures"])
    found = similarity.find_similar(
        new,
        [
            similarity.SuggestionText(c["id"], c["title"], c["reason"], c["measures"])
            for c in sorted(candidates, key=lambda c: c["id"])
        ],
        limit=limit,
    )
    # The ids are the rows' ids given above; similarity keeps them only as Hashable.
    return [(int(i), score) for i, score in found]  # type: ignore[call-overload]


# Where a suggestion stands on the way to a reply; a member joining a group that is further on
# catches up with its leader (a group is routed, answered and concluded as one).
PROGRESS = ("received", "registered", "transferred", "handling", "replied", "concluded")
# A leader in these states can take no members: nothing more will happen to it as a suggestion.
NO_NEW_MEMBERS = ("rerouted", "closed")


def _rank(status: str) -> int:
    return PROGRESS.index(status) if status in PROGRESS else -1


async def group_with(user: CurrentUser, suggestion_id: int, leader_id: int) -> None:
    """Group: the suggestion (and any it led) follows the leader from now on.

    A member that is behind its leader catches up at once (status, department, and the reply
    with its outcome if there is one), each step written on the member's own timeline, so its
    proposer sees it on the tracking page.
    """
    if suggestion_id == leader_id:
        raise SuggestionError(_("A suggestion cannot be grouped with itself."))
    for sid in (suggestion_id, leader_id):
        if await suggestion_for_staff(user, sid) is None:
            raise SuggestionError(_("This suggestion does not exist."))
    leader = (
        await Suggestion.select(Suggestion.group_leader).where(Suggestion.id == leader_id).first()
    )
    if leader is None:
        raise SuggestionError(_("This suggestion does not exist."))
    root_id = leader["group_leader"] or leader_id
    if root_id == suggestion_id:
        raise SuggestionError(_("These suggestions are already in one group."))
    root = await Suggestion.select(*_FOLLOWED).where(Suggestion.id == root_id).first()
    if root is None:
        raise SuggestionError(_("This suggestion does not exist."))
    if root["status"] in NO_NEW_MEMBERS:
        raise SuggestionError(
            _("The leading suggestion was closed or re-routed: it cannot lead a group.")
        )
    joining = await Suggestion.select(
        Suggestion.id, Suggestion.status, Suggestion.version, Suggestion.group_leader
    ).where((Suggestion.id == suggestion_id) | (Suggestion.group_leader == suggestion_id))
    for row in joining:
        if row["status"] not in ("received", "registered"):
            raise SuggestionError(
                _("Only a suggestion that has not been routed yet can join a group.")
            )
    async with write_transaction():
        for row in joining:
            values: dict[Any, Any] = {
                Suggestion.group_leader: root_id,
                Suggestion.version: row["version"] + 1,
            }
            to_status = row["status"]
            if _rank(root["status"]) > _rank(row["status"]):
                to_status = root["status"]
                values.update(
                    {
                        Suggestion.status: root["status"],
                        Suggestion.department: root["department"],
                        Suggestion.outcome: root["outcome"],
                        Suggestion.reply_text: root["reply_text"],
                        Suggestion.replied_at: root["replied_at"],
                    }
                )
            await Suggestion.update(values).where(Suggestion.id == row["id"])
            await _event(
                row["id"], user, "grouped", row["status"], to_status, root["tracking_code"]
            )


async def leave_group(user: CurrentUser, suggestion_id: int) -> None:
    """Take a suggestion out of its group: from now on it is routed and answered on its own."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None or not user.has_role(*STAFF_ROLES):
        raise SuggestionError(_("This suggestion does not exist."))
    if not row.group_leader:
        raise SuggestionError(_("This suggestion is not in a group."))
    async with write_transaction():
        await Suggestion.update(
            {Suggestion.group_leader: None, Suggestion.version: row.version + 1}
        ).where(Suggestion.id == suggestion_id)
        await _event(suggestion_id, user, "ungrouped", row.status, row.status)


# What a member takes over from its leader.
_FOLLOWED = (
    Suggestion.id,
    Suggestion.tracking_code,
    Suggestion.status,
    Suggestion.department,
    Suggestion.outcome,
    Suggestion.reply_text,
    Suggestion.replied_at,
)


async def _members(leader_id: int) -> list[dict]:
    return (
        await Suggestion.select(
            Suggestion.id, Suggestion.tracking_code, Suggestion.status, Suggestion.version
        )
        .where(Suggestion.group_leader == leader_id)
        .order_by(Suggestion.id)
    )


async def _members_follow(
    user: CurrentUser, leader_id: int, action: str, facts: dict, values: dict, note: str
) -> None:
    """Apply the leader's move to each member for which the move is legal from where it is.

    A member that went its own way (its proposer had it reopened) is left where it is.
    """
    # Columns compare with == into a query clause, so they are told apart by identity.
    shared = {
        k: v
        for k, v in values.items()
        if k is not Suggestion.version and k is not Suggestion.status
    }
    for member in await _members(leader_id):
        try:
            transition = rules.apply(action, member["status"], **facts)
        except rules.SuggestionRuleError:
            continue
        await Suggestion.update(
            {
                **shared,
                Suggestion.status: transition.to_status.value,
                Suggestion.version: member["version"] + 1,
            }
        ).where(Suggestion.id == member["id"])
        await _event(member["id"], user, action, member["status"], transition.to_status.value, note)


async def _hand_group_on(user: CurrentUser | None, leader_id: int, why: str) -> None:
    """The leader leaves the suggestion channel: its earliest member leads the others now."""
    members = await _members(leader_id)
    if not members:
        return
    heir, rest = members[0], members[1:]
    await Suggestion.update({Suggestion.group_leader: None}).where(Suggestion.id == heir["id"])
    await _event(heir["id"], user, "ungrouped", heir["status"], heir["status"], why)
    if rest:
        await Suggestion.update({Suggestion.group_leader: heir["id"]}).where(
            Suggestion.id.is_in([m["id"] for m in rest])
        )
        for member in rest:
            await _event(
                member["id"],
                user,
                "regrouped",
                member["status"],
                member["status"],
                heir["tracking_code"],
                public=False,
            )


async def move(user: CurrentUser, suggestion_id: int, action: str, facts: dict[str, Any]) -> str:
    """One step of the flow, checked by the rules; a reply reaches the whole group."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise SuggestionError(_("This suggestion does not exist."))
    await _refuse_member(row)
    if (
        user.has_role("handler")
        and not user.has_role(*STAFF_ROLES)
        and action not in ("start_handling", "reply")
    ):
        raise SuggestionError(_("A department handles and replies; other steps are for staff."))
    clean = {k: v for k, v in facts.items() if k in rules.KNOWN_FACTS and v not in (None, "")}
    if action == "transfer" and clean.get("department"):
        if not str(clean["department"]).isdigit() or not await Department.exists().where(
            Department.id == int(clean["department"])
        ):
            raise SuggestionError(_("Choose from the list."), "department")
    try:
        transition = rules.apply(action, row.status, **clean)
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message, getattr(exc, "field", "")) from exc
    values: dict[Any, Any] = {
        Suggestion.status: transition.to_status.value,
        Suggestion.version: row.version + 1,
    }
    if action == "transfer":
        values[Suggestion.department] = int(clean["department"])
    if action == "reply":
        values[Suggestion.outcome] = str(clean["outcome"])
        values[Suggestion.reply_text] = str(clean["reply_text"])[:5000]
        values[Suggestion.replied_at] = utc_now()
    note = str(clean.get("reply_text") or clean.get("advice_text") or "")
    async with write_transaction():
        updated = (
            await Suggestion.update(values)
            .where(Suggestion.id == suggestion_id, Suggestion.version == row.version)
            .returning(Suggestion.id)
        )
        if not updated:
            raise SuggestionError(
                _(
                    "Someone else changed this suggestion a moment ago. "
                    "Reload the page and try again."
                )
            )
        await _event(suggestion_id, user, action, row.status, transition.to_status.value, note)
        if action in ("close", "reroute"):
            # The leader's proposer withdrew, or it left the channel: the others go on.
            await _hand_group_on(user, suggestion_id, row.tracking_code)
        else:
            await _members_follow(user, suggestion_id, action, clean, values, note)
    return transition.to_status.value


async def _refuse_member(row: SuggestionDetail) -> None:
    if row.group_leader:
        leader = (
            await Suggestion.select(Suggestion.tracking_code)
            .where(Suggestion.id == row.group_leader)
            .first()
        )
        raise SuggestionError(
            _(
                "This suggestion follows %(code)s, the leading suggestion of its group: act on "
                "that one, or take this one out of the group first.",
                code=leader["tracking_code"] if leader else "",
            )
        )


async def reroute_to_case(
    user: CurrentUser,
    suggestion_id: int,
    grid_id: int,
    category: str,
    identity_consent: str = "",
) -> int:
    """A personal grievance is not a suggestion: it becomes a dispute case, linked both ways.

    The proposer's name and phone go into the case for the grid team to contact them. For a
    confidential suggestion they go only with the proposer's consent, recorded here as
    ``identity_consent`` (how and when they agreed); without it the case names an anonymous
    applicant and carries no phone."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise SuggestionError(_("This suggestion does not exist."))
    await _refuse_member(row)
    try:
        rules.apply("reroute", row.status, reroute_to="dispute_case")
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message) from exc
    identity_consent = identity_consent.strip()
    if len(identity_consent) > 200:
        raise SuggestionError(
            _("Write at most %(limit)s characters.", limit=200), "identity_consent"
        )
    carries_identity = not row.confidential or bool(identity_consent)
    inp = CaseInput(
        category=category,
        summary=row.title[:200],
        facts=f"{row.reason}\n\n{row.measures}",
        grid_id=grid_id,
        source="suggestion",
        colour="green",
        parties=[
            PartyInput(
                role="applicant",
                name=(row.proposer_name if carries_identity else "")
                or (_("Proposer (identity kept confidential)") if row.confidential else "")
                or _("Proposer"),
                phone=row.proposer_phone if carries_identity else "",
            )
        ],
    )
    try:
        case_id = await register_case(inp, user, f"suggestion-{suggestion_id}")
    except CaseError as exc:
        raise SuggestionError(exc.message, exc.field) from exc
    async with write_transaction():
        await Suggestion.update(
            {
                Suggestion.status: "rerouted",
                Suggestion.case: case_id,
                Suggestion.version: row.version + 1,
            }
        ).where(Suggestion.id == suggestion_id)
        await _event(
            suggestion_id,
            user,
            "reroute",
            row.status,
            "rerouted",
            _("Handled as a dispute by the grid team."),
        )
        if row.confidential:
            await _event(
                suggestion_id,
                user,
                "identity_consent" if carries_identity else "identity_withheld",
                "rerouted",
                "rerouted",
                _(
                    "The proposer agreed that their name and phone go to the case: %(how)s",
                    how=identity_consent,
                )
                if carries_identity
                else _("The case does not name the proposer: no consent was recorded."),
                public=False,
            )
        await _hand_group_on(user, suggestion_id, row.tracking_code)
    from mediation.cases.services import record_event

    await record_event(
        case_id, user, "from_suggestion", changes={"suggestion": [None, row.tracking_code]}
    )
    return case_id


async def department_choices() -> list[tuple[str, str]]:
    rows = (
        await Department.select(Department.id, Department.name)
        .where(Department.active.eq(True))
        .order_by(Department.code)
    )
    return [(str(r["id"]), r["name"]) for r in rows]


async def grid_choices(user: CurrentUser) -> list[tuple[str, str]]:
    query = Grid.select(Grid.id, Grid.name, Grid.region.path).order_by(Grid.code)
    rows = await query
    return [(str(r["id"]), r["name"]) for r in rows if user.can_see_path(r["region.path"])]


BOARD_OUTCOMES = ("adopted", "partly_adopted")


def _board_query(query):
    return query.where(
        Suggestion.outcome.is_in(list(BOARD_OUTCOMES)),
        Suggestion.consent_to_publish.eq(True),
    )


async def board_departments() -> list[tuple[int, str]]:
    """Departments that have answered at least one published suggestion (the board's filter)."""
    rows = await _board_query(
        Suggestion.select(Suggestion.department.id, Suggestion.department.name).distinct()
    )
    return sorted(
        {(r["department.id"], r["department.name"]) for r in rows if r["department.id"]},
        key=lambda pair: pair[1],
    )


async def public_board(
    limit: int = 50, category: str = "", outcome: str = "", department: int | None = None
) -> list[dict]:
    """Adopted suggestions whose proposers agreed to publication: topic, gist, outcome, body;
    citizens may narrow them by subject area, outcome and answering department."""
    query = _board_query(
        Suggestion.select(
            Suggestion.title,
            Suggestion.measures,
            Suggestion.outcome,
            Suggestion.category,
            Suggestion.department.name,
            Suggestion.replied_at,
        )
    )
    if category:
        query = query.where(Suggestion.category == category)
    if outcome in BOARD_OUTCOMES:
        query = query.where(Suggestion.outcome == outcome)
    if department:
        query = query.where(Suggestion.department == department)
    rows = await query.order_by(Suggestion.replied_at, ascending=False).limit(limit)
    for row in rows:
        row["gist"] = _gist(row.pop("measures"))
        row["title"] = _gist(row["title"], 100)
    return rows


def _gist(text: str, limit: int = 120) -> str:
    from mediation.suggestions.open311 import scrub

    text = scrub(text)
    return text if len(text) <= limit else text[:limit] + "…"


async def sweep_suggestions(on: date | None = None) -> int:
    """Mark suggestions past their routing or conclusion deadline; safe to repeat."""
    on = on or today()
    late_route = Suggestion.status.is_in(["received", "registered"]) & (Suggestion.route_due < on)
    late_conclude = Suggestion.status.is_in(
        ["received", "registered", "transferred", "handling"]
    ) & (Suggestion.conclude_due < on)
    rows = (
        await Suggestion.update({Suggestion.overdue: True})
        .where(Suggestion.overdue.eq(False) & (late_route | late_conclude))
        .returning(Suggestion.id)
    )
    return len(rows)
