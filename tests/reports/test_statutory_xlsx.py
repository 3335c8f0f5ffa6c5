"""Every text cell of the statutory workbook goes through the export neutraliser: a name that
begins like a formula (= + - @, also full-width) is written as text, never run."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mediation.reports.periods import statutory_period
from mediation.reports.services import Scope
from mediation.reports.statutory import COLUMNS, StatutoryReport, report_xlsx

pytestmark = pytest.mark.pure

TYPED = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "＝1+1"]


def _report() -> StatutoryReport:
    cells = {c: (Decimal("12.50") if c == "amount" else 1) for c in COLUMNS}
    return StatutoryReport(
        scope=Scope("/1/", "1", TYPED[0], "county"),
        period=statutory_period("month", 2031, 2),
        heading=TYPED[0],
        rows=[{"code": f"c{i}", "label": label, **cells} for i, label in enumerate(TYPED)],
        total=cells,
        prevention=[{"measure": "screened", "label": TYPED[3], "cases": 1, "persons": None}],
    )


def test_text_that_looks_like_a_formula_is_neutralised_in_every_cell():
    body = report_xlsx(_report(), TYPED[1], date(2031, 3, 2))
    sheet = load_workbook(io.BytesIO(body)).active
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    for typed in TYPED:
        # The category rows: the typed text behind an apostrophe, exactly.
        assert "'" + typed in texts, typed
    assert not any(t.lstrip().startswith(("=", "+", "-", "@", "＝")) for t in texts)
    # Numbers stay numbers.
    numbers = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, int)]
    assert numbers
