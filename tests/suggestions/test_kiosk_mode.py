"""On a bound tablet every citizen page is the kiosk's: /suggest is the kiosk form and files
for the point, /track and /board clear themselves and lead nowhere near the staff pages; the
binding link is spent by its button, not by opening it."""

from __future__ import annotations

import re

import pytest

from mediation.suggestions.tables import Suggestion
from tests.helpers import post_form
from tests.suggestions.test_public import GOOD, _bind, _bound_point, _unique

pytestmark = pytest.mark.anyio


def _links(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]*)"', html)


async def test_opening_the_link_twice_spends_nothing_and_its_button_binds(client):
    _point_id, link = await _bound_point("桃园社区直报点")
    for _ in range(2):  # a chat preview, then the tablet
        page = await client.get(f"/kiosk/bind/{link}")
        assert page.status_code == 200 and "桃园社区直报点" in page.text
        assert "kiosk_token" not in page.headers.get("set-cookie", "")
    assert (await client.get("/kiosk")).status_code == 403
    await _bind(client, link)
    assert (await client.get("/kiosk")).status_code == 200
    # Spent: opening it again says so.
    assert "绑定链接无效" in (await client.get(f"/kiosk/bind/{link}")).text


async def test_every_citizen_page_of_a_bound_tablet_is_in_kiosk_mode(client):
    point_id, link = await _bound_point("杏林社区直报点")
    await _bind(client, link)
    web_form = await client.get("/suggest", follow_redirects=False)
    assert web_form.status_code == 303 and web_form.headers["location"] == "/kiosk"
    for url in ("/kiosk", "/track", "/board"):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert "data-kiosk" in page.text and 'data-reset-url="/kiosk/new"' in page.text, url
        assert "kiosk.js" in page.text, url
        links = _links(page.text)
        assert not [h for h in links if "login" in h], (url, links)
        assert "/" not in links and "/suggest" not in links, (url, links)
        assert "/kiosk" in links, url
    # A page that does not exist (a mistyped or stale link) stays in the kiosk too.
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404
    links = _links(missing.text)
    assert not [h for h in links if "login" in h], links
    assert "/" not in links and "/kiosk" in links, links
    # What is filed from the web form's address on the tablet is the point's.
    topic = _unique()
    response = await post_form(client, "/suggest", {**GOOD, "topic": topic})
    assert response.status_code == 303 and response.headers["location"].startswith("/kiosk/")
    row = await Suggestion.select().where(Suggestion.title == topic).first()
    assert row["channel"] == "direct_report_point" and row["point"] == point_id


async def test_the_same_pages_elsewhere_are_not_a_kiosk(client):
    for url in ("/suggest", "/track", "/board"):
        page = await client.get(url)
        assert page.status_code == 200 and "data-kiosk" not in page.text, url
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404 and "/" in _links(missing.text)
    topic = _unique()
    response = await post_form(client, "/suggest", {**GOOD, "topic": topic})
    assert response.status_code == 303
    row = await Suggestion.select().where(Suggestion.title == topic).first()
    assert row["channel"] == "web" and row["point"] is None
