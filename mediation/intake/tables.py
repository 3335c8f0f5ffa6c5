"""Tables of the intake domain: idempotency of submissions, stored files (PostgreSQL)."""

from __future__ import annotations

from piccolo.columns import Bytea, ForeignKey, Integer, Timestamptz, Varchar
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


class StoredFile(Table):
    """The content of an uploaded file (case attachment, thumbnail, suggestion photo) when the
    database is PostgreSQL, so that several app servers need no shared volume; with SQLite
    files stay on disk under the data directory (see ``mediation.files``)."""

    key = Varchar(length=240, unique=True, help_text="<folder>/<stored name>")
    content = Bytea()
    size = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
