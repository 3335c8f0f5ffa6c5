"""Agreement.parties_snapshot: the parties as printed, frozen when the agreement is issued.

The next migration back-fills it (Piccolo runs a migration's raw steps before its new columns).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T03:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Agreement.parties_snapshot"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Agreement",
        tablename="agreement",
        column_name="parties_snapshot",
        db_column_name="parties_snapshot",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
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
