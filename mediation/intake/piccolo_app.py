"""Piccolo app for the intake domain."""

import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="intake",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    # The idempotency table is defined beside the cases that write it, the stored files
    # table beside mediation.files; their migrations are here.
    table_classes=table_finder(
        modules=["mediation.cases.submissions", "mediation.stored_files"], exclude_imported=True
    ),
    migration_dependencies=["mediation.grid.piccolo_app", "mediation.cases.piccolo_app"],
    commands=[],
)
