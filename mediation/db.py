"""Database lifecycle: connection pools, SQLite pragmas, migrations, transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString


def fields_of(row: Mapping[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """A row's values by the names of a dataclass's fields: a column read through a foreign key
    (``"grid.name"``) takes its name in ``renamed``, the others keep theirs."""
    return {renamed.get(key, key): value for key, value in row.items()}


def engine():
    return engine_finder()


class _Value:
    """Stands for the value a prepared select is run with, while its SQL is built."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class PreparedSelect:
    """A select whose SQL is built once per engine type; each run only passes its values.

    Piccolo builds a select's SQL anew on every run (its columns, joins and aliases: about
    a third of a millisecond for a select with joins, several per page). ``build`` takes the
    values (ints, strings: nothing Piccolo would convert) and returns the select; it is called
    once, with stand-ins, and the SQL and arguments it compiles to are kept. Each run puts
    the values in place of the stand-ins and goes through the engine as the select itself
    would (transactions included), its rows processed by the same select (JSON loaded, etc.).

        _PARTIES = PreparedSelect(lambda case_id: Party.select(...).where(Party.case == case_id))
        rows = await _PARTIES(case_id)
    """

    def __init__(self, build: Callable[..., Select]) -> None:
        self._build = build
        self._compiled: dict[
            str, tuple[Select, QueryString, str, list[Any], list[tuple[int, int]]]
        ] = {}

    def _compile(self, engine_type: str, count: int):
        query = self._build(*(_Value(i) for i in range(count)))
        (querystring,) = query.querystrings
        sql, args = querystring.compile_string(engine_type=engine_type)
        slots = [(at, arg.index) for at, arg in enumerate(args) if isinstance(arg, _Value)]
        if sorted({index for _at, index in slots}) != list(range(count)):
            raise ValueError("every value of a prepared select must appear in it")
        entry = self._compiled[engine_type] = (query, querystring, sql, args, slots)
        return entry

    async def __call__(self, *values: Any) -> list[dict[str, Any]]:
        db = engine()
        entry = self._compiled.get(db.engine_type) or self._compile(db.engine_type, len(values))
        query, built, sql, args, slots = entry
        bound = list(args)
        for at, index in slots:
            bound[at] = values[index]
        querystring = QueryString("", query_type=built.query_type, table=built.table)
        querystring._frozen_compiled_strings = (sql, bound)
        return await query._process_results(await db.run_querystring(querystring))


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def prepare_sqlite_file(path: str) -> None:
    """WAL lets readers proceed while one writer commits; the setting lives in the file."""
    import os
    from pathlib import Path

    from mediation.settings import secure_dir

    file = Path(path)
    secure_dir(file.parent)
    # Created readable by the owner only; SQLite gives its -wal and -shm files the same mode.
    os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
    try:
        file.chmod(0o600)
    except PermissionError:
        pass
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
        await db.start_connection_pool(min_size=1, max_size=size, reset=release_connection)
        return True
    if isinstance(db, SQLiteEngine):
        prepare_sqlite_file(db.path)
    return False


async def release_connection(connection: Any) -> None:
    """What a pooled connection needs before the next query takes it: nothing more than what
    asyncpg does before calling this (an open transaction rolled back, listeners removed).

    asyncpg's default also sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` after every query, a second round trip per statement (a tenth of a case
    page's time). The app changes no session state on pooled connections: settings are
    ``SET LOCAL``, advisory locks are transaction-scoped, and the sweep's session lock is held
    on a connection of its own (``tasks.sweep_lock``), so nothing is left for it to reset.
    """


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


async def with_database(coro_fn, *args):
    """Run ``coro_fn(*args)`` with the database opened and closed around it (commands)."""
    await start()
    try:
        return await coro_fn(*args)
    finally:
        await stop()


def write_transaction():
    """A transaction that takes the write lock up front on SQLite (no upgrade deadlocks).

    On SQLite, writers of this process also queue on an asyncio lock first: SQLite's busy
    handler retries by sleeping, which lets newcomers overtake writers that have waited
    longest (seconds at the tail under a burst of registrations); the queue is first come,
    first served. Another process's writers still meet the busy timeout as before.

    The outermost one runs what ``after_commit`` queued once it has committed (not after a
    rollback), before the ``async with`` block's caller goes on.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        if db.current_transaction.get() is not None:
            # Nested: Piccolo joins the outer transaction, which already holds the lock.
            return db.transaction(transaction_type=TransactionType.immediate)
        return _then_after_commit(_queued_sqlite_transaction(db))
    if db.current_transaction.get() is not None:
        return db.transaction()
    return _then_after_commit(db.transaction())


@asynccontextmanager
async def read_snapshot():
    """Reads that belong together (a page of figures) on one connection and one snapshot.

    On SQLite, Piccolo opens a connection (and a thread) per query outside a transaction: a
    page of twenty reads pays that twenty times, and may see a change land between two of
    them. On PostgreSQL the reads share one pooled connection and, with REPEATABLE READ, one
    snapshot. Only for read-only work: a write inside would have to upgrade SQLite's lock.
    Inside a transaction already, it joins it.
    """
    db = engine()
    if db.current_transaction.get() is not None:
        yield
        return
    async with db.transaction():
        if not isinstance(db, SQLiteEngine):
            await db.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


log = logging.getLogger(__name__)
_after_commit: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "after_commit", default=None
)


def after_commit(callback: Callable[[], Awaitable[None]]) -> bool:
    """Queue ``callback`` to run when the current write transaction has committed: work that
    talks to the outside world (texting a party) must not hold the transaction's row locks
    while it waits, and must not happen if the change rolls back. Returns False when no
    ``write_transaction`` is open: the caller then runs it itself."""
    pending = _after_commit.get()
    if pending is None:
        return False
    pending.append(callback)
    return True


@asynccontextmanager
async def _then_after_commit(
    transaction_cm: AbstractAsyncContextManager[Any],
) -> AsyncIterator[Any]:
    pending: list[Callable[[], Awaitable[None]]] = []
    token = _after_commit.set(pending)
    try:
        async with transaction_cm as transaction:
            yield transaction
    finally:
        _after_commit.reset(token)
    for callback in pending:  # only reached when the transaction committed
        try:
            await callback()
        except Exception:  # the change is committed: a failed follow-up must not undo it
            log.exception("work after a commit failed")


@asynccontextmanager
async def bulk_write_transaction():
    """A ``write_transaction`` for loading many records at once (the demo county): what it
    queues for after its commit runs in the same order once it has committed, but inside one
    more write transaction instead of a connection (on SQLite, a thread) per query, and a
    failure there is raised instead of logged. Inside a transaction already, it joins it."""
    db = engine()
    if db.current_transaction.get() is not None:
        async with write_transaction():
            yield
        return
    pending: list[Callable[[], Awaitable[None]]] = []
    token = _after_commit.set(pending)
    try:
        if isinstance(db, SQLiteEngine):
            async with _queued_sqlite_transaction(db):
                yield
        else:
            async with db.transaction():
                yield
    finally:
        _after_commit.reset(token)
    if pending:  # only reached when the transaction committed
        async with write_transaction():
            for callback in pending:
                await callback()


_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def _queued_sqlite_transaction(db: SQLiteEngine):
    loop = asyncio.get_running_loop()
    lock = _write_locks.get(loop)
    if lock is None:
        lock = _write_locks[loop] = asyncio.Lock()
    async with lock:
        async with db.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction


async def migrate() -> None:
    """Bring the database to the current schema: every app's migrations, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    db = engine()
    if isinstance(db, SQLiteEngine):
        prepare_sqlite_file(db.path)
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(response.message)
    from mediation.reports.rollups import ensure_rollups

    # Before the app serves again: the figures of cases that existed before the rollups did.
    await ensure_rollups()
    from mediation.cases.category_store import seed_categories

    await seed_categories()
