"""Piccolo configuration: the engine comes from settings, one Piccolo app per domain."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from mediation.settings import get_settings


def make_engine(database_url: str):
    if database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": database_url})
    path = database_url.removeprefix("sqlite:///")
    # A generous busy timeout: several writers (app, sweep, CLI) share one file.
    return SQLiteEngine(path=path, timeout=30)


DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "mediation.grid.piccolo_app",
        "mediation.intake.piccolo_app",
        "mediation.cases.piccolo_app",
        "mediation.suggestions.piccolo_app",
        "mediation.reports.piccolo_app",
        "mediation.portal.piccolo_app",
    ]
)
