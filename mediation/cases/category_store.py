"""The dispute categories in the database: seeded, loaded into the process, edited, retired.

Labels are drawn thousands of times per page of cases, so they read the list held in memory
(``categories.current()``), never the table. This process reloads it at once after an edit made
here and otherwise at most every ``REFRESH_SECONDS`` (like the holiday calendar), so other app
servers follow an edit within that time.
"""

from __future__ import annotations

import time

from mediation.cases import categories
from mediation.cases.tables import Case
from mediation.grid.tables import DisputeCategory

REFRESH_SECONDS = 60.0
_loaded_at: float | None = None


async def load_categories() -> categories.CategoryList:
    """Read the table and make it the process's list."""
    global _loaded_at
    rows = await DisputeCategory.select(
        DisputeCategory.code,
        DisputeCategory.name_zh,
        DisputeCategory.name_en,
        DisputeCategory.active,
        DisputeCategory.sort_order,
    )
    loaded = categories.CategoryList(
        categories.Category(
            r["code"], r["name_zh"], r["name_en"], bool(r["active"]), r["sort_order"] or 0
        )
        for r in rows
    )
    categories.set_current(loaded)
    _loaded_at = time.monotonic()
    return loaded


async def refresh_categories(force: bool = False) -> categories.CategoryList:
    """The process's list, reloaded if it is older than REFRESH_SECONDS (or ``force``)."""
    if force or _loaded_at is None or time.monotonic() - _loaded_at > REFRESH_SECONDS:
        return await load_categories()
    return categories.current()


async def seed_categories() -> int:
    """Add the standard categories the table lacks (codes never change); returns how many.

    Runs after every migration, so a new database has the standard list and an older one
    gains a standard category added since. Existing rows, edited or retired, are left alone.
    """
    present = {r["code"] for r in await DisputeCategory.select(DisputeCategory.code)}
    added = 0
    for order, (code, zh, en) in enumerate(categories.STANDARD_CATEGORIES):
        if code not in present:
            await DisputeCategory(code=code, name_zh=zh, name_en=en, sort_order=order).save()
            added += 1
    if added:
        await load_categories()
    return added


async def in_use(code: str) -> bool:
    """Whether any case is filed under the category (then it is retired, never deleted)."""
    return bool(code) and await Case.exists().where(Case.category == code)
