"""Dispute categories: the list in memory that intake, filters, labels and the API read.

The ``DisputeCategory`` table (edited at /admin/categories) is the one source; this module holds
the process's copy as a ``CategoryList`` (pure: no I/O), loaded and refreshed by
``category_store`` like the holiday calendar. Functions that need the list take it as an
argument or read ``current()``.

``STANDARD_CATEGORIES`` only seeds the table (``category_store.seed_categories``) and lays out
the rows of the statutory monthly form. Codes are stable: the statistics and the deadline
policy refer to them. A category in use is retired (``active`` false) rather than deleted: it
disappears from intake but still labels and filters the cases that have it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediation.i18n import get_locale

# (code, Chinese name, English name): the standard categories of the monthly statistics.
STANDARD_CATEGORIES: list[tuple[str, str, str]] = [
    ("marriage_family", "婚姻家庭", "Marriage and family"),
    ("neighbour", "邻里", "Neighbours"),
    ("housing_land", "房屋宅基地", "Housing and homestead land"),
    ("contract", "合同", "Contracts"),
    ("business", "生产经营", "Production and business"),
    ("damages", "损害赔偿", "Compensation for damage"),
    ("forest_land", "山林土地", "Forests and land"),
    ("land_requisition", "征地拆迁", "Land requisition and demolition"),
    ("pollution", "环境污染", "Environmental pollution"),
    ("labour", "劳动争议", "Labour disputes"),
    ("village_affairs", "村务管理", "Village affairs management"),
    ("consumer", "消费", "Consumer disputes"),
    ("medical", "医疗", "Medical disputes"),
    ("traffic", "道路交通事故", "Road traffic accidents"),
    ("property_mgmt", "物业", "Property management"),
    ("other", "其他", "Other"),
]

STANDARD_CODES = frozenset(code for code, _zh, _en in STANDARD_CATEGORIES)


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    active: bool = True
    sort_order: int = 0

    def label(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else (self.name_en or self.name_zh)


class CategoryList:
    """Every category (retired ones too, for old cases), in display order."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self.all: tuple[Category, ...] = tuple(
            sorted(categories, key=lambda c: (c.sort_order, c.code))
        )
        self._by_code = {c.code: c for c in self.all}
        self.intake_codes = frozenset(c.code for c in self.all if c.active)
        self.codes = frozenset(self._by_code)
        # Caches of rendered labels key on this: it changes whenever a category does.
        self.version = hash(self.all)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CategoryList) and self.all == other.all

    def __hash__(self) -> int:
        return self.version

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def label(self, code: str, locale: str | None = None) -> str:
        """The category's name in the locale; an unknown code is shown as it is."""
        category = self._by_code.get(code)
        return category.label(locale or get_locale()) if category else code

    def intake_choices(self, locale: str | None = None) -> list[tuple[str, str]]:
        """What a new case may be filed under: the categories not retired."""
        return [(c.code, c.label(locale or get_locale())) for c in self.all if c.active]

    def filter_choices(self, locale: str | None = None) -> list[tuple[str, str]]:
        """What a list may be filtered by: every category, retired ones too."""
        return [(c.code, c.label(locale or get_locale())) for c in self.all]

    def ordered_codes(self) -> list[str]:
        return [c.code for c in self.all]


STANDARD = CategoryList(
    Category(code, zh, en, True, order) for order, (code, zh, en) in enumerate(STANDARD_CATEGORIES)
)

# The process's list: the seed until the table has been read (pure code and tests run
# without a database), then whatever ``category_store`` last loaded.
_current: CategoryList = STANDARD


def current() -> CategoryList:
    return _current


def set_current(categories: CategoryList) -> None:
    global _current
    _current = categories


def category_label(code: str) -> str:
    """The category's name in the current locale; an unknown code is shown as it is."""
    return _current.label(code)
