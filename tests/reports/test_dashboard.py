"""The dashboard page: who may open it, what area it covers, and where its figures lead."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.helpers import login, post_form, text_of

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


async def test_the_statutory_workbook_is_chinese_whatever_the_ui_language(client):
    """A form for the judicial bureau, like its PDF: never in the operator's language."""
    import io

    from openpyxl import load_workbook

    await login(client, "centre1")
    await post_form(client, "/locale", {"locale": "en", "next": "/reports/statutory"})
    assert "Reporting body" in (await client.get("/reports/statutory?kind=year&year=2026")).text
    response = await client.get("/reports/statutory.xlsx?kind=year&year=2026&region=330482001")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "人民调解工作统计表"
    assert sheet["A2"].value == "填报单位：当湖街道人民调解委员会"
    assert sheet["A5"].value == "纠纷类型"
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not any("Judicial" in c or "Total" in c or "Reporting" in c for c in cells)


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


BACK = "返回我的全部辖区"  # Back to my whole area


async def test_the_way_back_to_ones_whole_area_shows_only_when_narrowed_below_it(client):
    # centre2's own area is the county: at the county there is nowhere to go back to.
    await login(client, "centre2")
    own = await client.get("/reports?period=year")
    assert own.status_code == 200 and BACK not in own.text
    county = re.search(r'name="region" value="(\d+)"', own.text).group(1)
    assert BACK not in (await client.get(f"/reports?period=year&region={county}")).text
    town = await client.get("/reports?period=year&region=330482101")
    assert BACK in town.text and 'href="/reports?period=year&amp;start=&amp;end="' in town.text
    # An area outside one's own is not a narrowing: centre1 (当湖街道) stays at its town.
    await login(client, "centre1")
    assert BACK not in (await client.get("/reports?period=year&region=330482101")).text
    assert BACK in (await client.get("/reports?period=year&region=330482001001")).text


def _chart_urls(html: str) -> dict[str, str]:
    """Chart name → the URL of its image on the page."""
    found = re.findall(r'<img src="(/reports/charts/(\w+)\?[^"]+)" alt=""', html)
    return {name: unescape(src) for src, name in found}


async def test_each_chart_is_an_image_at_its_own_url_kept_by_the_browser(client):
    await login(client, "centre2")
    page = await client.get("/reports?period=year")
    urls = _chart_urls(page.text)
    assert set(urls) == {"category", "colour", "trend"}
    assert "data:image/svg" not in page.text and "<svg" not in page.text
    for name, url in urls.items():
        digest = url.rsplit("&v=", 1)[1]
        chart = await client.get(url)
        assert chart.status_code == 200, name
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert chart.text.startswith("<svg") and "<style" in chart.text
        assert "aria-hidden" not in chart.text  # the page's alt="" says so; the file is an image
        assert chart.headers["etag"] == f'"{digest}"'
        assert "immutable" in chart.headers["cache-control"]
        assert "private" in chart.headers["cache-control"]
        # Revalidated: the version in the URL is the content, so nothing needs sending.
        again = await client.get(url, headers={"If-None-Match": f'"{digest}"'})
        assert again.status_code == 304 and again.content == b""


async def test_a_chart_is_drawn_again_where_the_page_was_not_shown(client):
    # Another server, or this one after a restart: the same URL gives the same picture.
    from mediation.reports import charts

    await login(client, "centre2")
    urls = _chart_urls((await client.get("/reports?period=year")).text)
    shown = {name: (await client.get(url)).content for name, url in urls.items()}
    charts._PUBLISHED.clear()
    charts._DRAWN.clear()
    for name, url in urls.items():
        chart = await client.get(url)
        assert chart.status_code == 200 and chart.content == shown[name], name
        assert "immutable" in chart.headers["cache-control"]


async def test_a_town_cannot_open_the_countys_charts_with_their_url(client):
    await login(client, "centre2")
    urls = _chart_urls((await client.get("/reports?period=year")).text)
    county = {name: (await client.get(url)).content for name, url in urls.items()}
    await login(client, "centre1")
    for name, url in urls.items():
        assert (await client.get(url)).status_code == 404, name
        # Without the county's area, the same key gives the town's own chart, not the county's.
        own_area = re.sub(r"&region=\d+", "", url)
        mine = await client.get(own_area)
        assert mine.status_code == 200 and mine.content != county[name], name
        assert mine.headers["cache-control"] == "no-store"
    town = _chart_urls((await client.get("/reports?period=year")).text)
    assert (await client.get(town["trend"])).status_code == 200


async def test_a_chart_of_no_figures_or_an_unknown_chart_is_not_found(client):
    await login(client, "centre2")
    assert (await client.get("/reports/charts/pie?period=year")).status_code == 404
    empty = "/reports/charts/category?period=custom&start=2001-01-01&end=2001-01-31"
    assert (await client.get(empty)).status_code == 404


def _received(html: str) -> int:
    return _links(html)["已收到"][1]


async def test_the_page_shows_new_figures_at_once_and_each_language_its_own(client):
    # The figures part is rendered once per set of figures: a new case is a new set.
    import uuid

    from mediation.cases import services
    from tests.cases.conftest import deposit_case, grid_id, user
    from tests.helpers import post_form

    await login(client, "centre1")
    before = _received((await client.get("/reports")).text)
    assert _received((await client.get("/reports")).text) == before
    await services.register_case(
        deposit_case(await grid_id()), await user("grid1"), uuid.uuid4().hex
    )
    page = await client.get("/reports")
    assert _received(page.text) == before + 1
    await post_form(client, "/locale", {"locale": "en", "next": "/reports"})
    english = (await client.get("/reports")).text
    assert "Received" in english and "已收到" not in english
    assert "Disputes by category" in english or "No disputes in this period." in english


async def test_the_statutory_reports_chart_fits_its_page_with_legend_and_whole_counts(client):
    """The chart page of the printed report: the legend (which bar is which) and the count axis
    are on the page, above its footer, and a count axis marks whole numbers only."""
    from tests.documents.test_signature_layout import words

    await login(client, "admin")
    response = await client.get("/reports/statutory.pdf?kind=year&year=2026")
    assert response.status_code == 200
    found = words(response.content)
    last = max(w.page for w in found)
    page = [w for w in found if w.page == last]
    assert any(w.text == "各类纠纷调解及成功数" for w in page), "the chart has the last page"
    footer_top = min(w.y0 for w in page if w.text == "第")
    legend = [w for w in page if w.text in ("调解纠纷（件）", "调解成功（件）")]
    assert len(legend) == 2, [w.text for w in page]
    assert all(w.y1 < footer_top for w in legend)
    numbers = [w.text for w in page if re.fullmatch(r"[\d.,]+", w.text)]
    assert numbers and not [n for n in numbers if "." in n], numbers


def test_count_axes_mark_whole_numbers_up_to_the_largest_count():
    from mediation.reports.charts import count_ticks

    assert count_ticks([0]) == [0, 1]
    assert count_ticks([2, 1]) == [0, 1, 2]
    assert count_ticks([23]) == [0, 5, 10, 15, 20, 25]
    assert count_ticks([1234]) == [0, 200, 400, 600, 800, 1000, 1200, 1400]
    for top in range(1, 3000, 7):
        ticks = count_ticks([top])
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 11
        assert len({b - a for a, b in zip(ticks, ticks[1:], strict=False)}) == 1


async def test_the_statutory_report_opens_on_the_period_that_has_just_ended(client):
    """At 06:30 on 1 December in Beijing (22:30 UTC on 30 November) November has just ended:
    the monthly report opens on November, the quarterly on the third quarter, the annual on
    the year before."""
    from datetime import UTC, datetime

    import time_machine

    await login(client, "admin")
    with time_machine.travel(datetime(2026, 11, 30, 22, 30, tzinfo=UTC), tick=False):
        for kind, shown in (
            ("", "2026年11月"),
            ("?kind=quarter", "2026年第3季度"),
            ("?kind=year", "2025年"),
            ("?kind=month&year=2025", "2025年12月"),
        ):
            page = await client.get(f"/reports/statutory{kind}")
            assert page.status_code == 200
            heading = page.text.split("<h2>", 1)[1].split("</h2>", 1)[0]
            assert heading == f"平湖市司法局 · {shown}", (kind, heading)


def test_on_new_years_morning_the_last_complete_periods_are_last_years():
    """06:30 on 1 January 2027 in Beijing is still 31 December in UTC (and in the future of
    the test database, so it is asked of the parser, not of a signed-in page)."""
    from datetime import UTC, datetime

    import time_machine

    from mediation.reports.controllers import parse_statutory

    with time_machine.travel(datetime(2026, 12, 31, 22, 30, tzinfo=UTC), tick=False):
        for kind, (start, end) in {
            "month": ("2026-12-01", "2026-12-31"),
            "quarter": ("2026-10-01", "2026-12-31"),
            "year": ("2026-01-01", "2026-12-31"),
        }.items():
            period, errors, args = parse_statutory(kind, "", "")
            assert errors == {} and args["year"] == "2026"
            assert (period.start.isoformat(), period.end.isoformat()) == (start, end), kind
        # This year's months, asked for by year: January, the month under way.
        period, _errors, _args = parse_statutory("month", "2027", "")
        assert (period.start.year, period.start.month) == (2027, 1)
