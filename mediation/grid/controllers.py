"""Pages of the organisation model: home, the grids a user serves and their teams."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from mediation.accounts.guards import current_user, ensure_visible
from mediation.grid import services


class HomeController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request) -> Template:
        user = current_user(request)
        teams = await services.my_teams(user)
        return Template("home.html", context={"user": user, "teams": teams})

    @get("/health", opt={"public": True})
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}


class GridController(Controller):
    path = "/grids"
    include_in_schema = False

    @get("/")
    async def grid_list(self, request: Request) -> Template:
        user = current_user(request)
        return Template("grid/grid_list.html", context={"grids": await services.grids_for(user)})

    @get("/{grid_id:int}")
    async def grid_page(self, request: Request, grid_id: FromPath[int]) -> Template:
        user = current_user(request)
        grid = ensure_visible(user, await services.grid_detail(grid_id))
        return Template("grid/grid_detail.html", context={"grid": grid})
