"""The people's-mediation statistics a county judicial bureau reports (人民调解工作统计).

One table in the form's layout: a row per dispute category, then the total; columns for
disputes mediated, mediated successfully (written and oral agreements), amounts involved and
agreements judicially confirmed. Below it, the prevention figures (cases and persons) and the
disputes found by screening and prevented. Every cell is a sum of the rollups for the period
and the region (a committee's community, a town or the county) — never a scan of the cases.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mediation.cases.categories import STANDARD_CATEGORIES, category_label
from mediation.exports import neutralise
from mediation.i18n import format_date
from mediation.i18n import gettext as _
from mediation.reports import rollups
from mediation.reports.periods import Period
from mediation.reports.services import Scope, grouped

# Columns of the category table, in the form's order: (key, heading).
COLUMNS = (
    "mediated",
    "settled",
    "written",
    "oral",
    "amount",
    "confirmed",
)

PREVENTION_ROWS = (
    (rollups.PREVENT_SUICIDE, False),
    (rollups.PREVENT_CRIMINAL, True),
    (rollups.PREVENT_PETITION, True),
    (rollups.PREVENT_FIGHT, True),
    (rollups.SCREENED, False),
    (rollups.PREVENTED, False),
)


def column_headings() -> dict[str, str]:
    return {
        "mediated": _("Disputes mediated (cases)"),
        "settled": _("Mediated successfully (cases)"),
        "written": _("Of which written agreements"),
        "oral": _("Of which oral agreements"),
        "amount": _("Amounts involved (yuan)"),
        "confirmed": _("Agreements judicially confirmed"),
    }


def prevention_headings() -> dict[str, str]:
    return {
        rollups.PREVENT_SUICIDE: _("Suicides prevented that a dispute could have caused"),
        rollups.PREVENT_CRIMINAL: _("Disputes kept from turning into criminal cases"),
        rollups.PREVENT_PETITION: _("Group petitions prevented"),
        rollups.PREVENT_FIGHT: _("Group fights prevented"),
        rollups.SCREENED: _("Disputes found by screening"),
        rollups.PREVENTED: _("Disputes prevented"),
    }


@dataclass
class StatutoryReport:
    scope: Scope
    period: Period
    heading: str
    rows: list[dict] = field(default_factory=list)  # {code, label, mediated, ..., amount}
    total: dict = field(default_factory=dict)
    prevention: list[dict] = field(default_factory=list)  # {measure, label, cases, persons?}
    received: int = 0


def _empty() -> dict:
    return {c: (Decimal(0) if c == "amount" else 0) for c in COLUMNS}


async def build_report(scope: Scope, period: Period, county_name: str) -> StatutoryReport:
    """The report's cells for ``scope`` (community → its committee, town, county)."""
    by_category: dict[str, dict] = {code: _empty() for code, _zh, _en in STANDARD_CATEGORIES}
    received = 0
    prevention: dict[str, list[int]] = {m: [0, 0] for m, _p in PREVENTION_ROWS}
    for row in await grouped(scope, period, "category", "category_form"):
        measure, dim = row["measure"], row["dim"]
        if dim == "":
            if measure == rollups.RECEIVED:
                received += row["n"]
            elif measure in prevention:
                prevention[measure][0] += row["n"]
                prevention[measure][1] += row["persons"]
            continue
        category, _sep, form = row["value"].partition("|")
        cells = by_category.setdefault(category, _empty())
        if dim == "category_form":
            if form in ("written", "oral"):
                cells[form] += row["n"]
        elif measure in (rollups.SETTLED, rollups.TERMINATED):
            cells["mediated"] += row["n"]
            if measure == rollups.SETTLED:
                cells["settled"] += row["n"]
                cells["amount"] += row["amount"]
        elif measure == rollups.CONFIRMED:
            cells["confirmed"] += row["n"]
    report = StatutoryReport(scope, period, _heading(scope, county_name), received=received)
    total = _empty()
    for code, cells in by_category.items():
        report.rows.append({"code": code, "label": category_label(code), **cells})
        for c in COLUMNS:
            total[c] += cells[c]
    report.total = total
    headings = prevention_headings()
    for measure, with_persons in PREVENTION_ROWS:
        cases, persons = prevention[measure]
        report.prevention.append(
            {
                "measure": measure,
                "label": headings[measure],
                "cases": cases,
                "persons": persons if with_persons else None,
            }
        )
    return report


def _heading(scope: Scope, county_name: str) -> str:
    """Who reports: a community's (village's) committee, a town's committee, the county's
    judicial bureau."""
    if scope.level == "community":
        return _("%(name)s People's Mediation Committee", name=scope.name)
    if scope.level == "town":
        return _("%(name)s People's Mediation Committee", name=scope.name)
    return _("%(name)s Judicial Bureau", name=scope.name or county_name)


def period_text(period: Period) -> str:
    if period.kind == "month":
        return _("%(year)s, month %(month)s", year=period.start.year, month=period.start.month)
    if period.kind == "quarter":
        quarter = (period.start.month - 1) // 3 + 1
        return _("%(year)s, quarter %(quarter)s", year=period.start.year, quarter=quarter)
    return _("Year %(year)s", year=period.start.year)


# ---------------------------------------------------------------- spreadsheet

# Text cells are neutralised by the one helper every export uses (mediation.exports).


def report_xlsx(report: StatutoryReport, preparer: str, prepared_on: date) -> bytes:
    """The report as a workbook in the form's layout. Text that people typed (names) is
    written as text and neutralised, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = neutralise(_("Statistics"))[:31]
    width = 1 + len(COLUMNS)

    def text(row: int, column: int, value: str, **style) -> None:
        cell = sheet.cell(row=row, column=column)
        cell.value = neutralise(str(value))
        cell.data_type = "s"
        for name, v in style.items():
            setattr(cell, name, v)

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    text(1, 1, _("People's mediation work statistics"), font=Font(bold=True, size=14))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(row=1, column=1).alignment = centre
    text(2, 1, _("Reporting body: %(name)s", name=report.heading))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=4)
    text(2, 5, _("Period: %(period)s", period=period_text(report.period)))
    sheet.merge_cells(start_row=2, start_column=5, end_row=2, end_column=width)
    text(
        3,
        1,
        _(
            "From %(start)s to %(end)s (Beijing dates)",
            start=format_date(report.period.start, "long"),
            end=format_date(report.period.end, "long"),
        ),
    )
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
    header_row = 5
    headings = column_headings()
    text(header_row, 1, _("Dispute category"), font=Font(bold=True), alignment=centre, border=box)
    for i, key in enumerate(COLUMNS, start=2):
        text(header_row, i, headings[key], font=Font(bold=True), alignment=centre, border=box)
    row_no = header_row + 1
    for row in [*report.rows, {"label": _("Total"), **report.total}]:
        text(row_no, 1, row["label"], border=box)
        for i, key in enumerate(COLUMNS, start=2):
            cell = sheet.cell(row=row_no, column=i, value=row[key])
            cell.border = box
            if key == "amount":
                cell.number_format = "#,##0.00"
        row_no += 1
    row_no += 1
    text(row_no, 1, _("Prevention"), font=Font(bold=True))
    row_no += 1
    text(row_no, 1, _("Figure"), font=Font(bold=True), border=box, alignment=centre)
    text(row_no, 2, _("Cases"), font=Font(bold=True), border=box, alignment=centre)
    text(row_no, 3, _("Persons"), font=Font(bold=True), border=box, alignment=centre)
    row_no += 1
    for item in report.prevention:
        text(row_no, 1, item["label"], border=box)
        sheet.cell(row=row_no, column=2, value=item["cases"]).border = box
        persons = sheet.cell(row=row_no, column=3, value=item["persons"])
        persons.border = box
        if item["persons"] is None:
            persons.value = "—"
            persons.data_type = "s"
        row_no += 1
    row_no += 1
    text(row_no, 1, _("Prepared by: %(name)s", name=preparer))
    text(row_no, 4, _("Date: %(date)s", date=format_date(prepared_on, "long")))
    sheet.column_dimensions["A"].width = 34
    for i in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(i)].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
