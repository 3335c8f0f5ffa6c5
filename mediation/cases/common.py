"""Constants and the error every case rule raises."""

from __future__ import annotations

from datetime import date

from mediation.cases import workflow
from mediation.clock import local_today

OPEN_STATUSES = [s.value for s in workflow.CaseStatus if workflow.is_open(s)]
PAGE_SIZE = 25

SOURCES = (
    "door_knocking",
    "walk_in",
    "phone",
    "police_referral",
    "hotline_12345",
    "direct_report_point",
    "suggestion",
    "referral",
)
COLOURS = ("red", "yellow", "green")
PARTY_ROLES = ("applicant", "respondent", "third_party")
PARTY_KINDS = ("person", "organisation")


class CaseError(Exception):
    """A rule was broken; ``message`` is shown to the user, beside ``field`` if there is one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class EditConflict(CaseError):
    """Someone else changed the case since this user loaded it."""


def today() -> date:
    """Today in the county (the server's clock is UTC)."""
    return local_today()
