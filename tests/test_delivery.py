"""Light on slow networks: gzip, static files kept for a year or revalidated with 304, and no
server-side session for requests that came without one and need none."""

from __future__ import annotations

import re

import pytest

from mediation.tasks import prune_sessions
from tests.helpers import login

pytestmark = pytest.mark.anyio

COOKIELESS_PAGES = ["/health", "/static/app.css", "/my-case", "/board", "/track", "/suggest"]


def _session_files(settings) -> set[str]:
    folder = settings.data_dir / "sessions"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def test_a_request_without_a_session_creates_none(app, settings):
    from litestar.testing import AsyncTestClient

    before = _session_files(settings)
    async with AsyncTestClient(app) as client:
        for url in COOKIELESS_PAGES + ["/open311/v2/services.json"]:
            response = await client.get(url)
            assert response.status_code == 200, url
            assert "msession" not in response.headers.get("set-cookie", ""), url
            client.cookies.clear()
    assert _session_files(settings) == before


async def test_signing_in_still_creates_a_session(client, settings):
    before = _session_files(settings)
    await login(client, "grid1")
    assert client.cookies.get("msession")
    assert len(_session_files(settings) - before) == 1


async def test_pages_link_static_files_by_version_and_those_are_kept_for_a_year(client):
    page = (await client.get("/login")).text
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    response = await client.get(css)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/css")


async def test_an_unversioned_static_file_is_revalidated_with_304(client):
    first = await client.get("/static/app.css")
    etag = first.headers["etag"]
    assert "must-revalidate" in first.headers["cache-control"]
    again = await client.get("/static/app.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    changed = await client.get("/static/app.css", headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200 and changed.content == first.content


async def test_no_path_leaves_the_static_folder(client):
    for url in ("/static/../settings.py", "/static/%2e%2e/settings.py", "/static/nothing.css"):
        assert (await client.get(url)).status_code == 404


async def test_pages_and_scripts_are_gzipped_for_clients_that_accept_it(client):
    for url in ("/login", "/static/htmx-2.0.11.min.js"):
        response = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.headers.get("content-encoding") == "gzip", url
    plain = await client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_expired_session_files_are_pruned(app):
    import asyncio

    store = app.stores.get("sessions")
    await store.set("expired-one", b"{}", expires_in=1)
    await store.set("current-one", b"{}", expires_in=3600)
    expired_file = store._path_from_key("expired-one")
    await asyncio.sleep(1.1)
    # Nobody reads an abandoned session again: only the sweep's pruning removes its file.
    assert await expired_file.exists()
    await prune_sessions(app)
    assert not await expired_file.exists()
    assert await store.get("current-one") == b"{}"
