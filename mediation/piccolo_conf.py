"""Piccolo configuration: the engine comes from settings, one Piccolo app per domain."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from mediation.settings import get_settings


def make_engine(database_url: str):
    if database_url.startswith(("postgres://", "postgresql://")):
        # No JIT: the app's queries run in milliseconds, and at a million cases the planner's
        # estimates made PostgreSQL spend 100-170 ms compiling each rollup sum it then ran
        # in a few ms.
        return PostgresEngine(config={"dsn": database_url, "server_settings": {"jit": "off"}})
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
