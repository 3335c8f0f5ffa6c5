"""Reading suggestions as the office or a department does: one suggestion, the filtered
list, its export rows, and similar suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mediation.accounts.services import CurrentUser
from mediation.cases.services import today
from mediation.db import PreparedSelect, fields_of
from mediation.inputs import contains
from mediation.masking import mask_phone
from mediation.suggestions import rules, similarity
from mediation.suggestions.common import STAFF_ROLES
from mediation.suggestions.tables import Suggestion, SuggestionEvent

# What a department may see of a suggestion: never the proposer when it is confidential.
IDENTITY_FIELDS = ("proposer_name", "proposer_phone", "proposer_email", "account_id")


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
            *Suggestion.all_columns(exclude=[Suggestion.secret_digest, Suggestion.idempotency_key]),
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
