"""Staff search the suggestion list, the export follows the list's filters, citizens filter the
public board, and the staff suggestion page's title is plain text (issue 15, item 8)."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from mediation.suggestions.tables import Suggestion
from tests.helpers import login
from tests.suggestions.test_staff import _cells, _submit

pytestmark = pytest.mark.anyio


async def _code(sid: int) -> str:
    row = await Suggestion.select(Suggestion.tracking_code).where(Suggestion.id == sid).first()
    return row["tracking_code"]


def _export_href(page: str) -> str:
    match = re.search(r'id="suggestion-export" href="([^"]+)"', page)
    assert match, "the list has a download link"
    return html.unescape(match.group(1))


async def test_staff_search_suggestions_and_the_export_follows_the_filters(client):
    token = "搜" + uuid.uuid4().hex[:8]
    in_title = await _submit(title=f"路灯不亮 {token}")
    in_reason = await _submit(reason=f"晚上太暗，老人摔倒。{token}")
    other = await _submit()
    codes = {sid: await _code(sid) for sid in (in_title, in_reason, other)}
    await login(client, "admin")

    page = (await client.get("/suggestions", params={"q": token})).text
    assert codes[in_title] in page and codes[in_reason] in page
    assert codes[other] not in page
    # The receipt code finds its suggestion; a LIKE wildcard typed by the user matches nothing.
    page = (await client.get("/suggestions", params={"q": codes[other]})).text
    assert codes[other] in page and codes[in_title] not in page
    page = (await client.get("/suggestions", params={"q": "%"})).text
    assert 'id="suggestion-rows"' in page

    # The rows partial an htmx filter change swaps in carries the download link for the same
    # filters, and the spreadsheet holds exactly those rows.
    partial = await client.get(
        "/suggestions", params={"q": token, "status": "received"}, headers={"HX-Request": "true"}
    )
    href = _export_href(partial.text)
    query = parse_qs(urlsplit(href).query)
    assert query == {"q": [token], "status": ["received"]}
    rows = _cells((await client.get(href)).content)
    exported = {r[0] for r in rows[1:]}
    assert exported == {codes[in_title], codes[in_reason]}

    # Without filters the link exports the whole list (it used to, whatever the filters were).
    assert _export_href((await client.get("/suggestions")).text) == "/suggestions/export.xlsx"


async def test_the_staff_suggestion_page_title_is_plain_text(client):
    sid = await _submit()
    await login(client, "centre1")
    page = (await client.get(f"/suggestions/{sid}")).text
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert await _code(sid) in title
    assert not re.search(r"[{};]|<style", title)


async def test_citizens_filter_the_public_board(client):
    whole = (await client.get("/board")).text
    assert 'name="outcome"' in whole and 'name="category"' in whole
    badges = re.findall(r'<span class="badge ok">([^<]+)</span>', whole)
    assert "部分采纳" in badges and "采纳" in badges, "the demo board has both outcomes"

    partly = (await client.get("/board", params={"outcome": "partly_adopted"})).text
    assert set(re.findall(r'<span class="badge ok">([^<]+)</span>', partly)) == {"部分采纳"}
    assert '<option value="partly_adopted" selected>' in partly

    # A department from the filter's own choices: every row shown is theirs.
    options = re.findall(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>',
        whole.split('name="department"')[1].split("</select>")[0],
    )
    assert options
    dep_id, dep_name = options[0]
    page = (await client.get("/board", params={"department": dep_id})).text
    departments = re.findall(r"承办单位：([^<]+)</span>", page)
    assert departments and set(departments) == {dep_name}

    # Nonsense in the query is ignored, never a 500.
    response = await client.get("/board", params={"department": "x", "outcome": "'; --"})
    assert response.status_code == 200
