"""Reading suggestions for Open311: the list, one request, a published photo, and the
translation of our rows into the spec's service requests (``open311.service_request_out``
decides what goes out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from piccolo.querystring import QueryString

from mediation import i18n
from mediation.db import fields_of
from mediation.suggestions import open311, rules
from mediation.suggestions.categories import category_name
from mediation.suggestions.open311_documents import ServiceRequest
from mediation.suggestions.tables import Suggestion, SuggestionPhoto

BASE_PATH = "/open311/v2"
# Filed without measures (the spec has no such field): not shown back as measures.
NO_MEASURES = "（未单独填写对策建议，详见主要事由。）"

_COLUMNS = (
    Suggestion.id,
    Suggestion.tracking_code,
    Suggestion.status,
    Suggestion.category,
    Suggestion.title,
    Suggestion.reason,
    Suggestion.measures,
    Suggestion.proposer_name,
    Suggestion.proposer_phone,
    Suggestion.proposer_email,
    Suggestion.confidential,
    Suggestion.consent_to_publish,
    Suggestion.reply_text,
    Suggestion.created_at,
    Suggestion.route_due,
    Suggestion.conclude_due,
    Suggestion.address,
    Suggestion.address_id,
    Suggestion.lat,
    Suggestion.long,
    Suggestion.media_url,
    Suggestion.department._.name,
    Suggestion.region._.code,
    Suggestion.region._.name,
    Suggestion.region._.parent._.name,
    Suggestion.region._.parent._.parent._.name,
    # Read with the row rather than by two more queries over the page's ids.
    QueryString(
        '(SELECT max(e."at") FROM suggestion_event e'
        ' WHERE e.suggestion = "suggestion"."id" AND e.public = {})',
        True,
    ).as_alias("last_public_change"),
    QueryString(
        '(SELECT min(f.id) FROM suggestion_photo f WHERE f.suggestion = "suggestion"."id")'
    ).as_alias("first_photo"),
)
_JOINED = {
    "department.name": "department_name",
    "region.code": "region_code",
    "region.name": "region_name",
    "region.parent.name": "region_parent_name",
    "region.parent.parent.name": "region_grandparent_name",
}


@dataclass(frozen=True, slots=True)
class RequestRow:
    """What Open311 reads of a suggestion (see ``tables.Suggestion``): the area's names from
    the most specific up; the proposer's details only to scrub them out of the text."""

    id: int
    tracking_code: str
    status: str
    category: str
    title: str
    reason: str
    measures: str
    proposer_name: str
    proposer_phone: str
    proposer_email: str
    confidential: bool
    consent_to_publish: bool
    reply_text: str
    created_at: datetime
    route_due: date
    conclude_due: date
    address: str
    address_id: str
    lat: float | None
    long: float | None
    media_url: str
    department_name: str | None
    region_code: str | None
    region_name: str | None
    region_parent_name: str | None
    region_grandparent_name: str | None
    # When the proposer last saw a change (the newest public event), and the first photo.
    last_public_change: datetime | None
    first_photo: int | None


@dataclass(frozen=True, slots=True)
class PublishedPhoto:
    """A photo a proposer agreed to publish, as stored."""

    id: int
    stored_as: str


def notice(status: rules.SuggestionStatus, route_due: date, conclude_due: date) -> str | None:
    """What the deadline policy promises next, for a request still on its way to a reply."""
    if status in (rules.SuggestionStatus.RECEIVED, rules.SuggestionStatus.REGISTERED):
        return i18n.gettext(
            "To be passed to the department in charge by %(route)s and concluded by %(due)s.",
            route=route_due.isoformat(),
            due=conclude_due.isoformat(),
        )
    if status in (rules.SuggestionStatus.TRANSFERRED, rules.SuggestionStatus.HANDLING):
        return i18n.gettext(
            "With the department in charge; to be concluded by %(due)s.",
            due=conclude_due.isoformat(),
        )
    return None


def _record(
    row: RequestRow, updated_at: datetime | None, media_url: str | None = None
) -> dict[str, Any]:
    """The record ``open311.service_request_out`` reads (its keys are listed there)."""
    status = rules.SuggestionStatus(row.status)
    public = row.consent_to_publish and not row.confidential
    place = [
        name
        for name in (row.region_name, row.region_parent_name, row.region_grandparent_name)
        if name
    ]
    # Most specific first, as the spec asks: the address given, then the area's names.
    address = "，".join([row.address, *place] if row.address else place)
    waiting = not rules.is_finished(status) and status is not rules.SuggestionStatus.REPLIED
    return {
        "tracking_code": row.tracking_code,
        "status": status.value,
        "status_notes": row.reply_text
        if public and status in rules.RATEABLE and row.reply_text
        else None,
        "category_code": row.category or None,
        "category_name": category_name(row.category),
        "topic": row.title,
        "reason": row.reason,
        "measures": "" if row.measures == NO_MEASURES else row.measures,
        "department_name": row.department_name,
        "service_notice": notice(status, row.route_due, row.conclude_due) if waiting else None,
        "received_at": row.created_at,
        "updated_at": updated_at,
        "conclude_due": row.conclude_due if waiting else None,
        "address": address or None,
        "address_id": row.address_id or row.region_code,
        "lat": row.lat,
        "long": row.long,
        "media_url": media_url or row.media_url or None,
        "confidential": row.confidential,
        "consent_to_publish": row.consent_to_publish,
        # Read only to scrub them out of the text.
        "name": row.proposer_name,
        "phone": row.proposer_phone,
        "email": row.proposer_email,
    }


async def service_requests(base_url: str, rows: list[RequestRow]) -> list[ServiceRequest]:
    """The rows as the spec's service requests (what goes out decided by
    ``open311.service_request_out``), with their first published photo's ``media_url``."""
    base = base_url.rstrip("/") + BASE_PATH
    out = []
    for r in rows:
        media = None
        if r.first_photo is not None:
            media = f"{base}/media/{r.tracking_code}/{r.first_photo}.jpg"
        record = _record(r, r.last_public_change, media)
        out.append(msgspec.convert(open311.service_request_out(record), ServiceRequest))
    return out


def _request_row(row: dict) -> RequestRow:
    changed = row["last_public_change"]
    if isinstance(changed, str):  # SQLite gives an expression's value as text
        row["last_public_change"] = datetime.fromisoformat(changed)
    return RequestRow(**fields_of(row, _JOINED))


async def find_requests(params: dict[str, Any]) -> list[RequestRow]:
    """The rows of GET requests for checked ``open311.parse_list_params`` params: the given
    receipt codes, or the newest ``limit`` in the date window, statuses and services."""
    select = Suggestion.select(*_COLUMNS)
    if params["service_request_ids"]:
        select = select.where(Suggestion.tracking_code.is_in(params["service_request_ids"]))
    else:
        select = select.where(
            Suggestion.created_at >= params["start"],
            Suggestion.created_at <= params["end"],
            Suggestion.status.is_in([s.value for s in params["suggestion_statuses"]]),
        )
        if params["service_codes"]:
            select = select.where(Suggestion.category.is_in(params["service_codes"]))
    rows = await select.order_by(Suggestion.created_at, ascending=False).limit(params["limit"])
    return [_request_row(r) for r in rows]


async def find_request(code: str | None) -> list[RequestRow]:
    """The row of one receipt code (a list of one, or empty)."""
    if not code:
        return []
    rows = await Suggestion.select(*_COLUMNS).where(Suggestion.tracking_code == code)
    return [_request_row(r) for r in rows]


async def published_photo(code: str | None, photo_file: str) -> PublishedPhoto | None:
    """The photo row behind a media_url (``<id>.jpg``), only if its proposer agreed to
    publication and asked for no confidentiality; None otherwise."""
    stem, _dot, extension = photo_file.rpartition(".")
    if not (code and stem.isdigit() and len(stem) < 12 and extension.lower() in ("jpg", "jpeg")):
        return None
    row = (
        await SuggestionPhoto.select(SuggestionPhoto.id, SuggestionPhoto.stored_as)
        .where(
            SuggestionPhoto.id == int(stem),
            SuggestionPhoto.suggestion._.tracking_code == code,
            SuggestionPhoto.suggestion._.consent_to_publish.eq(True),
            SuggestionPhoto.suggestion._.confidential.eq(False),
        )
        .first()
    )
    return None if row is None else PublishedPhoto(**row)
