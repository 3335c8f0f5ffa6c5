"""Translated display labels for codes shared across domains (roles, levels)."""

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
