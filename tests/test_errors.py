"""Error pages: friendly, in the user's language, never a stack trace."""

from __future__ import annotations

import re

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from mediation.app import create_app
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio


async def test_an_unknown_page_says_so_in_chinese(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert "返回首页" in response.text


async def test_an_unknown_page_says_so_in_english_after_switching(client):
    await post_form(client, "/locale", {"locale": "en", "next": "/login"})
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_a_crash_shows_a_friendly_500_page_without_details(settings):
    @get("/boom", opt={"public": True})
    async def boom() -> str:
        raise RuntimeError("secret internal detail")

    app = create_app(settings)
    app.register(boom)
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "系统出错了" in response.text
    assert "secret internal detail" not in response.text


async def test_the_api_gets_json_errors(client):
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status_code"] == 404


async def test_the_health_check_is_public(client):
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_static_htmx_is_served_from_the_package_with_its_licence(client):
    response = await client.get("/static/htmx-2.0.11.min.js")
    assert response.status_code == 200
    assert 'version:"2.0.11"' in response.text.replace(" ", "")
    assert (await client.get("/static/htmx-LICENSE.txt")).status_code == 200
    await login(client, "grid1")
    page = (await client.get("/")).text
    assert re.search(r'<script src="/static/htmx-2\.0\.11\.min\.js\?v=[0-9a-f]{12}"', page)
