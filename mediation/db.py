"""Database lifecycle: connection pools, SQLite pragmas, migrations, transactions."""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


def engine():
    return engine_finder()


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def prepare_sqlite_file(path: str) -> None:
    """WAL lets readers proceed while one writer commits; the setting lives in the file."""
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def start() -> bool:
    """Open the PostgreSQL pool unless one is open already; True if this call opened it."""
    from mediation.settings import get_settings

    db = engine()
    if isinstance(db, PostgresEngine):
        size = get_settings().db_pool_size
        # Size 0: a connection per query, usable from any event loop (the test client's case).
        if db.pool is not None or size <= 0:
            return False
        await db.start_connection_pool(min_size=1, max_size=size)
        return True
    if isinstance(db, SQLiteEngine):
        prepare_sqlite_file(db.path)
    return False


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()
        db.pool = None


@asynccontextmanager
async def lifespan(_: Any):
    opened = await start()
    try:
        yield
    finally:
        if opened:
            await stop()


def write_transaction():
    """A transaction that takes the write lock up front on SQLite (no upgrade deadlocks)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def migrate() -> None:
    """Bring the database to the current schema: every app's migrations, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    db = engine()
    if isinstance(db, SQLiteEngine):
        prepare_sqlite_file(db.path)
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(response.message)
