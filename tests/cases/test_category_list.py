"""The category list in memory (pure): what intake accepts, what filters and labels show."""

from __future__ import annotations

import pytest

from mediation.cases.categories import STANDARD, Category, CategoryList
from mediation.i18n import reset_locale, set_locale
from mediation.intake.forms import parse_intake

pytestmark = pytest.mark.pure

LIST = CategoryList(
    [
        *STANDARD.all,
        Category("pets", "宠物", "Pets", active=True, sort_order=40),
        Category("old_roads", "旧路", "Old roads", active=False, sort_order=41),
    ]
)


def form(category: str) -> dict:
    return {
        "category": category,
        "summary": "邻居的狗夜里叫",
        "grid": "1",
        "source": "walk_in",
        "colour": "green",
        "parties-0-role": "applicant",
        "parties-0-name": "王五",
    }


def test_intake_accepts_an_added_category_and_refuses_a_retired_one():
    _values, case, errors = parse_intake(form("pets"), LIST)
    assert errors == {} and case is not None and case.category == "pets"
    _values, case, errors = parse_intake(form("old_roads"), LIST)
    assert case is None and set(errors) == {"category"}
    # The same added code is refused where the list does not have it.
    assert "category" in parse_intake(form("pets"), STANDARD)[2]


def test_retired_categories_still_label_and_filter_but_are_not_offered():
    token = set_locale("zh_CN")
    try:
        assert LIST.label("old_roads") == "旧路"
    finally:
        reset_locale(token)
    assert LIST.label("old_roads", "en") == "Old roads"
    assert LIST.label("no_such_code") == "no_such_code"
    assert ("old_roads", "旧路") in LIST.filter_choices()
    assert "old_roads" not in dict(LIST.intake_choices())
    assert ("pets", "宠物") in LIST.intake_choices()
    assert LIST.version != STANDARD.version


def test_the_seed_keeps_the_standard_codes_including_village_affairs():
    assert "village_affairs" in STANDARD.intake_codes
    assert STANDARD.label("village_affairs", "zh_CN") == "村务管理"
