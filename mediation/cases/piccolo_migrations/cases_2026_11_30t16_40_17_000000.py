"""The notification index on ``read`` dropped; closed and declined cases no longer overdue.

- ``notification.read``: every query on notifications asks for one recipient's (the inbox,
  its unread count, marking read), which the index on ``recipient`` answers; the sweeps
  insert tens of thousands of notifications at scale, each writing every index.
- Closing or declining a case now clears its overdue flag (every clock stops there and the
  sweep reads only open cases); the cases closed before kept it: cleared here, the version
  bumped as for any change. Backwards leaves them cleared.

Backwards puts the index back.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.engine import engine_finder

ID = "2026-11-30T16:40:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "Drop the index on notification.read; clear overdue on closed cases"


async def _clear_overdue_of_closed_cases() -> None:
    await engine_finder().run_ddl(
        'UPDATE "case" SET "overdue" = false, "version" = "version" + 1 '
        "WHERE \"overdue\" AND \"status\" IN ('closed', 'declined')"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Notification",
        tablename="notification",
        column_name="read",
        db_column_name="read",
        params={"index": False},
        old_params={"index": True},
        column_class=Boolean,
        old_column_class=Boolean,
        schema=None,
    )

    manager.add_raw(_clear_overdue_of_closed_cases)

    return manager
