"""Shared fixtures: the demo county built once per run, a fresh copy of it for each test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(scripts/test.sh does both), in one process or under pytest-xdist (``-n 2``). Personas come
from the demo county:
- grid1 works grid 东湖社区第1网格; police1 is the community officer on the same team.
- grid4 works 西门社区 in the same town: grid1 must not see 西门社区's records.
- centre1 staffs the 当湖街道 centre and sees every community of that town.
- admin sees the whole county; handler1 handles suggestions for a department.

What a test can rely on (isolation):
- The demo county is migrated and loaded once per run (the first worker to need it builds it,
  the others wait) and kept as a template: a SQLite file, or the PostgreSQL database named by
  TEST_DATABASE_URL.
- Each xdist worker has a database of its own: its own SQLite file, or on PostgreSQL a
  database ``<name>_<worker>`` created from the template (``<name>_main`` without xdist).
- SQLite: every test starts from a fresh copy of the template file (copied over the worker's
  file before the test, the process's caches of database rows dropped). A module whose
  module-scoped fixtures write rows for all its tests (marker ``module_database``) gets the
  fresh copy once, before those fixtures, and its tests share it. Browser tests share one
  copy with the app server they drive.
- PostgreSQL: every test starts from the template's rows too, but not from a new copy
  (``CREATE DATABASE ... TEMPLATE`` takes 0.4 to 2 s): the worker's copy gets a schema
  ``_test`` (tests/postgres_restore.sql; never in the template, so ``module_database`` modules,
  browser tests and backups do not meet it) holding a pristine copy of every table, with
  statement-level triggers that note the primary keys each statement writes (the app's
  triggers' and foreign-key cascades' writes included). Before each test ``_test.restore()``
  puts the written rows and every moved sequence back (one query, a millisecond when the test
  before wrote nothing), and if it put anything back the process's caches of database rows
  are dropped. A ``module_database``
  module gets a new copy of the template before it starts and its tests share it; the next
  test of another module gets a new copy again.
- Pure tests (marker ``pure``) never touch the database: a run of them alone builds nothing.
- PostgreSQL connections: no pool (the app runs in many event loops here), but a connection
  is kept for the next query of its event loop, reset as a pool resets it, and closed when
  the loop ends (``_ReusingEngine``).
- Commits do not wait for the disk (SQLite ``synchronous = OFF``, PostgreSQL
  ``synchronous_commit = off``): every other connection sees them at once, only a power cut
  could lose them, and these databases are thrown away.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_DATA_DIR = Path(tempfile.mkdtemp(prefix="mediation-test-"))
# Set by pytest-xdist in each worker before this file is imported; empty without xdist.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Shared by the workers of one run (and unique to it): where the template is built. The test
# script runs the suite in two steps (under xdist, then the browser tests in one process) and
# names one folder for both, so the second step copies the first one's template.
if os.environ.get("MEDIATION_TEST_RUN_DIR"):
    _RUN_DIR = Path(os.environ["MEDIATION_TEST_RUN_DIR"])
elif _WORKER:
    _RUN_DIR = (
        Path(tempfile.gettempdir()) / f"mediation-test-run-{os.environ['PYTEST_XDIST_TESTRUNUID']}"
    )
else:
    _RUN_DIR = _DATA_DIR
_TEMPLATE_URL = os.environ.get("TEST_DATABASE_URL") or ""


def _worker_database_url(url: str) -> str:
    """This process's PostgreSQL database: ``<template>_gw0`` under xdist, else
    ``<template>_main`` (the tests never run in the template itself)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{_WORKER or 'main'}"))


os.environ["MEDIATION_DATA_DIR"] = str(_DATA_DIR)
if _TEMPLATE_URL:
    os.environ["DATABASE_URL"] = _worker_database_url(_TEMPLATE_URL)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_DATA_DIR / 'test.sqlite3'}"
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("FIELD_KEY", "test-field-key-not-for-production-use-0123456789")
os.environ["RUN_BACKGROUND_TASKS"] = "0"
os.environ["LOGIN_RATE_LIMIT"] = "1000"
# argon2's cheapest parameters for the passwords the tests hash (see accounts/services.py).
os.environ["MEDIATION_TEST_CHEAP_HASHES"] = "1"
# The test client runs the app in its own event loop; a pool would be tied to one loop.
os.environ["DB_POOL_SIZE"] = "0"
# The suite shares its machine with other work: printing processes at idle priority would
# wait behind all of it. tests/documents/test_print_pool.py checks the priorities themselves.
os.environ.setdefault("PDF_PRIORITY", "normal")

import asyncpg  # noqa: E402
import pytest  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from mediation import db  # noqa: E402
from mediation.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from mediation.settings import get_settings, settings_from_env  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


async def _reset_postgres() -> None:
    engine = db.engine()
    await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE")
    await engine.run_ddl("CREATE SCHEMA public")


async def _prepare_database() -> None:
    if not db.is_postgres():
        await db.migrate()
        await load_demo()
        return
    await _reset_postgres()
    # Built through a pool, as `python -m mediation demo` builds it: without one (the tests'
    # setting, DB_POOL_SIZE=0) each query outside a transaction opened a connection of its
    # own, about 9,000 of them for the demo county (the parties' texts sent after each
    # commit, the documents), most of the build's time. The pool is closed before the
    # database is copied (a template must have no connections).
    engine = db.engine()
    await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        await db.migrate()
        await load_demo()
    finally:
        await engine.close_connection_pool()


_SQLITE_TEMPLATE = _RUN_DIR / "template.sqlite3"


def _sqlite_path() -> Path:
    return Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))


_copied_stat: tuple[int, int] | None = None
_copies = itertools.count(1)


def _copy_sqlite_template() -> None:
    """A new copy of the template, under a new name, becomes the database of this process.

    A new name rather than writing over the old file: a connection a test left open (say in an
    aiosqlite thread its event loop never closed) keeps the old file and can never write into
    the new one. Subprocesses started later (app servers, the command line) get its name
    through DATABASE_URL.
    """
    global _copied_stat
    old = _sqlite_path()
    new = _DATA_DIR / f"test-{next(_copies)}.sqlite3"
    shutil.copyfile(_SQLITE_TEMPLATE, new)
    os.environ["DATABASE_URL"] = f"sqlite:///{new}"
    db.engine().path = str(new)
    get_settings.cache_clear()
    for name in (old.name, f"{old.name}-wal", f"{old.name}-shm"):
        (old.parent / name).unlink(missing_ok=True)
    stat = new.stat()
    _copied_stat = (stat.st_mtime_ns, stat.st_size)


def _sqlite_untouched() -> bool:
    """True when nothing was written since the last copy: the file is as copied and no
    write-ahead log holds changes (the last connection to close folds the log into the file,
    which changes its modification time)."""
    path = _sqlite_path()
    wal = Path(f"{path}-wal")
    if _copied_stat is None or (wal.exists() and wal.stat().st_size > 0):
        return False
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size) == _copied_stat


def _build_sqlite_template() -> None:
    asyncio.run(_prepare_database())

    path = _sqlite_path()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    part = _SQLITE_TEMPLATE.with_suffix(".part")
    shutil.copyfile(path, part)
    part.replace(_SQLITE_TEMPLATE)


class _ReusedConnection(asyncpg.Connection):
    """A connection that, closed by Piccolo after its query or transaction, goes back to its
    event loop's idle list (reset first, as a pool resets one it takes back)."""

    async def close(self, *, timeout: float | None = None) -> None:
        if (
            self.is_closed()
            or self.is_in_transaction()
            or _idle_generation.get(self) != _generation
        ):
            await super().close(timeout=timeout)
            return
        try:
            await self.reset()
        except Exception:
            self.terminate()
            return
        _idle.setdefault(self._loop, []).append(self)  # type: ignore[attr-defined]


class _ReusingEngine(PostgresEngine):
    """The suite's PostgreSQL engine: like the app's without a pool (``DB_POOL_SIZE=0``, as
    the tests run the app in many event loops and a pool belongs to one), but a connection
    closed after a query is kept for the next query of the same event loop instead of opening
    a new one per query (about 40 ms each on this machine under load, against 2 ms for a
    query on an open connection). The connections of a loop are closed when the loop shuts
    down, and all of them are dropped before the worker's database is made anew."""

    __slots__ = ()

    async def get_new_connection(self) -> asyncpg.Connection:
        idle = _idle.get(asyncio.get_running_loop())
        while idle:
            connection = idle.pop()
            if not connection.is_closed():
                return connection
        connection = await asyncpg.connect(**self.config, connection_class=_ReusedConnection)
        _idle_generation[connection] = _generation
        return connection


_idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_ReusedConnection]] = (
    weakref.WeakKeyDictionary()
)
# Connections opened before the worker's database was last made anew are closed, not kept.
_idle_generation: weakref.WeakKeyDictionary[_ReusedConnection, int] = weakref.WeakKeyDictionary()
_generation = 0


def _forget_idle_connections() -> None:
    """Before the worker's database is dropped: its kept connections are closed or dropped."""
    global _generation
    _generation += 1
    for loop, connections in list(_idle.items()):
        for connection in connections:
            if not loop.is_closed():
                connection.terminate()
        connections.clear()


_shutdown_asyncgens = asyncio.BaseEventLoop.shutdown_asyncgens


async def _close_idle_then_shutdown_asyncgens(self: asyncio.BaseEventLoop) -> None:
    """A loop ends (asyncio.run, anyio's runner, a test client's portal): its kept
    connections are closed while it still runs."""
    for connection in _idle.pop(self, []):
        await asyncpg.Connection.close(connection)
    await _shutdown_asyncgens(self)


class _UnsyncedConnection(sqlite3.Connection):
    """A SQLite connection of the suite's process that commits without waiting for the disk
    (``synchronous = OFF``): a commit still reaches the file (other connections and processes
    read it at once), only the flush to the disk that survives a power cut is left out, which
    a throwaway copy does not need. With the default each commit waited for one (a WAL commit
    is an fsync), and the demo county and the tests commit tens of thousands of times."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous = OFF")


if _TEMPLATE_URL:
    db.engine().__class__ = _ReusingEngine
    asyncio.BaseEventLoop.shutdown_asyncgens = _close_idle_then_shutdown_asyncgens  # type: ignore[method-assign]
    # As on SQLite (below): the suite's sessions commit without waiting for the WAL to reach
    # the disk; other sessions see a commit at once all the same.
    db.engine().config.setdefault("server_settings", {})["synchronous_commit"] = "off"
else:
    # Piccolo opens every SQLite connection with these arguments (aiosqlite passes them on).
    db.engine().connection_kwargs["factory"] = _UnsyncedConnection


async def _copy_postgres_database(source: str, target: str) -> None:
    """``target`` dropped and created anew as a copy of ``source`` (nobody may be connected to
    ``source``: the suite opens a connection per query, and copies are made under the lock)."""
    global _pg_copy
    _forget_idle_connections()
    _restorer.close()
    _pg_copy = "used"
    maintenance = urlunsplit(urlsplit(_TEMPLATE_URL)._replace(path="/postgres"))
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await conn.close()


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _build_postgres_template() -> None:
    """Built in this worker's own database (the engine points there), then copied to the
    database named by TEST_DATABASE_URL, the template of the other workers."""
    own, template = _database_name(os.environ["DATABASE_URL"]), _database_name(_TEMPLATE_URL)
    asyncio.run(_copy_postgres_database("template0", own))
    asyncio.run(_prepare_database())
    asyncio.run(_copy_postgres_database(own, template))


@pytest.fixture(scope="session")
def database() -> None:
    """The migrated demo county: built once per run, then this process's copy of it."""
    _RUN_DIR.mkdir(exist_ok=True)
    with open(_RUN_DIR / "lock", "w") as lock:
        # One process builds, the others wait for it; copies are made one at a time.
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = _RUN_DIR / "ready"
        if not ready.exists():
            if not _TEMPLATE_URL:
                _build_sqlite_template()
            else:
                _build_postgres_template()
            ready.touch()
        elif not _TEMPLATE_URL:
            _copy_sqlite_template()
        else:
            asyncio.run(
                _copy_postgres_database(
                    _database_name(_TEMPLATE_URL), _database_name(os.environ["DATABASE_URL"])
                )
            )
        if _TEMPLATE_URL:
            global _pg_copy
            _pg_copy = "fresh"


def _drop_cached_rows() -> None:
    """What the process keeps of database rows between requests, forgotten (a fresh copy of
    the database must not meet another copy's users, categories or indexes)."""
    from mediation.accounts import services as accounts_services
    from mediation.cases import category_store, holidays, policy_store, queries
    from mediation.grid import services as grid_services
    from mediation.suggestions import similar_index

    accounts_services._user_cache.clear()
    grid_services._grid_choice_cache.clear()
    similar_index._corpora.clear()
    queries._fts_ready.clear()
    category_store._loaded_at = None
    holidays._loaded_at = None
    policy_store.forget_shown_policy()


def _fresh_sqlite_copy() -> None:
    if not _sqlite_untouched():
        _copy_sqlite_template()
    _drop_cached_rows()


@pytest.fixture(scope="module", autouse=True)
def _module_database(request) -> None:
    """Modules whose module-scoped fixtures write rows get their fresh copy before those run."""
    if request.node.get_closest_marker("module_database") is None:
        return
    selected = [item for item in request.session.items if item.module is request.module]
    if all(item.get_closest_marker("pure") is not None for item in selected):
        return  # only its pure tests run: no database
    request.getfixturevalue("database")
    if not _TEMPLATE_URL:
        _fresh_sqlite_copy()
        return
    global _pg_copy
    if _pg_copy != "fresh":
        _fresh_postgres_copy()
    _pg_copy = "used"


def _fresh_postgres_copy() -> None:
    """This worker's database made anew from the template (under the run's lock: a copy
    cannot be made while another process is copying the same template)."""
    global _pg_copy
    with open(_RUN_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        asyncio.run(
            _copy_postgres_database(
                _database_name(_TEMPLATE_URL), _database_name(os.environ["DATABASE_URL"])
            )
        )
    _pg_copy = "fresh"
    _drop_cached_rows()


# What this process's PostgreSQL database is: "fresh" (a copy of the template nothing has
# written yet), "restorable" (tests/postgres_restore.sql installed: ``_test.restore()`` brings
# back the template's rows) or "used" (written by tests that do not restore: ``module_database``
# modules, browser tests; a new copy comes first).
_pg_copy = "used"
_RESTORE_SQL = Path(__file__).resolve().parent / "postgres_restore.sql"


class _Restorer:
    """The one connection that restores this process's PostgreSQL database before each test,
    kept open in an event loop of its own thread (the tests' event loops come and go, and a
    new connection costs tens of milliseconds)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: asyncpg.Connection | None = None

    def _run(self, coroutine: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="restorer", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                os.environ["DATABASE_URL"], server_settings={"synchronous_commit": "off"}
            )
        return self._connection

    async def _execute(self, script: str) -> None:
        await (await self._connect()).execute(script)

    async def _fetchval(self, query: str) -> Any:
        return await (await self._connect()).fetchval(query)

    def execute(self, script: str) -> None:
        self._run(self._execute(script))

    def fetchval(self, query: str) -> Any:
        return self._run(self._fetchval(query))

    def close(self) -> None:
        """Before the database is dropped."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            self._run(connection.close())


_restorer = _Restorer()


def _restore_postgres() -> None:
    """This process's database holds the template's rows again: the writes of the tests
    before are undone (or, after tests that do not restore, a new copy is made)."""
    global _pg_copy
    if _pg_copy == "used":
        _fresh_postgres_copy()
    if _pg_copy == "fresh":
        _restorer.execute(_RESTORE_SQL.read_text(encoding="utf-8"))
        _pg_copy = "restorable"
        _drop_cached_rows()
    elif _restorer.fetchval("SELECT _test.restore()"):
        _drop_cached_rows()


@pytest.fixture(autouse=True)
def _demo_database(request) -> None:
    """Every test gets the migrated demo county, except tests of pure rules (marker ``pure``).

    On SQLite each test (outside ``module_database`` modules and browser tests) starts from a
    fresh copy of it; see the module docstring for what PostgreSQL guarantees.
    """
    if request.node.get_closest_marker("pure") is not None:
        return
    request.getfixturevalue("database")
    if request.node.get_closest_marker("module_database") is not None:
        return
    if request.node.get_closest_marker("browser") is not None:
        global _pg_copy
        _pg_copy = "used"
        return
    if _TEMPLATE_URL:
        _restore_postgres()
    else:
        _fresh_sqlite_copy()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings():
    return settings_from_env()


_apps: dict = {}


@pytest.fixture
def app(settings):
    """The app for these settings, built once per process (building it is about a quarter of a
    second of CPU, which per test was a large part of the suite). Before each test it gets the
    test's settings (the database's name changes with each fresh copy) and its in-memory
    rate-limit counts are forgotten; sessions live in the data directory, as in production."""
    import dataclasses

    from litestar.stores.memory import MemoryStore

    from mediation.app import create_app

    key = repr(dataclasses.replace(settings, database_url=""))  # settings hold a dict
    app = _apps.get(key)
    if app is None:
        app = _apps[key] = create_app(settings)
    app.state["settings"] = settings
    rate_limits = app.stores.get("rate_limit")
    if isinstance(rate_limits, MemoryStore):
        rate_limits._store.clear()
    return app


@pytest.fixture
async def client(app):
    async with AsyncTestClient(app) as test_client:
        yield test_client


def csrf_token(client) -> str:
    return client.cookies.get("csrftoken") or ""


async def ensure_csrf(client) -> str:
    if not csrf_token(client):
        await client.get("/login")
    return csrf_token(client)


async def post_form(client, url: str, data: dict, **kwargs):
    """A form POST as a browser sends it: with the CSRF token from the cookie."""
    token = await ensure_csrf(client)
    headers = {"x-csrftoken": token, **kwargs.pop("headers", {})}
    kwargs.setdefault("follow_redirects", False)
    return await client.post(url, data=data, headers=headers, **kwargs)


async def login(client, username: str, password: str = DEMO_PASSWORD):
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code in (302, 303), f"login as {username} failed: {response.status_code}"
    return response


def text_of(html: str) -> str:
    """The visible text of a page, tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def pytest_ignore_collect(collection_path: Path, config):
    """A run of the pure tests alone (``-m pure``) skips importing the modules that hold none:
    their imports (the app, WeasyPrint, schemathesis) were most of such a run."""
    if config.getoption("markexpr", "").strip() != "pure":
        return None
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        if "mark.pure" not in collection_path.read_text(encoding="utf-8"):
            return True
    return None


def pytest_configure(config):
    ARTIFACTS.mkdir(exist_ok=True)


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API keeps an event loop running in the main thread once a browser
    # starts, which async tests cannot share: browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
