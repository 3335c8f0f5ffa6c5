"""Idempotency of case registration: a submission already turned into a case.

``register_case`` writes this table in the transaction that creates the case, so it lives
beside the cases. Its migrations stay with the ``intake`` Piccolo app, which created it (the
table name ``intake_submission`` is unchanged): that app's ``table_finder`` reads this module,
and the ``cases`` app reads only ``cases.tables``. Moving the migrations to the cases app
would need a copy-and-drop migration for no gain.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from mediation.cases.tables import Case
from mediation.grid.tables import Staff


class IntakeSubmission(Table):
    """A form submission already turned into a case: a retried request returns the same case."""

    key = Varchar(length=64, unique=True, help_text="Idempotency key sent with the form")
    staff = ForeignKey(Staff)
    case = ForeignKey(Case)
    created_at = Timestamptz(default=TimestamptzNow())
