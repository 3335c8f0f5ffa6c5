"""The standard dispute categories of the monthly statistics, with stable codes."""

from __future__ import annotations

from mediation.i18n import gettext as _

# (code, Chinese name, English name). The English name is also the message id, so a
# label follows the user's locale; the codes are stable and used by the deadline policy.
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

CATEGORY_CODES = frozenset(code for code, _zh, _en in STANDARD_CATEGORIES)
_ENGLISH = {code: en for code, _zh, en in STANDARD_CATEGORIES}


def category_label(code: str) -> str:
    """The category's name in the current locale; an unknown code is shown as it is."""
    english = _ENGLISH.get(code)
    return _(english) if english else code
