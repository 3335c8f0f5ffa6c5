"""Tables of the intake domain: idempotency of submissions."""

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
