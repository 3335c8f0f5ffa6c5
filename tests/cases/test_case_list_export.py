"""The case list as a spreadsheet: the centre's staff take away exactly the list they filtered."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from html import unescape

import pytest

from mediation.cases.common import PAGE_SIZE
from mediation.grid.tables import AuditEvent
from tests.cases.test_controllers import new_case, number_of
from tests.helpers import login

pytestmark = pytest.mark.anyio


def _rows(xlsx: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


async def _listed_numbers(client, query: str) -> list[str]:
    """Every case number the list shows for ``query``, page after page (the next-page links)."""
    numbers: list[str] = []
    url = f"/cases?{query}"
    while url:
        page = await client.get(url)
        assert page.status_code == 200
        rows = page.text.split('id="case-rows"', 1)[1]
        numbers += re.findall(r'class="row-main" href="/cases/\d+">([^<]+)</a>', rows)
        following = re.search(r'href="(/cases\?[^"]*)">下一页</a>', rows)
        url = unescape(following.group(1)) if following else ""
    return numbers


async def test_the_export_holds_exactly_the_filtered_list_newest_first(client):
    await login(client, "centre1")
    query = "status=closed&colour=green"
    listed = await _listed_numbers(client, query)
    assert len(listed) > PAGE_SIZE, "the town's closed green cases fill more than a page"
    page = await client.get(f"/cases?{query}")
    link = re.search(r'id="case-export" href="([^"]+)"', page.text)
    assert link, "the centre's list offers its spreadsheet"
    response = await client.get(unescape(link.group(1)))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    rows = _rows(response.content)
    assert rows[0][:4] == ["案件编号", "登记日期", "纠纷类型", "纠纷摘要"]
    assert [r[0] for r in rows[1:]] == listed
    assert {r[6] for r in rows[1:]} == {"结案"} and {r[7] for r in rows[1:]} == {"绿色"}
    assert all(isinstance(r[1], datetime) for r in rows[1:])  # a date cell, not text
    logged = (
        await AuditEvent.select(AuditEvent.after)
        .where(AuditEvent.action == "export", AuditEvent.entity == "case")
        .order_by(AuditEvent.id, ascending=False)
        .first()
    )
    assert logged is not None
    after = json.loads(logged["after"]) if isinstance(logged["after"], str) else logged["after"]
    assert after["rows"] == len(listed)
    assert after["status"] == "closed" and after["colour"] == "green"


async def test_a_typed_formula_stays_text_in_the_export(client):
    case_id = await new_case(summary='=HYPERLINK("http://example.invalid","点这里")')
    number = await number_of(case_id)
    await login(client, "centre1")
    response = await client.get(f"/cases/export.xlsx?q={number}")
    assert response.status_code == 200
    rows = _rows(response.content)
    assert [r[0] for r in rows[1:]] == [number]
    assert rows[1][3] == '\'=HYPERLINK("http://example.invalid","点这里")'


async def test_only_the_centre_may_take_the_list_away(client):
    await login(client, "grid1")
    page = await client.get("/cases")
    assert page.status_code == 200 and 'id="case-export"' not in page.text
    assert (await client.get("/cases/export.xlsx")).status_code == 403
