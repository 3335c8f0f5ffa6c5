"""Case pages: my work, the filtered list, the detail page and every move on a case."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from markupsafe import Markup

from mediation import i18n
from mediation.accounts.guards import current_user, requires_role
from mediation.cases import categories, holidays, services, workdays, workflow
from mediation.cases import labels as case_labels
from mediation.grid.services import grid_choices_for
from mediation.i18n import gettext as _
from mediation.inputs import Page, db_id
from mediation.reports.labels import MEASURE_LABELS
from mediation.roles import CASE_ROLES, MANAGE_ROLES
from mediation.templating import environment
from mediation.web import see_other, wants_fragment

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _facts_from_form(action: str, data: dict) -> dict:
    """Only the facts the state machine knows, taken from the action's form."""
    facts: dict[str, Any] = {}
    for key in (
        "decline_reason",
        "decline_text",
        "agreement_form",
        "termination_reason",
        "termination_text",
        "referral_advice",
    ):
        raw = data.get(key, "")
        # Several channels may be advised at once: checkboxes send a list.
        value = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw).strip()
        if value:
            facts[key] = value
    if action == "close":
        facts["follow_up_recorded"] = bool(data.get("follow_up_recorded"))
    return facts


# Rendered filter forms by (locale, grid menu, chosen filters). The form is the same for every
# request with the same choices, and it is most of the list page's rendering time. An entry
# lives as long as the grid menu it was rendered with (that menu is itself cached briefly).
_FILTER_FORMS: OrderedDict[tuple, tuple[list, Markup]] = OrderedDict()
_FILTER_FORMS_MAX = 512


def filter_form(grid_choices: list[tuple[str, str]], args: dict[str, str]) -> Markup:
    category_list = categories.current()
    key = (
        i18n.get_locale(),
        category_list.version,
        id(grid_choices),
        tuple(sorted(args.items())),
    )
    hit = _FILTER_FORMS.get(key)
    if hit is not None and hit[0] is grid_choices:
        _FILTER_FORMS.move_to_end(key)
        return hit[1]
    html = Markup(
        environment()
        .get_template("cases/partials/_filters.html")
        .render(
            args=args,
            grid_choices=grid_choices,
            category_choices=category_list.filter_choices(),
            event_choices=[("", _("Registration")), *MEASURE_LABELS.items()],
        )
    )
    _FILTER_FORMS[key] = (grid_choices, html)
    while len(_FILTER_FORMS) > _FILTER_FORMS_MAX:
        _FILTER_FORMS.popitem(last=False)
    return html


@lru_cache(maxsize=8)
def _row_labels(locale: str, category_list: categories.CategoryList) -> dict[str, dict[str, str]]:
    """Every label a list row shows, translated once per locale and list of categories."""
    token = i18n.set_locale(locale)
    try:
        return {
            "status": {str(k): str(v) for k, v in workflow.STATUS_LABELS.items()},
            "level": {str(k): str(v) for k, v in workflow.LEVEL_LABELS.items()},
            "colour": {k: str(v) for k, v in case_labels.COLOUR_LABELS.items()},
            "category": {c.code: c.label(locale) for c in category_list.all},
        }
    finally:
        i18n.reset_locale(token)


@dataclass(slots=True)
class CaseRowView:
    """A list row as shown: labels and the date are display text already."""

    id: int
    number: str
    summary: str
    meta: str
    status: str
    overdue: bool
    colour: str
    colour_label: str
    registered: str


def row_views(rows: list[services.CaseRow]) -> list[CaseRowView]:
    """List rows with their labels and dates as display text (lists render many rows)."""
    labels = _row_labels(i18n.get_locale(), categories.current())
    status, level, colour, category = (
        labels["status"],
        labels["level"],
        labels["colour"],
        labels["category"],
    )
    return [
        CaseRowView(
            id=r.id,
            number=r.number,
            summary=r.summary,
            meta=" · ".join(
                (
                    category.get(r.category, r.category),
                    r.grid_name,
                    level.get(r.level, r.level),
                )
            ),
            status=status.get(r.status, r.status),
            overdue=r.overdue,
            colour=r.colour,
            colour_label=colour.get(r.colour, r.colour),
            registered=i18n.format_date(r.registered_on),
        )
        for r in rows
    ]


# Who may take the case list away as a spreadsheet (no personal data is in it, but summaries
# are free text): the centre's staff.
EXPORT_ROLES = ("centre_staff",)

# The list's query arguments, by name: a filter each (``page``, ``after`` and ``before`` page).
LIST_ARGS = (
    "status",
    "colour",
    "category",
    "level",
    "grid",
    "source",
    "overdue",
    "date_from",
    "date_to",
    "q",
    "event",
    "region",
    "agreement_form",
    "mediator",
    "assignment",
)


@dataclass(frozen=True, slots=True)
class ListedCases:
    """The case list's query, read: the filters, the arguments that reproduce them (links,
    the filter form, the export) and the name of the area chosen."""

    filters: services.CaseFilters
    args: dict[str, str]
    area_name: str


async def _listed(request: Request, page: int) -> ListedCases:
    query = {name: str(request.query_params.get(name) or "") for name in LIST_ARGS}
    after, before = (str(request.query_params.get(k) or "") for k in ("after", "before"))
    query["event"] = query["event"] if query["event"] in services.CASE_EVENTS else ""
    if query["assignment"] not in services.ASSIGNMENT_FILTERS:
        query["assignment"] = ""
    mediator_id = db_id(query["mediator"])
    query["mediator"] = str(mediator_id) if mediator_id else ""
    if query["agreement_form"] not in ("written", "oral"):
        query["agreement_form"] = ""
    area = await services.region_for_filter(query["region"])
    query["region"] = area.code if area else ""
    filters = services.CaseFilters(
        status=query["status"],
        colour=query["colour"],
        category=query["category"],
        level=query["level"],
        grid=db_id(query["grid"]),
        source=query["source"],
        overdue=bool(query["overdue"]),
        date_from=_date(query["date_from"]),
        date_to=_date(query["date_to"]),
        q=query["q"][:100],
        page=max(page, 1),
        event=query["event"],
        region_path=area.path if area else "",
        agreement_form=query["agreement_form"],
        after=db_id(after) if page > 1 else None,
        before=db_id(before) if page > 1 else None,
        mediator=mediator_id,
        assignment=query["assignment"],
    )
    args = {k: v for k, v in query.items() if v}
    return ListedCases(filters, args, area.name if area else "")


def cases_workbook(
    rows: list[services.CaseRow], locale: str, labels: dict[str, dict[str, str]]
) -> tuple[bytes, int]:
    """The exported list (in a printing process): a header row in the user's language, one row
    per case, labels as the list shows them; how many rows it holds."""
    from mediation.exports import workbook_bytes

    token = i18n.set_locale(locale)
    try:
        header = [
            _("Case number"),
            _("Registered on"),
            _("Dispute category"),
            _("Summary"),
            _("Grid"),
            _("Level"),
            _("Status"),
            _("Risk"),
            _("Overdue"),
        ]
        body = workbook_bytes(
            _("Cases"),
            header,
            (
                [
                    r.number,
                    r.registered_on,
                    labels["category"].get(r.category, r.category),
                    r.summary,
                    r.grid_name,
                    labels["level"].get(r.level, r.level),
                    labels["status"].get(r.status, r.status),
                    labels["colour"].get(r.colour, r.colour),
                    _("Yes") if r.overdue else "",
                ]
                for r in rows
            ),
        )
    finally:
        i18n.reset_locale(token)
    return body, len(rows)


class CaseController(Controller):
    path = "/cases"
    guards = [requires_role(*CASE_ROLES)]
    include_in_schema = False

    @get("/")
    async def case_list(self, request: Request, page: Page = 1) -> Template:
        user = current_user(request)
        listed = await _listed(request, page)
        rows, has_more = await services.list_cases(user, listed.filters)
        context = {
            "rows": row_views(rows),
            "has_more": has_more,
            "page": listed.filters.page,
            "args": listed.args,
            # The centre hands lists on (to a leader, a meeting): the list as a spreadsheet.
            "export_limit": services.EXPORT_LIMIT if user.has_role(*EXPORT_ROLES) else 0,
        }
        if wants_fragment(request):
            return Template("cases/partials/_rows.html", context=context)
        context["filter_form"] = filter_form(await grid_choices_for(user), listed.args)
        context["area_name"] = listed.area_name
        context["mediator_name"] = (
            await services.mediator_name(listed.filters.mediator) if listed.filters.mediator else ""
        )
        return Template("cases/list.html", context=context)

    @get("/export.xlsx", guards=[requires_role(*EXPORT_ROLES)])
    async def export(self, request: Request) -> Response:
        """Every case of the list as filtered (same scope; no personal data), newest first, up
        to ``EXPORT_LIMIT``, read and built in a printing process; logged."""
        from mediation.documents.pdf import run_from_database
        from mediation.grid.services import record_audit

        user = current_user(request)
        listed = await _listed(request, 1)
        # The labels as this process knows them (the categories are kept current here).
        locale = i18n.get_locale()
        finish = partial(
            cases_workbook, locale=locale, labels=_row_labels(locale, categories.current())
        )
        body, count = await run_from_database(services.export_cases, finish, user, listed.filters)
        await record_audit(user, "export", "case", "", None, {"rows": count, **listed.args}, "")
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": 'attachment; filename="cases.xlsx"',
                "Cache-Control": "no-store",
            },
        )

    @get("/mine")
    async def my_work(self, request: Request) -> Template:
        user = current_user(request)
        rows = row_views(await services.my_work(user))
        return Template("cases/mine.html", context={"rows": rows})

    @get("/{case_id:int}")
    async def case_page(self, request: Request, case_id: FromPath[int]) -> Template:
        return await render_detail(request, case_id, {})

    @post("/{case_id:int}/move", guards=[requires_role(*MANAGE_ROLES, "mediator", "volunteer")])
    async def move(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        user = current_user(request)
        action = str(data.get("action", ""))
        if action not in {a.value for a in workflow.CaseAction}:
            return await render_detail(request, case_id, {"form": _("Choose from the list.")}, 422)
        try:
            await services.transition_case(
                user,
                case_id,
                action,
                _facts_from_form(action, data),
                _int(data.get("version")),
                str(data.get("note", ""))[:1000],
            )
        except services.CaseError as exc:
            return await render_detail(
                request, case_id, {"form": exc.message, "action": action}, 422, data
            )
        return see_other(f"/cases/{case_id}")

    @post("/{case_id:int}/colour", guards=[requires_role(*MANAGE_ROLES)])
    async def colour(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            await services.change_colour(
                current_user(request),
                case_id,
                str(data.get("colour", "")),
                str(data.get("reason", "")),
                _int(data.get("version")),
            )
        except services.CaseError as exc:
            return await render_detail(
                request, case_id, {"form": exc.message, "action": "colour"}, 422, data
            )
        return see_other(f"/cases/{case_id}")

    @post("/{case_id:int}/mediators", guards=[requires_role(*MANAGE_ROLES)])
    async def assign(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            await services.assign_mediator(
                current_user(request), case_id, _int(data.get("mediator")) or 0
            )
        except services.CaseError as exc:
            return await render_detail(
                request, case_id, {"form": exc.message, "action": "assign"}, 422
            )
        return see_other(f"/cases/{case_id}")

    @post(
        "/{case_id:int}/mediators/{assignment_id:int}/objection",
        guards=[requires_role(*MANAGE_ROLES, "mediator", "volunteer")],
    )
    async def objection(
        self,
        request: Request,
        case_id: FromPath[int],
        assignment_id: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        try:
            await services.object_to_mediator(
                current_user(request), case_id, assignment_id, str(data.get("reason", ""))
            )
        except services.CaseError as exc:
            return await render_detail(
                request, case_id, {"form": exc.message, "action": "objection"}, 422
            )
        return see_other(f"/cases/{case_id}")

    @post(
        "/{case_id:int}/extension", guards=[requires_role(*MANAGE_ROLES, "mediator", "volunteer")]
    )
    async def extension(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            await services.extend_mediation(
                current_user(request),
                case_id,
                _int(data.get("days")) or 0,
                bool(data.get("applicant_consents")),
                bool(data.get("respondent_consents")),
                _int(data.get("version")),
            )
        except services.CaseError as exc:
            return await render_detail(
                request, case_id, {"form": exc.message, "action": "extension"}, 422, data
            )
        return see_other(f"/cases/{case_id}")

    @post("/{case_id:int}/parties/{party_id:int}/reveal/{field:str}")
    async def reveal(
        self,
        request: Request,
        case_id: FromPath[int],
        party_id: FromPath[int],
        field: FromPath[str],
    ) -> Template:
        try:
            value = await services.reveal_party_field(
                current_user(request), case_id, party_id, field
            )
        except services.CaseError as exc:
            raise NotFoundException() from exc
        return Template("cases/partials/_revealed.html", context={"value": value})


async def render_detail(
    request: Request, case_id: int, errors: dict, status_code: int = 200, values: dict | None = None
) -> Template:
    user = current_user(request)
    case = await services.case_detail(user, case_id)
    if case is None:
        raise NotFoundException()
    # The mediator ranking is worked out only where it is shown: on an open case with no
    # active mediator (someone has to be assigned), when staff ask for another one, or when an
    # assignment was just refused. Otherwise the page offers a link to it.
    suggestions = []
    may_assign = user.has_role(*MANAGE_ROLES) and workflow.is_open(case.status)
    has_mediator = any(m.active for m in case.mediators)
    # Mediators a party's objection took off the case: the sessions they were to preside
    # are marked, and an open case left without a mediator says it needs a new one.
    taken_off = services.taken_off_by_objection(
        (m.mediator, m.active, m.ended_reason) for m in case.mediators
    )
    show_ranking = may_assign and (
        not has_mediator
        or request.query_params.get("mediators") == "1"
        or errors.get("action") == "assign"
    )
    if show_ranking:
        suggestions = (await services.ranked_for_detail(case))[:5]
    from mediation.cases.agreements import STATUSES as AGREEMENT_STATUSES
    from mediation.cases.agreements import agreements_of_case, drafting_refused
    from mediation.cases.followups import METHODS as FOLLOW_UP_METHODS
    from mediation.cases.followups import (
        PERFORMANCE,
        SATISFACTION,
        follow_up_due_from,
        follow_ups_of_case,
        performance_applies,
    )
    from mediation.cases.materials import KINDS as MATERIAL_KINDS
    from mediation.cases.materials import materials_of_case
    from mediation.cases.sessions import OUTCOMES, sessions_of_case
    from mediation.cases.sessions import STATUS_LABELS as SESSION_STATUS_LABELS

    termination_number = case.termination_number
    if not termination_number and any(e.action == "terminate" for e in case.events):
        # Cases terminated before notices were numbered at termination get theirs now.
        from mediation.cases.followups import number_termination_notice

        termination_number = await number_termination_notice(user, case_id)
    agreements = await agreements_of_case(case_id)
    return Template(
        "cases/detail.html",
        context={
            "case": case,
            "errors": errors,
            "values": values or {},
            "suggestions": suggestions,
            "offer_ranking": may_assign and not show_ranking,
            "taken_off": taken_off,
            "needs_mediator": bool(taken_off)
            and not has_mediator
            and workflow.is_open(case.status),
            "can_manage": user.has_role(*MANAGE_ROLES),
            "can_mediate": user.has_role(*MANAGE_ROLES, "mediator", "volunteer"),
            "sessions": await sessions_of_case(case_id),
            "OUTCOMES": OUTCOMES,
            "SESSION_STATUS_LABELS": SESSION_STATUS_LABELS,
            "termination_number": termination_number,
            "agreements": agreements,
            "AGREEMENT_STATUSES": AGREEMENT_STATUSES,
            "follow_ups": await follow_ups_of_case(case_id),
            "PERFORMANCE": PERFORMANCE,
            "SATISFACTION": SATISFACTION,
            "FOLLOW_UP_METHODS": FOLLOW_UP_METHODS,
            "materials": await materials_of_case(case_id),
            "drafting_refused": drafting_refused(case.mediation_started_on, case.status),
            "follow_up_due": follow_up_due_from(case.status, agreements),
            "follow_up_performance": performance_applies(
                case.outcome, [a.status for a in agreements]
            ),
            "MATERIAL_KINDS": MATERIAL_KINDS,
        },
        status_code=status_code,
    )


class NotificationController(Controller):
    path = "/notifications"
    include_in_schema = False

    @get("/")
    async def inbox(self, request: Request) -> Template:
        user = current_user(request)
        items = await services.notifications_for(user)
        return Template("cases/notifications.html", context={"items": items})

    @post("/read")
    async def mark_read(self, request: Request) -> Redirect:
        await services.mark_notifications_read(current_user(request))
        return see_other("/notifications")

    @get("/count")
    async def count(self, request: Request) -> Template:
        n = await services.unread_count(current_user(request))
        return Template("cases/partials/_counter.html", context={"unread": n})


class DeadlinePolicyController(Controller):
    """The deadline policy is data: the administrator edits it here, validated before saving."""

    path = "/admin/deadlines"
    guards = [requires_role("admin")]
    include_in_schema = False

    @get("/")
    async def policy_page(self) -> Template:
        body = await services.current_policy_json()
        problem = await services.stored_policy_problem()
        return await _policy_page(body, {"body": problem} if problem else {})

    @post("/")
    async def save(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        text = str(data.get("body", ""))
        try:
            await services.save_policy_text(current_user(request), text)
        except services.CaseError as exc:
            return await _policy_page(text, {"body": exc.message}, 422)
        return see_other("/admin/deadlines?saved=1")


async def _policy_page(body: str, errors: dict, status_code: int = 200) -> Template:
    """The policy editor, with the category codes the policy may name beside their names."""
    from mediation.cases.category_store import refresh_categories

    return Template(
        "cases/deadlines.html",
        context={
            "body": body,
            "errors": errors,
            "category_codes": (await refresh_categories()).filter_choices(),
        },
        status_code=status_code,
    )


class HolidayCalendarController(Controller):
    """Official holidays and make-up working days per year, as the State Council publishes them."""

    path = "/admin/holidays"
    guards = [requires_role("admin")]
    include_in_schema = False

    @get("/")
    async def calendar_page(self, year: FromQuery[int | None] = None) -> Template:
        values: dict[str, Any] = {}
        if year is not None and workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR:
            # A year entered before comes back as CSV to correct; a new one starts empty.
            source = await holidays.year_source(year)
            values = {"year": str(year), "source": source or "", "schedule": ""}
            if source is not None:
                values["schedule"] = workdays.schedule_csv(await holidays.year_days(year))
        return await _holiday_page(values, {})

    @post("/")
    async def save_year(
        self,
        request: Request,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect:
        values = {k: str(data.get(k) or "") for k in ("year", "source", "schedule")}
        upload = data.get("file")
        if isinstance(upload, UploadFile):
            content = await upload.read()
            if content:
                from mediation.grid.csv_import import decode

                try:
                    values["schedule"] = decode(content)
                except ValueError:
                    return await _holiday_page(
                        values,
                        {"file": _("The file is not UTF-8 or GB18030 text.")},
                        status_code=422,
                    )
        try:
            year = await holidays.save_year(
                current_user(request), values["year"], values["source"], values["schedule"]
            )
        except holidays.HolidayError as exc:
            return await _holiday_page(
                values, {exc.field or "form": exc.message}, exc.problems, status_code=422
            )
        return see_other(f"/admin/holidays?year={year}&saved=1")


async def _holiday_page(
    values: dict, errors: dict, problems: list | None = None, status_code: int = 200
) -> Template:
    calendar = await holidays.refresh_calendar()
    return Template(
        "cases/holidays.html",
        context={
            "years": await holidays.years(),
            "missing": holidays.warnings(calendar),
            "values": values,
            "errors": errors,
            "problems": problems or [],
            "example": EXAMPLE_SCHEDULE,
        },
        status_code=status_code,
    )


EXAMPLE_SCHEDULE = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节\n"
