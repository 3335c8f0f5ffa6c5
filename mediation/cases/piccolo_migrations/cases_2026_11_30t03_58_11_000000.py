from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T03:58:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "A rescheduled session points to the session that replaces it"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cases", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="MediationSession",
        tablename="mediation_session",
        column_name="rescheduled_to",
        db_column_name="rescheduled_to",
        column_class_name="Integer",
        column_class=Integer,
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
