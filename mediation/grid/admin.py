"""Administration screens for the organisation model and reference data, plus CSV import."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from mediation.accounts.guards import current_user, requires_role
from mediation.accounts.services import forget_user, hash_password
from mediation.db import is_postgres
from mediation.grid import csv_import, services
from mediation.grid.forms import FieldSpec, parse_form
from mediation.grid.tables import (
    Department,
    DisputeCategory,
    Grid,
    Mediator,
    Region,
    Staff,
    TeamMember,
)
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.inputs import Page, contains
from mediation.labels import LEVEL_LABELS, ROLE_LABELS, TEAM_ROLE_LABELS
from mediation.roles import MEDIATOR_ROLES, ROLES, TEAM_ROLES
from mediation.web import see_other

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
PAGE_SIZE = 50


async def _region_choices() -> list[tuple[str, str]]:
    rows = await Region.select(Region.id, Region.name, Region.level, Region.path).order_by(
        Region.path
    )
    return [(str(r["id"]), ("　" * (r["path"].count("/") - 2)) + r["name"]) for r in rows]


async def _community_choices() -> list[tuple[str, str]]:
    rows = (
        await Region.select(Region.id, Region.name, Region.parent.name)
        .where(Region.level == "community")
        .order_by(Region.path)
    )
    return [(str(r["id"]), f"{r['parent.name']} · {r['name']}") for r in rows]


async def _department_choices() -> list[tuple[str, str]]:
    rows = await Department.select(Department.id, Department.name).order_by(Department.code)
    return [(str(r["id"]), r["name"]) for r in rows]


async def _level_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in LEVEL_LABELS.items()]


async def _role_choices() -> list[tuple[str, str]]:
    return [(k, str(ROLE_LABELS[k])) for k in ROLES]


async def _category_choices() -> list[tuple[str, str]]:
    from mediation.cases.category_store import refresh_categories

    return (await refresh_categories()).intake_choices()


async def _mediator_staff_choices() -> list[tuple[str, str]]:
    rows = await Staff.select(Staff.id, Staff.display_name, Staff.username, Staff.roles).order_by(
        Staff.username
    )
    return [
        (str(r["id"]), f"{r['display_name']} ({r['username']})")
        for r in rows
        if set(MEDIATOR_ROLES) & set(r["roles"] or [])
    ]


# The tables the admin pages edit (each with Piccolo's ``id``).
AdminTable = (
    type[Region]
    | type[Grid]
    | type[Staff]
    | type[Mediator]
    | type[Department]
    | type[DisputeCategory]
)


@dataclass(frozen=True)
class Entity:
    slug: str
    title: Any
    table: AdminTable
    fields: list[FieldSpec]
    columns: list[tuple[str, Any]]


ENTITIES: dict[str, Entity] = {
    "regions": Entity(
        "regions",
        _l("Regions"),
        Region,
        [
            FieldSpec("code", _l("Code"), required=True, max_length=32),
            FieldSpec("name", _l("Name"), required=True),
            FieldSpec("level", _l("Level"), "choice", required=True, choices=_level_choices),
            FieldSpec("parent", _l("Parent region"), "choice", choices=_region_choices),
        ],
        [
            ("code", _l("Code")),
            ("name", _l("Name")),
            ("level", _l("Level")),
            ("parent.name", _l("Parent region")),
        ],
    ),
    "grids": Entity(
        "grids",
        _l("Grids"),
        Grid,
        [
            FieldSpec("code", _l("Code"), required=True, max_length=32),
            FieldSpec("name", _l("Name"), required=True),
            FieldSpec(
                "region",
                _l("Village/community"),
                "choice",
                required=True,
                choices=_community_choices,
            ),
            FieldSpec("police_beat", _l("Police beat")),
            FieldSpec("boundary", _l("Boundary"), "textarea"),
        ],
        [
            ("code", _l("Code")),
            ("name", _l("Name")),
            ("region.name", _l("Village/community")),
            ("police_beat", _l("Police beat")),
        ],
    ),
    "staff": Entity(
        "staff",
        _l("Staff"),
        Staff,
        [
            FieldSpec("username", _l("User name"), required=True, max_length=64),
            FieldSpec("display_name", _l("Full name"), required=True, max_length=64),
            FieldSpec("roles", _l("Roles"), "multi", required=True, choices=_role_choices),
            FieldSpec(
                "region", _l("Home region"), "choice", required=True, choices=_region_choices
            ),
            FieldSpec("department", _l("Department"), "choice", choices=_department_choices),
            FieldSpec("phone", _l("Phone"), max_length=32),
            FieldSpec("active", _l("Active"), "bool"),
            FieldSpec(
                "password",
                _l("New password"),
                "password",
                help=_l("Leave empty to keep the current password."),
            ),
        ],
        [
            ("username", _l("User name")),
            ("display_name", _l("Full name")),
            ("roles", _l("Roles")),
            ("region.name", _l("Home region")),
            ("active", _l("Active")),
        ],
    ),
    "mediators": Entity(
        "mediators",
        _l("Mediators"),
        Mediator,
        [
            FieldSpec(
                "staff", _l("Person"), "choice", required=True, choices=_mediator_staff_choices
            ),
            FieldSpec(
                "skills", _l("Skills (dispute categories)"), "multi", choices=_category_choices
            ),
            FieldSpec(
                "dialects", _l("Dialects and languages"), "list", help=_l("Separate with commas.")
            ),
            FieldSpec("available", _l("Available"), "bool"),
            FieldSpec("max_cases", _l("Maximum concurrent cases"), "int", required=True),
            FieldSpec("organisation", _l("Organisation")),
        ],
        [
            ("staff.display_name", _l("Person")),
            ("organisation", _l("Organisation")),
            ("max_cases", _l("Maximum concurrent cases")),
            ("available", _l("Available")),
        ],
    ),
    "departments": Entity(
        "departments",
        _l("Departments"),
        Department,
        [
            FieldSpec("code", _l("Code"), required=True, max_length=32),
            FieldSpec("name", _l("Name"), required=True),
            FieldSpec("region", _l("Region"), "choice", choices=_region_choices),
            FieldSpec("contact", _l("Contact")),
            FieldSpec("active", _l("Active"), "bool"),
        ],
        [
            ("code", _l("Code")),
            ("name", _l("Name")),
            ("contact", _l("Contact")),
            ("active", _l("Active")),
        ],
    ),
    "categories": Entity(
        "categories",
        _l("Dispute categories"),
        DisputeCategory,
        [
            FieldSpec("code", _l("Code"), required=True, max_length=32),
            FieldSpec("name_zh", _l("Chinese name"), required=True, max_length=50),
            FieldSpec("name_en", _l("English name"), required=True, max_length=80),
            FieldSpec("sort_order", _l("Sort order"), "int"),
            FieldSpec(
                "active",
                _l("Active"),
                "bool",
                help=_l(
                    "Untick to retire a category: new cases can no longer choose it, "
                    "older cases keep it."
                ),
            ),
        ],
        [
            ("code", _l("Code")),
            ("name_zh", _l("Chinese name")),
            ("name_en", _l("English name")),
            ("active", _l("Active")),
        ],
    ),
}

UNIQUE_FIELDS = {
    "regions": "code",
    "grids": "code",
    "staff": "username",
    "departments": "code",
    "categories": "code",
    "mediators": "staff",
}


def _entity(slug: str) -> Entity:
    entity = ENTITIES.get(slug)
    if entity is None:
        raise NotFoundException()
    return entity


def _select_columns(entity: Entity) -> list[Any]:
    table = entity.table
    cols: list[Any] = [table.all_columns()]
    for key, _label in entity.columns:
        if "." in key:
            fk, attr = key.split(".")
            cols.append(getattr(getattr(table, fk), attr))
    return cols


async def _fetch(entity: Entity, pk: int) -> dict | None:
    return await entity.table.select(*_select_columns(entity)).where(entity.table.id == pk).first()


async def _region_move_refused(pk: int, values: dict, parent: dict | None) -> str:
    """The field to blame when an edit would move a region whose subtree holds records, or ''.

    Cases, suggestions and the figures are filed by the region path (that is how scopes and
    rollups find them), so a new code or parent would leave them under a path nobody sees.
    """
    from mediation.cases.tables import Case
    from mediation.suggestions.tables import Suggestion

    current = await Region.select(Region.path, Region.code).where(Region.id == pk).first()
    if current is None or not values.get("code"):
        return ""
    new_path = services.child_path(parent["path"] if parent else None, values["code"])
    if new_path == current["path"]:
        return ""
    prefix = current["path"]
    if not (
        await Case.exists().where(Case.region_path.like(prefix + "%"))
        or await Suggestion.exists().where(Suggestion.region_path.like(prefix + "%"))
    ):
        return ""
    return "code" if values["code"] != current["code"] else "parent"


async def _check_rules(
    slug: str, values: dict, pk: int | None, actor_id: int | None = None
) -> dict[str, str]:
    """Cross-field rules: uniqueness, the shape of the region tree, team-role consistency, an
    administrator left to sign in."""
    errors: dict[str, str] = {}
    if slug == "staff":
        errors.update(services.staff_field_errors(values))
        errors.update(await services.staff_change_refusals(pk, values, actor_id))
    entity = ENTITIES[slug]
    unique = UNIQUE_FIELDS[slug]
    if values.get(unique) not in (None, ""):
        column = getattr(entity.table, unique)
        query = entity.table.exists().where(column == values[unique])
        if pk is not None:
            query = query.where(entity.table.id != pk)
        if await query:
            errors[unique] = _("This is already in use.")
    if slug == "regions" and values.get("level"):
        parent = None
        if values.get("parent"):
            parent = (
                await Region.select(Region.level, Region.path)
                .where(Region.id == int(values["parent"]))
                .first()
            )
        expected_parent = {"county": None, "town": "county", "community": "town"}[
            values["level"] or "county"
        ]
        if (parent["level"] if parent else None) != expected_parent:
            errors["parent"] = _(
                "A county has no parent; a town belongs to a county; a community to a town."
            )
        # Levels are strict (county → town → community), so a cycle cannot form; but a region
        # with children keeps its level, or the tree below it would no longer fit.
        if pk is not None:
            current = await Region.select(Region.level).where(Region.id == pk).first()
            has_children = await Region.exists().where(Region.parent == pk)
            if current and has_children and current["level"] != values["level"]:
                errors["level"] = _("A region with sub-regions cannot change its level.")
            moved = await _region_move_refused(pk, values, parent)
            if moved:
                errors[moved] = _(
                    "Cases or suggestions are filed under this region: its code and parent "
                    "cannot change (records, scopes and statistics are kept by its path)."
                )
    if slug == "categories":
        errors.update(await _category_rules(values, pk))
    if slug == "categories" and pk is not None and values.get("code"):
        from mediation.cases.category_store import in_use

        current = (
            await DisputeCategory.select(DisputeCategory.code)
            .where(DisputeCategory.id == pk)
            .first()
        )
        if current and current["code"] != values["code"] and await in_use(current["code"]):
            errors["code"] = _(
                "Cases are filed under this code, so it cannot change (statistics count by it)."
            )
    return errors


# A category's code appears in URLs, exports and the deadline policy's keys.
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


async def _category_rules(values: dict, pk: int | None) -> dict[str, str]:
    """A new or changed code is lower-case letters, digits and _; no two categories share a
    Chinese or an English name (the intake list and the statistics show names only)."""
    errors: dict[str, str] = {}
    rows = await DisputeCategory.select(
        DisputeCategory.id, DisputeCategory.code, DisputeCategory.name_zh, DisputeCategory.name_en
    )
    others = [r for r in rows if r["id"] != pk]
    current = next((r for r in rows if r["id"] == pk), None)
    code = values.get("code") or ""
    if code and (current is None or current["code"] != code) and not CATEGORY_CODE.match(code):
        errors["code"] = _(
            "Use lower-case letters a-z, digits and _, starting with a letter (e.g. education)."
        )
    for field in ("name_zh", "name_en"):
        name = " ".join((values.get(field) or "").split()).casefold()
        if name and any(" ".join((r[field] or "").split()).casefold() == name for r in others):
            errors[field] = _("Another dispute category already has this name.")
    return errors


async def delete_category(pk: int, actor) -> str:
    """Delete a category nobody uses; '' when done, else why not (retire it instead)."""
    from mediation.cases.categories import STANDARD_CODES
    from mediation.cases.category_store import in_use, refresh_categories

    row = await DisputeCategory.select().where(DisputeCategory.id == pk).first()
    if row is None:
        raise NotFoundException()
    if row["code"] in STANDARD_CODES:
        return _(
            "A standard category of the statistics cannot be deleted; untick Active to retire it."
        )
    if await in_use(row["code"]):
        return _("Cases are filed under this category: untick Active to retire it instead.")
    from mediation.cases.policy_store import current_policy

    if row["code"] in (await current_policy()).categories:
        return _(
            "The deadline policy has a rule for this category: take it out of the policy first."
        )
    await DisputeCategory.delete().where(DisputeCategory.id == pk)
    await services.record_audit(actor, "delete", "categories", pk, row, {})
    await refresh_categories(force=True)
    return ""


async def save_entity(slug: str, values: dict, pk: int | None, actor) -> int:
    """Insert or update one record of reference data and record the change."""
    entity = ENTITIES[slug]
    table = entity.table
    data = dict(values)
    for spec in entity.fields:
        column = getattr(table, spec.name, None)
        if spec.kind == "int" and data.get(spec.name) is None and column is not None:
            # An optional number left empty takes the column's default (sort order 0), never
            # a NULL the column refuses.
            if not column._meta.null:
                data[spec.name] = column.default
    for key in ("parent", "region", "department", "staff"):
        if key in data:
            data[key] = int(data[key]) if data[key] else None
    if slug == "staff":
        password = data.pop("password", "")
        if password:
            data["password_hash"] = hash_password(password)
        elif pk is None:
            data["password_hash"] = hash_password(services.random_password())
    before = await _fetch(entity, pk) if pk is not None else {}
    if slug == "regions":
        parent_path = None
        if data.get("parent"):
            parent = await Region.select(Region.path).where(Region.id == data["parent"]).first()
            assert parent is not None  # the form takes a parent from the list of regions
            parent_path = parent["path"]
        data["path"] = services.child_path(parent_path, data["code"])
    if pk is None:
        row = table(**data)
        await row.save()
        pk = row.id
    else:
        await table.update({getattr(table, k): v for k, v in data.items()}).where(table.id == pk)
        if slug == "regions" and before and before["path"] != data["path"]:
            await services.move_subtree(before["path"], data["path"])
    if slug in ("staff", "regions"):
        forget_user()
    if slug == "categories":
        from mediation.cases.category_store import refresh_categories

        await refresh_categories(force=True)
    logged = {k: v for k, v in data.items() if k != "password_hash"}
    before_logged = {k: before.get(k) for k in logged} if before else {}
    if slug == "staff" and before and "password_hash" in data:
        # Said, never shown: the administrator typed a new password for the account.
        before_logged["password_reset"] = False
        logged["password_reset"] = True
    await services.record_audit(
        actor, "update" if before else "create", slug, pk, before_logged, logged
    )
    return pk


class AdminController(Controller):
    path = "/admin"
    guards = [requires_role("admin")]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        from mediation.backup import backup_status
        from mediation.cases import holidays

        calendar = await holidays.refresh_calendar()
        return Template(
            "admin/index.html",
            context={
                "entities": ENTITIES,
                "counts": await services.counts(),
                "backup": backup_status(request.app.state.settings),
                "holidays_missing": holidays.warnings(calendar),
            },
        )

    @get("/{slug:str}")
    async def list_entities(
        self, slug: FromPath[str], q: FromQuery[str] = "", page: Page = 1
    ) -> Template:
        entity = _entity(slug)
        query = entity.table.select(*_select_columns(entity))
        if q:
            text_field = {
                "staff": Staff.display_name,
                "mediators": Mediator.staff.display_name,
                "categories": DisputeCategory.name_zh,
            }.get(slug) or entity.table._meta.get_column_by_name("name")
            query = query.where(contains(text_field, q))
        page = max(page, 1)
        rows = (
            await query.order_by(entity.table.id)
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
        return Template(
            "admin/list.html",
            context={
                "entity": entity,
                "rows": rows[:PAGE_SIZE],
                "has_more": len(rows) > PAGE_SIZE,
                "page": page,
                "q": q,
            },
        )

    @get("/{slug:str}/new")
    async def new_form(self, slug: FromPath[str]) -> Template:
        entity = _entity(slug)
        defaults = {"active": True, "available": True, "max_cases": "5", "sort_order": "0"}
        return await _form_page(entity, None, defaults, {})

    @get("/{slug:str}/{pk:int}")
    async def edit_form(self, slug: FromPath[str], pk: FromPath[int]) -> Template:
        entity = _entity(slug)
        row = await _fetch(entity, pk)
        if row is None:
            raise NotFoundException()
        values = {
            k: ("" if v is None else (v if isinstance(v, (list, bool)) else str(v)))
            for k, v in row.items()
        }
        if slug == "mediators":
            values["dialects"] = ", ".join(row["dialects"] or [])
        return await _form_page(entity, pk, values, {})

    @post("/{slug:str}/new")
    async def create(
        self, request: Request, slug: FromPath[str], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        return await _submit(request, _entity(slug), None, data)

    @post("/{slug:str}/{pk:int}")
    async def update(
        self,
        request: Request,
        slug: FromPath[str],
        pk: FromPath[int],
        data: Annotated[dict[str, Any], Form],
    ) -> Template | Redirect:
        entity = _entity(slug)
        if await _fetch(entity, pk) is None:
            raise NotFoundException()
        return await _submit(request, entity, pk, data)

    @post("/{slug:str}/{pk:int}/delete")
    async def delete_entity(
        self, request: Request, slug: FromPath[str], pk: FromPath[int]
    ) -> Template | Redirect:
        entity = _entity(slug)
        if await _fetch(entity, pk) is None:
            raise NotFoundException()
        # Only an unused category can be deleted; other reference data is deactivated.
        if slug == "categories":
            refusal = await delete_category(pk, current_user(request))
        else:
            refusal = _("This cannot be deleted; mark it inactive instead.")
        if refusal:
            row = await _fetch(entity, pk) or {}
            values = {
                k: ("" if v is None else (v if isinstance(v, bool) else str(v)))
                for k, v in row.items()
            }
            return await _form_page(entity, pk, values, {}, status_code=409, refusal=refusal)
        return see_other("/admin/categories?deleted=1")

    @post("/teams/{pk:int}")
    async def add_team_member(
        self, request: Request, pk: FromPath[int], data: Annotated[dict[str, Any], Form]
    ) -> Template | Redirect:
        try:
            await services.add_team_member(
                pk, int(data.get("staff") or 0), str(data.get("role", "")), current_user(request)
            )
        except (services.GridError, ValueError) as exc:
            entity = ENTITIES["grids"]
            row = await _fetch(entity, pk)
            values = {k: ("" if v is None else str(v)) for k, v in (row or {}).items()}
            message = (
                exc.message if isinstance(exc, services.GridError) else _("Choose from the list.")
            )
            return await _form_page(
                entity, pk, values, {}, team_errors={"staff": message}, status_code=422
            )
        return see_other(f"/admin/grids/{pk}")

    @post("/teams/{pk:int}/{member_id:int}/remove")
    async def remove_team_member(
        self, request: Request, pk: FromPath[int], member_id: FromPath[int]
    ) -> Redirect:
        await services.remove_team_member(pk, member_id, current_user(request))
        return see_other(f"/admin/grids/{pk}")

    @get("/import")
    async def import_page(self) -> Template:
        return Template("admin/import.html", context={"report": None, "kinds": csv_import.KINDS})

    @post("/import")
    async def import_csv(
        self, request: Request, data: Annotated[dict[str, Any], Multipart]
    ) -> Template:
        kind = str(data.get("kind", ""))
        upload = data.get("file")
        content = b""
        if isinstance(upload, UploadFile):
            content = await upload.read()
        report = await csv_import.import_csv(kind, content, current_user(request))
        return Template(
            "admin/import.html",
            context={"report": report, "kinds": csv_import.KINDS, "kind": kind},
            status_code=200 if report.ok else 422,
        )


async def _submit(
    request: Request, entity: Entity, pk: int | None, data: dict
) -> Template | Redirect:
    result = await parse_form(entity.fields, data, creating=pk is None)
    if entity.slug == "staff" and pk is None and not result.values.get("password"):
        result.errors.setdefault("password", _("This field is required."))
    new_pk = await check_and_save(
        entity.slug, result.values, pk, current_user(request), result.errors
    )
    if new_pk is None:
        return await _form_page(entity, pk, result.raw, result.errors, status_code=422)
    return see_other(f"/admin/{entity.slug}/{new_pk}?saved=1")


async def check_and_save(
    slug: str, values: dict, pk: int | None, actor: Any, errors: dict[str, str]
) -> int | None:
    """The cross-field rules, then the save if nothing (in ``errors`` or the rules) refuses
    it; the record's id, or None with the refusals added to ``errors``. Accounts are checked
    and saved one edit at a time: two administrators disabling each other at the same moment
    must not both find the other still active."""
    async with _edit_lock(slug == "staff"):
        for key, message in (await _check_rules(slug, values, pk, actor.id)).items():
            errors.setdefault(key, message)
        if errors:
            return None
        return await save_entity(slug, values, pk, actor)


_STAFF_EDITS = asyncio.Lock()
# The PostgreSQL advisory lock of account edits (any number; this one spells "staff").
_STAFF_EDIT_LOCK_KEY = 0x5354414646


@asynccontextmanager
async def _edit_lock(needed: bool) -> AsyncIterator[None]:
    """One account edit at a time: in this process, and on PostgreSQL across the servers (a
    transaction holding an advisory lock, in which the check and the save run)."""
    if not needed:
        yield
        return
    async with _STAFF_EDITS:
        if not is_postgres():
            yield
            return
        async with Staff._meta.db.transaction():
            await Staff.raw("SELECT pg_advisory_xact_lock({})", _STAFF_EDIT_LOCK_KEY)
            yield


async def _form_page(
    entity: Entity,
    pk: int | None,
    values: dict,
    errors: dict,
    team_errors: dict | None = None,
    status_code: int = 200,
    refusal: str = "",
) -> Template:
    choices = {f.name: await f.choices() for f in entity.fields if f.choices}
    context: dict[str, Any] = {
        "entity": entity,
        "pk": pk,
        "values": values,
        "errors": errors,
        "choices": choices,
        "refusal": refusal,
    }
    if entity.slug == "grids" and pk is not None:
        context["team"] = await TeamMember.select(
            TeamMember.id, TeamMember.role, TeamMember.staff.display_name, TeamMember.staff.username
        ).where(TeamMember.grid == pk)
        staff_rows = (
            await Staff.select(Staff.id, Staff.display_name, Staff.username, Staff.roles)
            .where(Staff.active.eq(True))
            .order_by(Staff.username)
        )
        context["team_candidates"] = [
            r for r in staff_rows if set(TEAM_ROLES) & set(r["roles"] or [])
        ]
        context["team_roles"] = TEAM_ROLE_LABELS
        context["team_errors"] = team_errors or {}
    return Template("admin/form.html", context=context, status_code=status_code)
