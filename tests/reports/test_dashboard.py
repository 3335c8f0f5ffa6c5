"""The dashboard page: who may open it, what area it covers, and where its figures lead."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.helpers import login, text_of

pytestmark = pytest.mark.anyio


def _links(html: str) -> dict[str, tuple[str, int]]:
    """Figure → (link, number shown) of each linked count in the headline table."""
    table = html.split('class="figures"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td class="num"><a href="([^"]+)">([\d,]+)</a>', table
    )
    return {label.strip(): (unescape(href), int(n.replace(",", ""))) for label, href, n in rows}


async def test_grid_workers_cannot_open_the_figures(client):
    await login(client, "grid1")
    assert (await client.get("/reports")).status_code == 403


async def test_a_town_centre_sees_its_communities_only(client):
    await login(client, "centre1")
    page = await client.get("/reports?period=year")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "东湖社区" in text and "西门社区" in text
    assert "新埭镇" not in text and "钟埭街道" not in text


async def test_the_county_sees_its_towns_and_can_drill_down(client):
    await login(client, "admin")
    page = await client.get("/reports?period=year")
    text = text_of(page.text)
    for town in ("当湖街道", "钟埭街道", "新埭镇"):
        assert town in text
    town = await client.get("/reports?period=year&region=330482101")
    assert "新埭社区" in text_of(town.text) and "东湖社区" not in text_of(town.text)


async def test_each_headline_figure_links_to_a_list_of_as_many_cases(client):
    await login(client, "centre1")
    page = await client.get("/reports?period=year")
    links = _links(page.text)
    assert len(links) >= 7
    for label, (href, shown) in links.items():
        assert await _count_list(client, href) == shown, (label, href)


async def _count_list(client, href: str) -> int:
    """Rows of the case list behind a link, through every page."""
    total, page_no = 0, 1
    while True:
        response = await client.get(f"{href}&page={page_no}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        total += len(re.findall(r'<a [^>]*href="/cases/\d+"', response.text))
        if f"page={page_no + 1}" not in response.text:
            return total
        page_no += 1


async def test_a_bad_custom_range_is_explained_and_the_month_shown(client):
    await login(client, "admin")
    page = await client.get("/reports?period=custom&start=2026-11-30&end=2026-11-01")
    assert page.status_code == 200
    assert "截止日期早于起始日期" in page.text
    assert 'value="2026-11-30"' in page.text


async def test_the_statutory_report_downloads_as_a_workbook_for_a_town(client):
    import io

    from openpyxl import load_workbook

    await login(client, "centre1")
    page = await client.get("/reports/statutory?kind=year&year=2026")
    assert page.status_code == 200
    assert "当湖街道人民调解委员会" in page.text and "新埭镇" not in page.text
    response = await client.get("/reports/statutory.xlsx?kind=year&year=2026&region=330482001")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "填报单位：当湖街道人民调解委员会"
    assert sheet["A5"].value == "纠纷类型"


async def test_the_statutory_report_prints_with_heading_period_preparer_and_date(client):
    import subprocess

    await login(client, "admin")
    response = await client.get("/reports/statutory.pdf?kind=quarter&year=2026&number=4")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "人民调解工作统计表" in text
    assert "平湖市司法局" in text
    assert "2026年第4季度" in text
    assert "填报人：系统管理员" in text
    assert "防止群体性上访" in text and "合计" in text


async def test_each_suggestion_figure_links_to_a_list_of_as_many_suggestions(client):
    await login(client, "centre1")
    page = await client.get("/reports?period=year")
    section = page.text.split("/suggestions?", 1)
    assert len(section) == 2, "the suggestion figures link to the list"
    links = re.findall(r'<a href="(/suggestions\?[^"]+)">([\d,]+)</a>', page.text)
    assert len(links) >= 4
    kinds = set()
    for href, shown in links:
        href = unescape(href)
        kinds.update(k.split("=")[0] for k in href.split("?", 1)[1].split("&"))
        assert await _count_suggestions(client, href) == int(shown.replace(",", "")), href
    # Every figure keeps the period and the area; some narrow further.
    assert {"date_from", "date_to", "region", "channel", "routed", "replied"} <= kinds


async def _count_suggestions(client, href: str) -> int:
    total, page_no = 0, 1
    while True:
        response = await client.get(f"{href}&page={page_no}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        total += len(re.findall(r'<a [^>]*href="/suggestions/\d+"', response.text))
        if f"page={page_no + 1}" not in response.text:
            return total
        page_no += 1


async def test_figures_link_to_case_lists_only_for_those_who_may_open_them(client):
    # An administrator sees the county's figures but not its cases: a link would lead to a 403.
    await login(client, "admin")
    page = await client.get("/reports?period=year")
    assert page.status_code == 200
    assert (await client.get("/cases")).status_code == 403
    assert 'href="/cases?' not in page.text
    assert 'href="/suggestions?' in page.text  # the suggestion list is theirs to open
    await login(client, "centre1")
    page = await client.get("/reports?period=year")
    assert 'href="/cases?' in page.text
