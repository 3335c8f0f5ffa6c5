"""Piccolo app for the reports domain: figure rollups and early warnings."""

import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=table_finder(modules=["mediation.reports.tables"], exclude_imported=True),
    migration_dependencies=["mediation.grid.piccolo_app", "mediation.cases.piccolo_app"],
    commands=[],
)
