"""Translated display labels for codes shared across domains (roles, levels).

Chinese wording: one term per act, everywhere (pages, texts, documents, catalogs):

- 上报 (never 上交): a case escalated to the next level (``escalate``).
- 转办 (never 交办): a suggestion routed to the department that handles it (``route``):
  已转办, 尚未转办, 转办期限. A case is never handed to a department; a mediator is 指派.
- 村（社区） and 镇（街道） when a level is named generically (never 村社区, 镇街, 社区（村）).
- 法定代表人（负责人） for an organisation's legal representative; 委托代理人 for an agent a party
  authorises; 当事人代表 for the few people a side chooses to speak for it at a session.
- Dates in Chinese text are written 2026年11月30日 (``format_date``), never 2026-11-30.
"""

from __future__ import annotations

from mediation.i18n import lazy_gettext as _l

ROLE_LABELS = {
    "grid_worker": _l("Grid worker"),
    "police": _l("Community police officer"),
    "mediator": _l("Mediator"),
    "volunteer": _l("Volunteer mediator"),
    "centre_staff": _l("Mediation centre staff"),
    "handler": _l("Department handler"),
    "admin": _l("Administrator"),
}

LEVEL_LABELS = {
    "county": _l("County"),
    "town": _l("Town/subdistrict"),
    "community": _l("Village/community"),
}

TEAM_ROLE_LABELS = {
    "grid_worker": _l("Grid worker"),
    "police": _l("Community police officer"),
}
