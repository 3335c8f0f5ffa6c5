"""Pages of the figures: the dashboard, the statutory report, early warnings."""

from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from markupsafe import Markup

from mediation import db, i18n, templating
from mediation.accounts.guards import current_user, requires_role
from mediation.cases import categories, workflow
from mediation.cases import labels as case_labels
from mediation.cases.categories import category_label
from mediation.i18n import gettext as _
from mediation.portal.services import RATING_LABELS
from mediation.reports import charts, periods, services
from mediation.reports.labels import AGREEMENT_FORM_LABELS, MEASURE_LABELS, PERIOD_LABELS
from mediation.roles import AREA_ROLES, CASE_ROLES, WARNING_ROLES
from mediation.suggestions import rules as suggestion_rules

REPORT_ROLES = AREA_ROLES
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


SVG = "image/svg+xml"
YEAR = 365 * 24 * 3600


def _chart_headers(digest: str) -> dict[str, str]:
    # A version of a chart never changes, and holds counts only (no personal data): the browser
    # keeps it (not a shared cache: the figures are the county's own).
    return {"ETag": f'"{digest}"', "Cache-Control": f"private, max-age={YEAR}, immutable"}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_period(period: str, start: str, end: str) -> tuple[periods.Period, dict[str, str]]:
    """The chosen period, and an error per field for a custom range that cannot be used."""
    errors: dict[str, str] = {}
    kind = period if period in periods.PERIODS else "month"
    first, last = _date(start), _date(end)
    if kind == "custom":
        if start and first is None:
            errors["start"] = _("Enter a date like 2026-11-01.")
        if end and last is None:
            errors["end"] = _("Enter a date like 2026-11-30.")
        if not start:
            errors["start"] = _("Enter the first day.")
        if not end:
            errors["end"] = _("Enter the last day.")
        if first and last and first > last:
            errors["end"] = _("The last day comes before the first day.")
        elif first and last and (last - first).days > periods.MAX_CUSTOM_DAYS:
            errors["end"] = _("Choose at most three years.")
        elif first and (first.year < 2000 or (last and last.year > 2100)):
            errors["start"] = _("Choose dates between 2000 and 2100.")
        if errors:
            kind = "month"
    chosen = periods.period_for(kind, services.today_in_county(), first, last)
    return chosen, errors


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _rows(table: dict[str, dict[str, int]], order: list[str], label) -> list[dict]:
    keys = [k for k in order if k in table] + sorted(k for k in table if k not in order)
    return [{"code": k, "label": str(label(k)), **table[k]} for k in keys]


class ReportController(Controller):
    path = "/reports"
    guards = [requires_role(*REPORT_ROLES)]
    include_in_schema = False

    @get("/")
    async def dashboard(
        self,
        request: Request,
        period: FromQuery[str] = "month",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        region: FromQuery[str] = "",
    ) -> Template:
        user = current_user(request)
        chosen, errors = parse_period(period, start[:20], end[:20])
        async with db.read_snapshot():
            return await _dashboard(user, chosen, errors, period, start, end, region)

    @get("/charts/{chart:str}")
    async def chart(
        self,
        request: Request,
        chart: FromPath[str],
        period: FromQuery[str] = "month",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        region: FromQuery[str] = "",
        v: FromQuery[str] = "",
    ) -> Response:
        """A chart of the dashboard as an SVG image, for the same user, period and area as the
        page. ``v`` (the digest of the chart the page showed) only versions the URL: who may see
        it is decided by the area, as for the page, so a key learnt elsewhere opens nothing. The
        chart is served from this process's memory when it showed it for that area, and drawn
        again from the figures otherwise (another server, a restart)."""
        if chart not in CHARTS:
            raise NotFoundException()
        user = current_user(request)
        chosen, _errors = parse_period(period, start[:20], end[:20])
        async with db.read_snapshot():
            scope = await services.scope_for(user, region[:32])
            if region and scope.code != region:
                raise NotFoundException()  # an area outside the user's own
            etag = f'"{v}"'
            if v and etag in [
                t.strip() for t in request.headers.get("if-none-match", "").split(",")
            ]:
                # The URL names its content: whoever holds that version holds this chart.
                return Response(b"", status_code=304, headers=_chart_headers(v))
            served = charts.published(v, scope.path) if v else None
            if served is None:
                svg = await _draw_chart(chart, scope, chosen)
                if svg is None:
                    raise NotFoundException()
                served = charts.publish(svg, scope.path)
        if served.digest != v:  # the figures changed since the page was drawn
            return Response(served.body, media_type=SVG, headers={"Cache-Control": "no-store"})
        return Response(served.body, media_type=SVG, headers=_chart_headers(v))


async def _dashboard(user, chosen, errors, period, start, end, region) -> Template:
    before = periods.previous(chosen)
    scope = await services.scope_for(user, region[:32])
    figures = await _read_figures(scope, chosen, before)
    args = {"period": period, "start": start[:20], "end": end[:20], "region": scope.code}
    # Figures link to the case list only for those who may open it (not administrators).
    case_lists = user.has_role(*CASE_ROLES)
    return Template(
        "reports/dashboard.html",
        context={
            "scope": scope,
            "period": chosen,
            "previous": before,
            "period_label": str(PERIOD_LABELS.get(chosen.kind, "")),
            "errors": errors,
            "args": args,
            # Drilled down below the user's own area (a county user at the county is not).
            "narrowed": scope.path != user.region_path,
            "period_choices": list(PERIOD_LABELS.items()),
            "figures": _figures_html(scope, chosen, before, figures, args, case_lists),
        },
    )


async def _read_figures(scope, chosen, before) -> dict[str, Any]:
    """Every figure the dashboard shows, as the services return them (one snapshot)."""
    now = await services.case_figures(scope, chosen)
    return {
        "now": now,
        "prev": await services.case_figures(scope, before, with_breakdowns=False),
        "suggestions": await services.suggestion_figures(scope, chosen),
        "prev_suggestions": await services.suggestion_figures(scope, before),
        "mediators": await services.mediator_figures(scope, chosen),
        "ontime_now": await services.ontime_figures(scope, chosen),
        "ontime_before": await services.ontime_figures(scope, before),
        "performance": await services.performance_figures(scope, chosen),
        "performance_before": await services.performance_figures(scope, before),
        "trend": await services.monthly_trend(scope, chosen.end),
        "party_ratings": await services.party_ratings(scope, chosen),
        "names": await services.child_names(scope, list(now.regions)),
    }


# The figures part of the dashboard as rendered, by a digest of everything it is drawn from:
# the same figures (for the same area, period, language and links) give the same HTML, so a
# page viewed again before any of them changes is not rendered again, and no entry can be
# stale: changed figures are a different key.
_FRAGMENTS: OrderedDict[bytes, Markup] = OrderedDict()
_FRAGMENTS_MAX = 64


def _figures_html(scope, chosen, before, figures: dict, args: dict, case_lists: bool) -> Markup:
    key = hashlib.sha256(
        pickle.dumps(
            (
                figures,
                scope,
                chosen,
                before,
                args,
                case_lists,
                services.today_in_county(),  # agreement performance counts up to today
                i18n.get_locale(),
                categories.current().version,  # category names as edited
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    ).digest()
    html = _FRAGMENTS.get(key)
    if html is not None:
        _FRAGMENTS.move_to_end(key)
        return html
    context = _figures_context(scope, chosen, before, figures, args)
    context["case_lists"] = case_lists
    template = templating.environment().get_template("reports/partials/_figures.html")
    html = _FRAGMENTS[key] = Markup(template.render(context))
    while len(_FRAGMENTS) > _FRAGMENTS_MAX:
        _FRAGMENTS.popitem(last=False)
    return html


def _figures_context(scope, chosen, before, figures: dict, args: dict) -> dict:
    chart_query = urlencode({k: v for k, v in args.items() if v})
    now = figures["now"]
    context = _dashboard_context(
        scope,
        chosen,
        before,
        now,
        figures["prev"],
        figures["suggestions"],
        figures["prev_suggestions"],
        chart_query,
    )
    context.update(_more_figures(scope, chosen, before, figures, chart_query))
    context["party_ratings"] = figures["party_ratings"]
    context["PARTY_RATING_LABELS"] = RATING_LABELS
    names = figures["names"]
    context["regions"] = []
    for key, values in sorted(now.regions.items(), key=lambda kv: names.get(kv[0], kv[0])):
        if key.startswith("grid:"):
            target, extra = scope, {"grid": key[5:]}
        else:
            target, extra = services.Scope("", key, "", ""), {}
        context["regions"].append(
            {
                "name": names.get(key, key),
                "drill": None if key.startswith("grid:") else key,
                "link": services.case_link(chosen, "received", target, **extra),
                "settled_link": services.case_link(chosen, "settled", target, **extra),
                **values,
            }
        )
    context["args"] = args
    return context


def _more_figures(scope, chosen, before, figures: dict, chart_query: str = "") -> dict:
    """Mediators, on-time rates per clock, agreement performance, the monthly trend, and the
    links of the suggestion figures."""
    from mediation.cases.deadlines import CLOCK_LABELS

    link = services.case_link
    mediators = []
    for m in figures["mediators"]:
        mine = {"mediator": m.id}
        mediators.append(
            {
                "name": m.name,
                "assigned": m.assigned,
                "settled": m.settled,
                "terminated": m.terminated,
                "load": m.load,
                "objections": m.objections,
                "median_days": m.median_days,
                "assigned_link": link(chosen, "assigned", scope, **mine),
                "settled_link": link(chosen, "settled", scope, assignment="active", **mine),
                "terminated_link": link(chosen, "terminated", scope, assignment="active", **mine),
                "concluded_link": link(chosen, "concluded", scope, assignment="active", **mine),
                "load_link": _load_link(scope, m.id),
                "objections_link": link(chosen, "assigned", scope, assignment="objected", **mine),
            }
        )
    ontime_now, ontime_before = figures["ontime_now"], figures["ontime_before"]
    ontime = []
    for name, (measure, _column) in services.CLOCK_MEASURES.items():
        now, was = ontime_now[name], ontime_before[name]
        ontime.append(
            {
                "label": str(CLOCK_LABELS.get(name, name)),
                "basis": str(MEASURE_LABELS[measure]),
                "done": now["done"],
                "on_time": now["on_time"],
                "rate": _pct(services._rate(now["on_time"], now["done"])),
                "rate_before": _pct(services._rate(was["on_time"], was["done"])),
                "link": link(chosen, measure, scope),
            }
        )
    due_until = periods.Period(
        chosen.kind, chosen.start, min(chosen.end, services.today_in_county())
    )
    performance, performance_before = figures["performance"], figures["performance_before"]
    trend_chart = _trend_chart(figures["trend"])
    trend = []
    for t in figures["trend"]:
        month = periods.statutory_period("month", t.month.year, t.month.month)
        links = {m: link(month, m, scope) for m in ("received", "settled", "terminated")}
        trend.append({**asdict(t), "label": _month_label(t), "links": links})
    return {
        "mediators": mediators,
        "ontime": ontime,
        "performance": {
            **performance,
            "rate": _pct(services._rate(performance["performed"], performance["due"])),
            "rate_before": _pct(
                services._rate(performance_before["performed"], performance_before["due"])
            ),
            "due_link": link(due_until, "clause_due", scope),
            "performed_link": link(due_until, "clause_performed", scope),
        },
        "trend": trend,
        "trend_chart": charts.on_page(trend_chart, _chart_src("trend", chart_query), scope.path),
        "slink": lambda **filters: services.suggestion_link(chosen, scope, **filters),
    }


def _load_link(scope, mediator_id: int) -> str:
    args = {"mediator": mediator_id, "assignment": "load"}
    if scope.code:
        args["region"] = scope.code
    return "/cases?" + urlencode(args)


def _dashboard_context(
    scope, chosen, before, now, prev, suggestions, prev_suggestions, chart_query: str = ""
) -> dict:
    link = services.case_link
    headline = []
    for measure in services.FLOW_MEASURES:
        n = now.totals[measure]["n"]
        was = prev.totals[measure]["n"]
        headline.append(
            {
                "measure": measure,
                "label": str(MEASURE_LABELS[measure]),
                "n": n,
                "previous": was,
                "change": services.change(n, was),
                "link": link(chosen, measure, scope),
                "previous_link": link(before, measure, scope),
            }
        )
    prevention = [
        {
            "measure": m,
            "label": str(MEASURE_LABELS[m]),
            "n": now.totals[m]["n"],
            "persons": now.totals[m]["persons"],
            "link": link(chosen, m, scope),
        }
        for m in services.PREVENTION_MEASURES
    ]
    breakdowns = _breakdowns(now)
    categories, colours = breakdowns["categories"], breakdowns["colours"]
    sources, levels = breakdowns["sources"], breakdowns["levels"]
    for rows, dim in (
        (categories, "category"),
        (colours, "colour"),
        (sources, "source"),
        (levels, "level"),
    ):
        for row in rows:
            row["link"] = link(chosen, "received", scope, **{dim: row["code"]})
            row["settled_link"] = link(chosen, "settled", scope, **{dim: row["code"]})
    success_now, success_before = now.success_rate, prev.success_rate
    return {
        "scope": scope,
        "period": chosen,
        "previous": before,
        "period_label": str(PERIOD_LABELS.get(chosen.kind, "")),
        "headline": headline,
        "success_rate": _pct(success_now),
        "success_rate_before": _pct(success_before),
        "concluded_link": link(chosen, "concluded", scope),
        "median_days": now.median_days,
        "median_days_before": prev.median_days,
        "amount": now.totals["settled"]["amount"],
        "amount_before": prev.totals["settled"]["amount"],
        "forms": [
            {
                "label": str(AGREEMENT_FORM_LABELS[f]),
                "n": now.forms.get(f, 0),
                "link": link(chosen, "settled", scope, agreement_form=f),
            }
            for f in ("written", "oral")
        ],
        "prevention": prevention,
        "categories": categories,
        "colours": colours,
        "sources": sources,
        "levels": levels,
        "category_chart": charts.on_page(
            _category_chart(categories), _chart_src("category", chart_query), scope.path
        ),
        "colour_chart": charts.on_page(
            _colour_chart(colours), _chart_src("colour", chart_query), scope.path
        ),
        "suggestions": suggestions,
        "prev_suggestions": prev_suggestions,
        "channel_labels": {str(k): str(v) for k, v in suggestion_rules.CHANNEL_LABELS.items()},
        "outcome_labels": {str(k): str(v) for k, v in suggestion_rules.OUTCOME_LABELS.items()},
        "rating_labels": {str(k): str(v) for k, v in suggestion_rules.RATING_LABELS.items()},
        "reward_labels": {t.code: str(t.label) for t in suggestion_rules.REWARD_TIERS},
        "pct": _pct,
    }


def _breakdowns(now: services.CaseFigures) -> dict[str, list[dict]]:
    """Rows of the category, colour, source and level tables (without their links)."""
    return {
        "categories": _rows(now.by.get("category", {}), services.category_order(), category_label),
        "colours": _rows(
            now.by.get("colour", {}), ["red", "yellow", "green"], case_labels.COLOUR_LABELS.get
        ),
        "sources": _rows(
            now.by.get("source", {}),
            list(case_labels.SOURCE_LABELS),
            case_labels.SOURCE_LABELS.get,
        ),
        "levels": _rows(
            now.by.get("level", {}),
            [lv.value for lv in workflow.CaseLevel],
            lambda k: (
                workflow.LEVEL_LABELS.get(workflow.CaseLevel(k), k)
                if k in workflow.CaseLevel._value2member_map_
                else k
            ),
        ),
    }


# The dashboard's charts, each also served at /reports/charts/<name> (``ReportController.chart``).
CHARTS = ("category", "colour", "trend")


def _chart_src(name: str, query: str) -> str:
    return f"/reports/charts/{name}?{query}"


def _category_chart(categories: list[dict]) -> Markup | None:
    if not categories:
        return None
    return charts.bar_chart(
        _("Disputes by category"),
        [r["label"] for r in categories],
        [
            (str(MEASURE_LABELS["received"]), [r.get("received", 0) for r in categories]),
            (str(MEASURE_LABELS["settled"]), [r.get("settled", 0) for r in categories]),
        ],
    )


def _colour_chart(colours: list[dict]) -> Markup | None:
    if not colours:
        return None
    return charts.risk_chart(
        _("Disputes received by risk colour"),
        str(MEASURE_LABELS["received"]),
        [(r["code"], r["label"], r.get("received", 0)) for r in colours],
    )


def _month_label(row: services.TrendMonth) -> str:
    return f"{row.month.year}-{row.month.month:02d}"


def _trend_chart(trend: list[services.TrendMonth]) -> Markup:
    return charts.trend_chart(
        _("Disputes per month, last twelve months"),
        [_month_label(t) for t in trend],
        [
            (str(MEASURE_LABELS["received"]), [t.received for t in trend]),
            (str(MEASURE_LABELS["settled"]), [t.settled for t in trend]),
            (str(MEASURE_LABELS["terminated"]), [t.terminated for t in trend]),
        ],
    )


async def _draw_chart(name: str, scope: services.Scope, chosen: periods.Period) -> Markup | None:
    """One chart of the dashboard drawn from the figures as they are now."""
    if name == "trend":
        return _trend_chart(await services.monthly_trend(scope, chosen.end))
    rows = _breakdowns(await services.case_figures(scope, chosen))
    return (
        _category_chart(rows["categories"])
        if name == "category"
        else _colour_chart(rows["colours"])
    )


class ConclusionFiguresController(Controller):
    """The statutory statistics' facts recorded on a concluded case (from its page)."""

    path = "/reports/cases"
    guards = [requires_role(*CASE_ROLES)]
    include_in_schema = False

    @post("/{case_id:int}/figures")
    async def record(
        self, request: Request, case_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        from mediation.cases import services as case_services
        from mediation.cases.controllers import render_detail
        from mediation.web import see_other

        version = str(data.get("version", ""))
        try:
            await case_services.record_conclusion_figures(
                current_user(request),
                case_id,
                data,
                int(version) if version.isdigit() else None,
            )
        except case_services.CaseError as exc:
            field = exc.field if exc.field in case_services.PREVENTION_PERSONS else "figures"
            values = {**data, "figures_form": "1"}
            return await render_detail(request, case_id, {field: exc.message}, 422, values)
        return see_other(f"/cases/{case_id}#figures")


STATUTORY_KINDS = ("month", "quarter", "year")


def parse_statutory(kind: str, year: str, number: str) -> tuple[periods.Period, dict, dict]:
    """The statutory period chosen, errors beside the fields, and the values as typed.

    Without a choice it is the last complete period (Beijing dates): a monthly report is made
    for the month that has just ended, not for the one that began today."""
    today = services.today_in_county()
    errors: dict[str, str] = {}
    kind = kind if kind in STATUTORY_KINDS else "month"
    last_year, last_number = last_complete_period(kind, today)
    args = {"kind": kind, "year": year[:8] or str(last_year), "number": number[:4]}
    the_year = last_year
    if year:
        if year.isdigit() and 2000 <= int(year) <= 2100:
            the_year = int(year)
        else:
            errors["year"] = _("Enter a year between 2000 and 2100.")
    limit = {"month": 12, "quarter": 4, "year": 1}[kind]
    current = {"month": today.month, "quarter": (today.month - 1) // 3 + 1, "year": 1}[kind]
    if the_year == last_year:
        default = last_number
    elif the_year == today.year:
        default = current  # January: this year has no complete month yet
    else:
        default = limit if the_year < today.year else 1  # an earlier year: its last period
    the_number = int(number) if number.isdigit() and 1 <= int(number) <= limit else default
    args["number"] = str(the_number)
    return periods.statutory_period(kind, the_year, the_number), errors, args


def last_complete_period(kind: str, today: date) -> tuple[int, int]:
    """(year, number) of the last month, quarter or year that ended before ``today``."""
    if kind == "year":
        return today.year - 1, 1
    if kind == "quarter":
        quarter = (today.month - 1) // 3  # the current one's number minus one
        return (today.year, quarter) if quarter else (today.year - 1, 4)
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


async def _statutory(request: Request, kind: str, year: str, number: str, region: str):
    from mediation.reports import statutory

    user = current_user(request)
    period, errors, args = parse_statutory(kind, year, number)
    scope = await services.scope_for(user, region[:32])
    args["region"] = scope.code
    county = await services.county_name()
    report = await statutory.build_report(scope, period, county)
    return user, scope, period, errors, args, report


def _statutory_context(report, period) -> dict:
    from mediation.reports import statutory

    return {
        "report": report,
        "columns": statutory.COLUMNS,
        "headings": statutory.column_headings(),
        "period_text": statutory.period_text(period),
    }


class StatutoryReportController(Controller):
    path = "/reports"
    guards = [requires_role(*REPORT_ROLES)]
    include_in_schema = False

    @get("/statutory")
    async def page(
        self,
        request: Request,
        kind: FromQuery[str] = "month",
        year: FromQuery[str] = "",
        number: FromQuery[str] = "",
        region: FromQuery[str] = "",
    ) -> Template:
        user, scope, period, errors, args, report = await _statutory(
            request, kind, year, number, region
        )
        for item in report.prevention:
            item["link"] = services.case_link(period, item["measure"], scope)
        kinds = {"month": _("Monthly"), "quarter": _("Quarterly"), "year": _("Annual")}
        limit = {"month": 12, "quarter": 4, "year": 1}[args["kind"]]
        context = {
            **_statutory_context(report, period),
            "errors": errors,
            "args": args,
            "query": urlencode({k: args[k] for k in ("kind", "year", "number", "region")}),
            "kind_choices": list(kinds.items()),
            "number_choices": [(str(n), str(n)) for n in range(1, limit + 1)],
            "region_choices": await services.region_choices(user),
        }
        return Template("reports/statutory.html", context=context)

    @get("/statutory.xlsx")
    async def xlsx(
        self,
        request: Request,
        kind: FromQuery[str] = "month",
        year: FromQuery[str] = "",
        number: FromQuery[str] = "",
        region: FromQuery[str] = "",
    ) -> Response:
        from mediation.documents.pdf import PRINT_LOCALE, run_off_loop
        from mediation.reports import statutory

        # A form for the judicial bureau: in Chinese whatever the UI language, as its PDF.
        token = i18n.set_locale(PRINT_LOCALE)
        try:
            user, scope, period, _errors, args, report = await _statutory(
                request, kind, year, number, region
            )
            # Built in a printing process (in this locale): the app process keeps serving.
            body = await run_off_loop(
                statutory.report_xlsx, report, user.display_name, services.today_in_county()
            )
        finally:
            i18n.reset_locale(token)
        await services.log_export(user, "statutory_xlsx", args)
        name = f"statistics-{args['region'] or 'all'}-{period.start.isoformat()}.xlsx"
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/statutory.pdf")
    async def pdf(
        self,
        request: Request,
        kind: FromQuery[str] = "month",
        year: FromQuery[str] = "",
        number: FromQuery[str] = "",
        region: FromQuery[str] = "",
    ) -> Response:
        from mediation.documents.pdf import PRINT_LOCALE, render_pdf_async

        token = i18n.set_locale(PRINT_LOCALE)  # a Chinese document, whatever the UI language
        try:
            user, scope, period, _errors, args, report = await _statutory(
                request, kind, year, number, region
            )
            context = _statutory_context(report, period)
            rows = [r for r in report.rows if r["mediated"]]
            chart = (
                charts.bar_chart(
                    _("Disputes mediated and settled by category"),
                    [r["label"] for r in rows],
                    [
                        (column_label("mediated"), [r["mediated"] for r in rows]),
                        (column_label("settled"), [r["settled"] for r in rows]),
                    ],
                    width=640,
                )
                if rows
                else None
            )
        finally:
            i18n.reset_locale(token)
        context.update(
            chart_uri=charts.as_data_uri(chart) if chart else "",
            preparer=user.display_name,
            prepared_on=services.today_in_county(),
        )
        body = await render_pdf_async("reports/statutory_print.html", context)
        await services.log_export(user, "statutory_pdf", args)
        name = f"statistics-{args['region'] or 'all'}-{period.start.isoformat()}.pdf"
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )


def column_label(key: str) -> str:
    from mediation.reports import statutory

    return statutory.column_headings()[key]


class WarningController(Controller):
    """Early warnings: the list, acknowledge or dismiss, and the thresholds (administrators)."""

    path = "/reports/warnings"
    guards = [requires_role(*WARNING_ROLES)]
    include_in_schema = False

    @get("/")
    async def warning_list(self, request: Request, status: FromQuery[str] = "open") -> Template:
        return await _warning_page(request, status, {})

    @post("/{warning_id:int}")
    async def handle(
        self, request: Request, warning_id: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        from mediation.reports import warnings
        from mediation.web import see_other

        try:
            await warnings.handle_warning(
                current_user(request),
                warning_id,
                str(data.get("action", "")),
                str(data.get("note", "")),
            )
        except warnings.WarningError as exc:
            errors = {
                "warning": warning_id,
                "message": exc.message,
                "note": str(data.get("note", ""))[:1000],
            }
            return await _warning_page(request, "open", errors, 422)
        return see_other("/reports/warnings")

    @get("/rules", guards=[requires_role("admin")])
    async def rules(self, request: Request) -> Template:
        return await _rules_page({}, {})

    @post("/rules", guards=[requires_role("admin")])
    async def save_rules(
        self, request: Request, data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        from mediation.reports import warnings
        from mediation.web import see_other

        code = str(data.get("rule", ""))
        if code not in warnings.DEFAULTS:
            return await _rules_page({"form": _("Choose from the list.")}, {}, 422)
        errors = await warnings.save_rule(
            code, bool(data.get("enabled")), data, current_user(request).id
        )
        if errors:
            return await _rules_page({code: errors}, {code: data}, 422)
        return see_other("/reports/warnings/rules")


async def _warning_page(request: Request, status: str, errors: dict, code: int = 200) -> Template:
    from mediation.reports import warnings

    user = current_user(request)
    status = status if status in ("open", "acknowledged", "dismissed") else "open"
    rows = await warnings.warnings_for(user, status)
    return Template(
        "reports/warnings.html",
        context={"rows": rows, "status": status, "errors": errors},
        status_code=code,
    )


async def _rules_page(errors: dict, values: dict, code: int = 200) -> Template:
    from mediation.reports import warnings

    rules = await warnings.rule_params()
    items = [
        {
            "code": c,
            "label": str(warnings.RULE_LABELS[c]),
            "enabled": (values.get(c, {}).get("enabled") if c in values else rule["enabled"]),
            "params": [
                (name, str(warnings.PARAM_LABELS[name]), values.get(c, {}).get(name, value))
                for name, value in rule["params"].items()
            ],
            "errors": errors.get(c, {}),
        }
        for c, rule in rules.items()
    ]
    return Template(
        "reports/warning_rules.html",
        context={"rules": items, "errors": errors},
        status_code=code,
    )
