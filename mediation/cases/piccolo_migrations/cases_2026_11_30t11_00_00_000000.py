"""Whether each case clock finished by its due date, kept on the case (``cases.ontime``).

The columns only: the next migration judges the existing cases (Piccolo runs a migration's
raw steps before its column changes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accept_on_time, handle_on_time and mediation_on_time on the case"

COLUMNS = ("accept_on_time", "handle_on_time", "mediation_on_time")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    for name in COLUMNS:
        manager.add_column(
            table_class_name="Case",
            tablename="case",
            column_name=name,
            db_column_name=name,
            column_class_name="Boolean",
            column_class=Boolean,
            params={
                "default": None,
                "null": True,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
