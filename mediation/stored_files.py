"""The table behind ``mediation.files`` with PostgreSQL.

Its migration lives in the ``intake`` Piccolo app (whose ``table_finder`` reads this module
too), as uploads first came in through intake; every domain reads and writes it only through
``mediation.files``.
"""

from __future__ import annotations

from piccolo.columns import Bytea, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class StoredFile(Table):
    """The content of an uploaded file (case attachment, thumbnail, suggestion photo) when the
    database is PostgreSQL, so that several app servers need no shared volume; with SQLite
    files stay on disk under the data directory."""

    id: Serial  # added by Piccolo; declared for the type checker

    key = Varchar(length=240, unique=True, help_text="<folder>/<stored name>")
    content = Bytea()
    size = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
