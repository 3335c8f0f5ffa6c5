"""Who may open what: roles per route and the region subtree, over every route that exists.

Personas (demo county): grid1 serves 东湖社区第1网格 with police1; grid4 serves 西门社区,
another community of the same town; centre1 sees the whole 当湖街道; admin the county.
"""

from __future__ import annotations

import pytest

from mediation.grid.tables import Grid
from tests.helpers import login

pytestmark = pytest.mark.anyio


async def grid_id(code: str) -> int:
    return (await Grid.select(Grid.id).where(Grid.code == code).first())["id"]


DONGHU_1 = "330482001001-01"  # grid1's own grid
XIMEN_1 = "330482001002-01"  # another community in the same town
XINDAI_1 = "330482101001-01"  # another town

# (user, path, expected status). "{donghu}" etc. are filled with real grid ids.
ROUTES = [
    (None, "/", 303),
    (None, "/grids", 303),
    (None, "/admin/", 303),
    ("grid1", "/", 200),
    ("grid1", "/grids", 200),
    ("grid1", "/grids/{donghu}", 200),
    ("grid1", "/grids/{ximen}", 404),
    ("grid1", "/grids/{xindai}", 404),
    ("grid1", "/grids/999999", 404),
    ("grid1", "/admin/", 403),
    ("grid1", "/admin/staff", 403),
    ("grid1", "/admin/import", 403),
    ("police1", "/grids/{donghu}", 200),
    ("police1", "/grids/{ximen}", 404),
    ("centre1", "/grids/{donghu}", 200),
    ("centre1", "/grids/{ximen}", 200),
    ("centre1", "/grids/{xindai}", 404),
    ("centre1", "/admin/", 403),
    ("mediator1", "/admin/regions", 403),
    ("handler1", "/admin/categories", 403),
    ("admin", "/grids/{xindai}", 200),
    ("admin", "/admin/", 200),
    ("admin", "/admin/regions", 200),
    ("admin", "/admin/grids", 200),
    ("admin", "/admin/staff", 200),
    ("admin", "/admin/mediators", 200),
    ("admin", "/admin/departments", 200),
    ("admin", "/admin/categories", 200),
    ("admin", "/admin/import", 200),
    ("admin", "/admin/grids/{donghu}", 200),
    ("admin", "/admin/nonsense", 404),
]


@pytest.mark.parametrize("user,path,expected", ROUTES)
async def test_route_access(client, user, path, expected):
    path = path.format(
        donghu=await grid_id(DONGHU_1), ximen=await grid_id(XIMEN_1), xindai=await grid_id(XINDAI_1)
    )
    if user:
        await login(client, user)
    response = await client.get(path, follow_redirects=False)
    # Anonymous visitors are sent to sign in (302/303), never shown the page.
    if expected == 303:
        assert response.status_code in (302, 303)
        assert response.headers["location"].startswith("/login")
    else:
        assert response.status_code == expected


async def test_a_grid_worker_lists_only_the_grids_of_their_community(client):
    await login(client, "grid1")
    page = (await client.get("/grids")).text
    assert "东湖社区第1网格" in page
    assert "西门社区" not in page
    assert "新埭" not in page


async def test_a_town_centre_lists_every_community_of_the_town_and_no_other(client):
    await login(client, "centre1")
    page = (await client.get("/grids")).text
    assert "东湖社区第1网格" in page and "南市社区第3网格" in page
    assert "新埭社区" not in page


async def test_a_forbidden_page_is_friendly_and_in_the_users_language(client):
    await login(client, "grid1")
    response = await client.get("/admin/")
    assert response.status_code == 403
    assert "您没有查看此页面的权限" in response.text
    assert "<form" in response.text  # the normal layout, with the language switch


async def test_an_htmx_request_without_a_session_gets_401_and_the_page_stays(client):
    # The page offers to sign in again in a new tab (static/app.js): a redirect of the whole
    # page would throw away what the user typed.
    response = await client.get("/grids", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers
    assert "location" not in response.headers
