"""Translated labels of the figures: measures, periods, warning rules."""

from __future__ import annotations

from mediation.i18n import lazy_gettext as _l

# What a date in a case list filter, or a figure, counts by.
MEASURE_LABELS = {
    "received": _l("Received"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "mediating": _l("Mediation started"),
    "settled": _l("Settled"),
    "terminated": _l("Mediation terminated"),
    "concluded": _l("Concluded (settled or terminated)"),
    "closed": _l("Closed"),
    "prevent_suicide": _l("Suicide prevented"),
    "prevent_criminal": _l("Kept from turning criminal"),
    "prevent_petition": _l("Group petition prevented"),
    "prevent_fight": _l("Group fight prevented"),
    "screened": _l("Found by screening"),
    "prevented": _l("Prevented before it broke out"),
    "confirmed": _l("Agreement judicially confirmed"),
    "assigned": _l("Mediator assigned"),
    "clause_due": _l("Agreement clause due"),
    "clause_performed": _l("Agreement clause due and performed"),
}

PERIOD_LABELS = {
    "month": _l("This month"),
    "last_month": _l("Last month"),
    "quarter": _l("This quarter"),
    "year": _l("This year"),
    "custom": _l("Custom"),
}

AGREEMENT_FORM_LABELS = {"written": _l("Written agreement"), "oral": _l("Oral agreement")}
