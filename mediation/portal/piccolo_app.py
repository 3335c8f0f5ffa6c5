"""Piccolo app for the parties' portal: access codes, messages to parties, their ratings."""

import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=table_finder(modules=["mediation.portal.tables"], exclude_imported=True),
    migration_dependencies=["mediation.cases.piccolo_app"],
    commands=[],
)
