"""Staff and department pages for people's suggestions: inbox, entry, detail, topics (the
direct-report points have theirs in ``point_controllers``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.services import CurrentUser
from mediation.cases import categories as case_categories
from mediation.cases.services import today
from mediation.clock import to_local
from mediation.db import write_transaction
from mediation.exports import workbook_bytes
from mediation.grid.services import record_audit, region_subtree
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext
from mediation.inputs import Page, db_id
from mediation.suggestions import photos, rules, services
from mediation.suggestions.categories import category_choices as suggestion_category_choices
from mediation.suggestions.categories import category_name as suggestion_category_name
from mediation.suggestions.services import SuggestionError
from mediation.suggestions.tables import (
    Suggestion,
    SuggestionEvent,
    SuggestionPhoto,
    SuggestionTopic,
)
from mediation.web import see_other, wants_fragment

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
STAFF_ROLES = services.STAFF_ROLES
INBOX_ROLES = (*STAFF_ROLES, "handler")
# What a department may do; everything else is the suggestion office's (services.move agrees).
DEPARTMENT_ACTIONS = ("start_handling", "reply")
# Suggestions that reach staff by these channels are typed in by staff.
STAFF_CHANNELS = (rules.Channel.PHONE, rules.Channel.LETTER, rules.Channel.HOTLINE_12345)
# Form fields that carry the facts of a move (named as the state machine names them).
FACT_FIELDS = (
    "reroute_to",
    "advice_text",
    "department",
    "outcome",
    "reply_text",
    "close_reason",
    "close_text",
)
ROUTING = ("received", "registered")
REWARD_CODES = {tier.code: tier for tier in rules.REWARD_TIERS}
EVENT_LABELS = {
    "received": rules.STATUS_LABELS[rules.SuggestionStatus.RECEIVED],
    "rated": lazy_gettext("Rated by the proposer"),
    "grouped": lazy_gettext("Grouped with a similar suggestion"),
    "ungrouped": lazy_gettext("Taken out of its group: handled on its own"),
    "regrouped": lazy_gettext("Its group has a new leading suggestion"),
    "member_joined": lazy_gettext("A similar suggestion joined this group"),
    "member_left": lazy_gettext("A suggestion left this group"),
    "reward": lazy_gettext("Reward decided"),
    "revealed_phone": lazy_gettext("Phone number shown in full"),
    "identity_consent": lazy_gettext("Identity passed to the case with consent"),
    "identity_withheld": lazy_gettext("Identity kept out of the case"),
}
LABELS = {
    "STATUS": rules.STATUS_LABELS,
    "ACTION": rules.ACTION_LABELS,
    "OUTCOME": rules.OUTCOME_LABELS,
    "CLOSE_REASON": rules.CLOSE_REASON_LABELS,
    "REROUTE": rules.REROUTE_LABELS,
    "CHANNEL": rules.CHANNEL_LABELS,
    "RATING": rules.RATING_LABELS,
    "EVENT": EVENT_LABELS,
    "REWARDS": REWARD_CODES,
}


def _is_department(user: CurrentUser) -> bool:
    return not user.has_role(*STAFF_ROLES)


def form_values(data: dict[str, Any]) -> dict[str, str]:
    """The form as plain strings; of a repeated field (hidden + checkbox) the last value."""
    values = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = value[-1] if value else ""
        if isinstance(value, str):
            values[key] = value
    return values


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _due(row: dict, on: date) -> tuple[date | None, bool]:
    """The deadline that matters now (routing, then conclusion) and whether it has passed."""
    if row["status"] in ROUTING:
        due = row["route_due"]
    elif not rules.is_finished(row["status"]) and row["status"] != "replied":
        due = row["conclude_due"]
    else:
        return None, bool(row.get("overdue"))
    return due, bool(row.get("overdue")) or due < on


async def _with_due_dates(rows: list[dict]) -> list[dict]:
    """staff_list leaves out the clocks: add them for the page's rows in one query."""
    if not rows:
        return rows
    clocks = await Suggestion.select(
        Suggestion.id, Suggestion.route_due, Suggestion.conclude_due
    ).where(Suggestion.id.is_in([r["id"] for r in rows]))
    by_id = {c["id"]: c for c in clocks}
    on = today()
    for row in rows:
        row.update(by_id.get(row["id"], {}))
        row["due"], row["late"] = _due(row, on)
    return rows


async def region_choices(user: CurrentUser) -> list[tuple[str, str]]:
    """The regions the user may choose from (their own area's subtree), as a tree."""
    rows = await region_subtree(user.region_path)
    top = min((r.path.count("/") for r in rows), default=0)
    # Indent by depth so a town's villages read as a tree in a plain <select>.
    return [(str(r.id), "\u3000" * (r.path.count("/") - top) + r.name) for r in rows]


def _category_choices() -> list[tuple[str, str]]:
    return case_categories.current().intake_choices()


# ---------------------------------------------------------------- small services of this page


async def award_reward(user: CurrentUser, suggestion_id: int, tier: str) -> None:
    """Record the reward tier of an adopted suggestion (staff only; not shown to the citizen)."""
    row = await services.suggestion_for_staff(user, suggestion_id)
    if row is None or _is_department(user):
        raise SuggestionError(_("This suggestion does not exist."))
    if tier not in REWARD_CODES:
        raise SuggestionError(_("Choose from the list."), "reward_tier")
    if not rules.reward_allowed(row.outcome):
        raise SuggestionError(
            _("Only an adopted or partly adopted suggestion can be rewarded."), "reward_tier"
        )
    async with write_transaction():
        await Suggestion.update(
            {Suggestion.reward_tier: tier, Suggestion.version: row.version + 1}
        ).where(Suggestion.id == suggestion_id)
        await SuggestionEvent.insert(
            SuggestionEvent(
                suggestion=suggestion_id,
                actor=user.id,
                action="reward",
                from_status=row.status,
                to_status=row.status,
                note=tier,
                public=False,
            )
        )


async def reveal_phone(user: CurrentUser, suggestion_id: int) -> str:
    """The proposer's phone in full, for a call back; each reveal is written down."""
    row = await services.suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise NotFoundException()
    if row.proposer_phone:
        await SuggestionEvent.insert(
            SuggestionEvent(
                suggestion=suggestion_id,
                actor=user.id,
                action="revealed_phone",
                from_status=row.status,
                to_status=row.status,
                public=False,
            )
        )
    return row.proposer_phone


@dataclass(frozen=True, slots=True)
class GroupLink:
    """A suggestion of the same group, as the detail page links to it."""

    id: int
    tracking_code: str
    title: str
    status: str = ""


@dataclass(frozen=True, slots=True)
class SuggestionGroup:
    """The group a suggestion belongs to: its leader, or the members it leads."""

    leader: GroupLink | None
    members: tuple[GroupLink, ...]


async def _group(row: services.SuggestionDetail) -> SuggestionGroup:
    """The group this suggestion belongs to: its leader, or the members it leads."""
    leader = None
    if row.group_leader:
        leader = (
            await Suggestion.select(Suggestion.id, Suggestion.tracking_code, Suggestion.title)
            .where(Suggestion.id == row.group_leader)
            .first()
        )
    members = await Suggestion.select(
        Suggestion.id, Suggestion.tracking_code, Suggestion.title, Suggestion.status
    ).where(Suggestion.group_leader == row.id)
    return SuggestionGroup(
        leader=GroupLink(**leader) if leader else None,
        members=tuple(GroupLink(**m) for m in members),
    )


async def _similar(
    user: CurrentUser, row: services.SuggestionDetail, group: SuggestionGroup
) -> list[services.SimilarSuggestion]:
    """Similar suggestions the user may group with (the finder does not know about scopes)."""
    grouped = {m.id for m in group.members} | {row.group_leader}
    shown = []
    for s, place in await services.similar_with_places(row):
        if place.region_path and not user.can_see_path(place.region_path):
            continue
        s.in_group = s.id in grouped or (
            bool(row.group_leader) and place.group_leader == row.group_leader
        )
        shown.append(s)
    return shown


def _facts(data: dict) -> dict[str, str]:
    typed = {k: str(data.get(k) or "").strip() for k in FACT_FIELDS}
    return {k: v for k, v in typed.items() if v}


# ---------------------------------------------------------------- inbox, entry, detail


FILTER_PARAMS = (
    "channel",
    "point",
    "department",
    "region",
    "date_from",
    "date_to",
    "outcome",
    "rating",
    "reward",
    "routed",
    "replied",
    "reopened",
    "q",
)


async def list_filters(request: Request) -> tuple[services.ListFilters, dict[str, str]]:
    """The list's narrowing from the query (what the dashboard's figures link to), and the
    values kept for the form and the page links. Unknown values are ignored."""
    from mediation.inputs import db_id

    raw = {k: str(request.query_params.get(k, ""))[:64] for k in FILTER_PARAMS}
    f = services.ListFilters()
    args: dict[str, str] = {}
    if raw["channel"] in {str(c.value) for c in rules.Channel}:
        f.channel = args["channel"] = raw["channel"]
    for name in ("point", "department"):
        value = db_id(raw[name])
        if value:
            setattr(f, name, value)
            args[name] = str(value)
    if raw["region"]:
        row = await Region.select(Region.path).where(Region.code == raw["region"]).first()
        if row:
            f.region_path, args["region"] = row["path"], raw["region"]
    for name in ("date_from", "date_to"):
        try:
            setattr(f, name, date.fromisoformat(raw[name]))
            args[name] = raw[name]
        except ValueError:
            pass
    outcomes = tuple(o for o in raw["outcome"].split(",") if o in rules.OUTCOME_LABELS)
    if outcomes:
        f.outcomes, args["outcome"] = outcomes, ",".join(outcomes)
    if raw["rating"] in rules.RATING_LABELS:
        f.rating = args["rating"] = raw["rating"]
    if raw["reward"] in REWARD_CODES:
        f.reward = args["reward"] = raw["reward"]
    for name in ("routed", "replied", "reopened"):
        if raw[name]:
            setattr(f, name, True)
            args[name] = "1"
    if raw["q"].strip():
        f.q = args["q"] = raw["q"].strip()
    return f, args


class SuggestionStaffController(Controller):
    """The suggestion office's list and the department's inbox share one URL; services scope it."""

    path = "/suggestions"
    guards = [requires_role(*INBOX_ROLES)]
    include_in_schema = False

    @get("/")
    async def suggestion_list(
        self, request: Request, status: FromQuery[str] = "", page: Page = 1
    ) -> Template:
        user = current_user(request)
        if status not in {s.value for s in rules.SuggestionStatus}:
            status = ""
        page = max(page, 1)
        filters, filter_args = await list_filters(request)
        rows, has_more = await services.staff_list(user, status, page, filters=filters)
        context = {
            "rows": await _with_due_dates(rows),
            "has_more": has_more,
            "page": page,
            "args": {**filter_args, **({"status": status} if status else {})},
            "filter_args": filter_args,
            "filter_dates": {"start": filters.date_from, "end": filters.date_to},
            "is_department": _is_department(user),
            "L": LABELS,
        }
        if wants_fragment(request):
            return Template("suggestions/staff/partials/_rows.html", context=context)
        return Template("suggestions/staff/list.html", context=context)

    @get("/export.xlsx")
    async def export(self, request: Request, status: FromQuery[str] = "") -> Response:
        """The list as a spreadsheet (same scope and redaction as the pages); logged."""
        user = current_user(request)
        if status not in {s.value for s in rules.SuggestionStatus}:
            status = ""
        filters, filter_args = await list_filters(request)
        from mediation.documents.pdf import run_from_database

        # Read and built in a printing process: a county's suggestions must stall neither the
        # app's event loop (reading and decoding the rows) nor its CPU (the workbook).
        body, count = await run_from_database(
            services.export_rows, counted_workbook, user, status, filters
        )
        await record_audit(
            user,
            "export",
            "suggestion",
            "",
            None,
            {"rows": count, **filter_args},
            status,
        )
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": 'attachment; filename="suggestions.xlsx"',
                "Cache-Control": "no-store",
            },
        )

    @get("/new", guards=[requires_role(*STAFF_ROLES)])
    async def new_suggestion(self, request: Request) -> Template:
        values = {"channel": rules.Channel.PHONE.value}
        return await _entry_form(request, values, {})

    @post("/new", guards=[requires_role(*STAFF_ROLES)])
    async def submit(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        values = form_values(data)
        values.pop("website", None)  # the citizen form's robot trap does not apply to staff
        channel = values.get("channel", "")
        errors: dict[str, str] = {}
        if channel not in {c.value for c in STAFF_CHANNELS}:
            errors["channel"] = _("Choose from the list.")
        if values.get("region") and values["region"] not in {
            key for key, _label in await region_choices(user)
        }:
            errors["region"] = _("Choose from the list.")
        receipt = None
        if not errors:
            _cleaned, errors, receipt = await services.submit_suggestion(
                values, channel, actor=user
            )
        if receipt is None:
            return await _entry_form(request, values, errors, 422)
        code, secret = receipt
        # The secret is shown once and never stored in clear; the session carries it to the
        # next page so a reload of that page does not file the suggestion twice.
        request.set_session({**request.session, "suggestion_receipt": [code, secret]})
        return see_other("/suggestions/new/receipt")

    @get("/new/receipt", guards=[requires_role(*STAFF_ROLES)])
    async def receipt(self, request: Request) -> Template | Redirect:
        session = dict(request.session)
        receipt = session.pop("suggestion_receipt", None)
        if not receipt:
            return see_other("/suggestions")
        request.set_session(session)
        code, secret = receipt
        row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
        return Template(
            "suggestions/staff/receipt.html",
            context={"code": code, "secret": secret, "suggestion_id": row["id"] if row else None},
        )

    @get("/{suggestion_id:int}")
    async def detail(self, request: Request, suggestion_id: FromPath[int]) -> Template:
        return await _detail(request, suggestion_id, {})

    @get("/{suggestion_id:int}/photos/{photo_id:int}")
    async def photo(
        self, request: Request, suggestion_id: FromPath[int], photo_id: FromPath[int]
    ) -> Response:
        """A photo, to whoever may see the suggestion (departments included: no metadata)."""
        if await services.suggestion_for_staff(current_user(request), suggestion_id) is None:
            raise NotFoundException()
        row = (
            await SuggestionPhoto.select(SuggestionPhoto.stored_as)
            .where(SuggestionPhoto.id == photo_id, SuggestionPhoto.suggestion == suggestion_id)
            .first()
        )
        data_dir = request.app.state.settings.data_dir
        content = await photos.read(data_dir, row["stored_as"]) if row else None
        if content is None:
            raise NotFoundException()
        return Response(
            content,
            media_type="image/jpeg",
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @post("/{suggestion_id:int}/move")
    async def move(
        self, request: Request, suggestion_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        data = form_values(data)
        action = str(data.get("action") or "")
        facts = _facts(data)
        tier = str(data.get("reward_tier") or "")
        try:
            if action == "reroute" and facts.get("reroute_to") == rules.RerouteTo.DISPUTE_CASE:
                await _reroute_to_case(user, suggestion_id, data)
            else:
                if action == "reply" and tier:
                    _check_reward_with_reply(user, tier, facts.get("outcome", ""))
                await services.move(user, suggestion_id, action, facts)
                if action == "reply" and tier:
                    await award_reward(user, suggestion_id, tier)
        except SuggestionError as exc:
            errors = _errors(exc, action)
            return await _detail(request, suggestion_id, errors, 422, data)
        return see_other(f"/suggestions/{suggestion_id}")

    @post("/{suggestion_id:int}/reward", guards=[requires_role(*STAFF_ROLES)])
    async def reward(
        self, request: Request, suggestion_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            await award_reward(
                current_user(request), suggestion_id, str(data.get("reward_tier") or "")
            )
        except SuggestionError as exc:
            errors = _errors(exc, "reward")
            return await _detail(request, suggestion_id, errors, 422, data)
        return see_other(f"/suggestions/{suggestion_id}")

    @post("/{suggestion_id:int}/group", guards=[requires_role(*STAFF_ROLES)])
    async def group(
        self, request: Request, suggestion_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        leader = str(data.get("leader") or "")
        try:
            if not leader.isdigit():
                raise SuggestionError(_("This suggestion does not exist."))
            await services.group_with(current_user(request), suggestion_id, int(leader))
        except SuggestionError as exc:
            return await _detail(request, suggestion_id, _errors(exc), 422)
        return see_other(f"/suggestions/{suggestion_id}")

    @post("/{suggestion_id:int}/ungroup", guards=[requires_role(*STAFF_ROLES)])
    async def ungroup(self, request: Request, suggestion_id: FromPath[int]) -> Template | Redirect:
        """Take a member out of its group; the page it came from is shown again."""
        try:
            await services.leave_group(current_user(request), suggestion_id)
        except SuggestionError as exc:
            return await _detail(request, suggestion_id, _errors(exc), 422)
        return see_other(f"/suggestions/{suggestion_id}")

    @post("/{suggestion_id:int}/phone")
    async def phone(self, request: Request, suggestion_id: FromPath[int]) -> Template:
        phone = await reveal_phone(current_user(request), suggestion_id)
        if wants_fragment(request):
            return Template("suggestions/staff/partials/_phone.html", context={"phone": phone})
        return await _detail(request, suggestion_id, {}, revealed_phone=phone)


def _errors(exc: SuggestionError, action: str = "") -> dict[str, str]:
    """The message beside its field (or atop the action's form) and, as a pointer, atop the page."""
    return {
        **exc.others,
        "action": action,
        "message": exc.message,
        exc.field or "form": exc.message,
    }


def _check_reward_with_reply(user: CurrentUser, tier: str, outcome: str) -> None:
    """Refuse a reward before the reply is written, so a refused reward loses nothing."""
    if _is_department(user):
        raise SuggestionError(_("A department handles and replies; other steps are for staff."))
    if tier not in REWARD_CODES:
        raise SuggestionError(_("Choose from the list."), "reward_tier")
    if not rules.reward_allowed(outcome):
        raise SuggestionError(
            _("Only an adopted or partly adopted suggestion can be rewarded."), "reward_tier"
        )


async def _reroute_to_case(user: CurrentUser, suggestion_id: int, data: dict) -> int:
    grid = str(data.get("grid") or "")
    if grid not in {key for key, _label in await services.grid_choices(user)}:
        raise SuggestionError(_("Choose from the list."), "grid")
    category = str(data.get("case_category") or "")
    if category not in case_categories.current().intake_codes:
        raise SuggestionError(_("Choose from the list."), "case_category")
    try:
        return await services.reroute_to_case(
            user, suggestion_id, int(grid), category, str(data.get("identity_consent") or "")
        )
    except SuggestionError as exc:
        # The case intake names its fields differently from this form.
        field = {"grid_id": "grid", "category": "case_category"}.get(exc.field, exc.field)
        raise SuggestionError(exc.message, field) from exc


def counted_workbook(rows: list[services.ExportRow]) -> tuple[bytes, int]:
    """The workbook of ``rows``, and how many rows it holds (for the export's audit line)."""
    return suggestions_workbook(rows), len(rows)


def _label(labels: Mapping[Any, Any], code: str) -> str:
    """A code's label (the label maps are keyed by str enums, equal to their codes)."""
    return str(labels.get(code, code))


def suggestions_workbook(rows: list[services.ExportRow]) -> bytes:
    """One sheet, a header row in the user's language, one row per suggestion."""
    header = [
        _("Tracking code"),
        _("Received on"),
        _("Received by"),
        _("Topic"),
        _("Main reason"),
        _("Proposed measures"),
        _("Subject area"),
        _("Area concerned"),
        _("Status"),
        _("Department"),
        _("Handling outcome"),
        _("Replied on"),
        _("Proposer"),
        _("Phone"),
    ]
    hidden = _("(confidential)")
    body = (
        [
            r.tracking_code,
            r.received_on,
            _label(rules.CHANNEL_LABELS, r.channel),
            r.title,
            r.reason,
            r.measures,
            suggestion_category_name(r.category) or r.category,
            r.region_name or "",
            _label(rules.STATUS_LABELS, r.status),
            r.department_name or "",
            _label(rules.OUTCOME_LABELS, r.outcome or ""),
            # Spreadsheets know no time zones: local time, as people read it.
            to_local(r.replied_at).replace(tzinfo=None) if r.replied_at else None,
            hidden if r.identity_hidden else r.proposer_name,
            hidden if r.identity_hidden else r.proposer_phone,
        ]
        for r in rows
    )
    return workbook_bytes(_("Suggestions"), header, body)


async def _entry_form(
    request: Request, values: dict, errors: dict, status_code: int = 200
) -> Template:
    user = current_user(request)
    topics = await services.open_topics()
    return Template(
        "suggestions/staff/new.html",
        context={
            "values": values,
            "errors": errors,
            "channel_choices": [(c.value, rules.CHANNEL_LABELS[c]) for c in STAFF_CHANNELS],
            "region_choices": await region_choices(user),
            "topic_choices": [(str(t.id), t.title) for t in topics],
            "suggestion_category_choices": suggestion_category_choices(),
        },
        status_code=status_code,
    )


async def _detail(
    request: Request,
    suggestion_id: int,
    errors: dict,
    status_code: int = 200,
    values: dict | None = None,
    revealed_phone: str = "",
) -> Template:
    user = current_user(request)
    row = await services.suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise NotFoundException()
    department = _is_department(user)
    # A reopening follows the citizen's rating, never a click in the office.
    actions = [a for a in row.actions if a != "reopen"]
    if department:
        actions = [a for a in actions if a in DEPARTMENT_ACTIONS]
    if row.group_leader:
        # A member moves with its leader (services.move refuses a step taken on it alone).
        actions = []
    group = await _group(row)
    staff_only: dict[str, Any] = {}
    if not department:
        staff_only = {
            "similar": await _similar(user, row, group) if row.status in ROUTING else [],
            "department_choices": await services.department_choices(),
            "grid_choices": await services.grid_choices(user) if "reroute" in actions else [],
            "case_category_choices": _category_choices(),
            "reward_choices": [(t.code, str(t.label)) for t in rules.REWARD_TIERS],
        }
    on = today()
    return Template(
        "suggestions/staff/detail.html",
        context={
            "s": row,
            "category_name": suggestion_category_name(row.category) or row.category,
            "photos": await services.photos_of(suggestion_id),
            "errors": errors,
            "values": values or {},
            "actions": actions,
            "is_department": department,
            "group": group,
            "revealed_phone": revealed_phone,
            "route_late": row.status in ROUTING and row.route_due < on,
            "conclude_late": row.status in ("received", "registered", "transferred", "handling")
            and row.conclude_due < on,
            "can_reward": not department
            and rules.reward_allowed(row.outcome)
            and row.status in ("replied", "concluded"),
            "L": LABELS,
            **staff_only,
        },
        status_code=status_code,
    )


# ---------------------------------------------------------------- thematic collections


class SuggestionTopicController(Controller):
    """专项征集: staff publish a topic with a closing date; citizens answer it."""

    path = "/suggestions/topics"
    guards = [requires_role(*STAFF_ROLES)]
    include_in_schema = False

    @get("/")
    async def topics(self, published: FromQuery[str] = "") -> Template:
        return await _topics_page({"opens_on": today().isoformat()}, {}, published=db_id(published))

    @post("/")
    async def create(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        values = form_values(data)
        errors: dict[str, str] = {}
        topic_id = 0
        opens_on = _parse_date(values.get("opens_on"))
        closes_on = _parse_date(values.get("closes_on"))
        for name, parsed in (("opens_on", opens_on), ("closes_on", closes_on)):
            if parsed is None:
                errors[name] = _("Enter a date.")
        if not values.get("title", "").strip():
            errors["title"] = _("This field is required.")
        if not errors and opens_on and closes_on:
            try:
                topic_id = await services.create_topic(
                    current_user(request),
                    values.get("title", ""),
                    values.get("description", ""),
                    opens_on,
                    closes_on,
                )
            except SuggestionError as exc:
                errors[exc.field or "title"] = exc.message
        if errors:
            return await _topics_page(values, errors, 422)
        return see_other(f"/suggestions/topics?published={topic_id}")


async def _topics_page(
    values: dict, errors: dict, status_code: int = 200, published: int | None = None
) -> Template:
    topics = await SuggestionTopic.select().order_by(SuggestionTopic.closes_on, ascending=False)
    on = today()  # the county's (Beijing) date: a call closes at the end of its last day there
    for t in topics:
        if t["published"] and t["closes_on"] < on:
            t["state"] = "closed"
        elif t["published"] and t["opens_on"] <= on:
            t["state"] = "open"
        else:
            t["state"] = "not_open"
    just_published = next((t for t in topics if published and t["id"] == published), None)
    return Template(
        "suggestions/staff/topics.html",
        context={
            "topics": topics,
            "values": values,
            "errors": errors,
            "just_published": just_published,
        },
        status_code=status_code,
    )
