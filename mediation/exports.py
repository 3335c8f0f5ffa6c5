"""Spreadsheet exports: the one way the app writes a workbook, safe with whatever people typed.

A citizen's or a party's text can begin with ``=``, ``+``, ``-`` or ``@`` (also after a tab or
a carriage return): a spreadsheet program would run it as a formula — ``=HYPERLINK(…)`` can
carry other rows out when clicked. Control characters other than tab and line breaks are not
allowed in the file format at all, and openpyxl raises on them. So every text cell is written
as text, with such a beginning neutralised by a leading apostrophe, and the forbidden
characters removed. Every export goes through ``workbook_bytes`` or ``csv_text``; a test keeps
it that way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

# Characters the XML of a workbook cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE), plus the
# non-characters U+FFFE/U+FFFF and unpaired surrogates, which the XML writer also refuses.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# What makes a spreadsheet program read a cell as a formula or a command; the full-width forms
# are what a Chinese input method types.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value: str) -> str:
    """The text as a harmless spreadsheet cell: illegal characters gone, no formula start."""
    text = _ILLEGAL.sub("", value)
    stripped = text.lstrip(" \u3000")
    if stripped.startswith(_FORMULA_START):
        return "'" + text
    return text


def _cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) and hasattr(value, "isoformat"):
        return value  # dates and times: typed cells, nobody types them
    cell = WriteOnlyCell(sheet, value=neutralise(str(value)))
    cell.data_type = "s"  # never a formula, whatever the text looks like
    return cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV file (opened by spreadsheet programs too): every text cell neutralised."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(str(h)) for h in header])
    for row in rows:
        writer.writerow(
            [
                "" if v is None else v if isinstance(v, (int, float)) else neutralise(str(v))
                for v in row
            ]
        )
    return out.getvalue()


def workbook_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: a header row, then the rows; every text cell neutralised."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(neutralise(title)[:31] or "Sheet")
    sheet.append([_cell(sheet, h) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
