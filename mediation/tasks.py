"""Background work inside the app process: the periodic deadline sweep, the nightly backup."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from contextlib import asynccontextmanager, suppress
from typing import Any

logger = logging.getLogger("mediation.tasks")
SWEEP_INTERVAL_SECONDS = 15 * 60
BACKUP_CHECK_SECONDS = 10 * 60


async def sweep_all() -> str:
    """One pass of every sweep (cases, agreements, suggestions); returns a one-line summary."""
    # The objects that exist before the sweep (the app's modules, classes, caches) are left out
    # of the cyclic collector's passes while it runs and handed back afterwards: the sweep
    # keeps tens of thousands of rows alive at scale, which sets off full collections, and
    # each of those would otherwise walk the whole process again.
    gc.freeze()
    try:
        return await _sweep_all()
    finally:
        gc.unfreeze()


async def _sweep_all() -> str:
    from mediation.cases.agreements import sweep_agreements
    from mediation.cases.services import sweep_deadlines
    from mediation.reports.rollups import ensure_rollups
    from mediation.suggestions.services import sweep_suggestions

    await ensure_rollups()
    cases = await sweep_deadlines()
    agreements = await sweep_agreements()
    late_suggestions = await sweep_suggestions()
    from mediation.reports.warnings import run_warning_rules

    warnings = await run_warning_rules()
    return (
        f"Checked {cases.checked} open cases: {cases.newly_overdue} newly overdue, "
        f"{cases.escalated} escalated; {agreements.clauses_overdue} agreement clauses newly "
        f"overdue, {agreements.confirmation_reminders} judicial-confirmation reminders; "
        f"{late_suggestions} suggestions newly overdue; {warnings} new early warnings."
    )


# Any fixed number shared by every server of the deployment ("medi").
SWEEP_LOCK_KEY = 0x6D656469
_local_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def sweep_lock():
    """Yields True for the one sweep allowed to run now, False for any other.

    PostgreSQL: an advisory lock held on a connection of its own, so one sweep runs at a time
    across every app server and the command line; a server that finds it taken skips its turn.
    SQLite (one server): the same rule inside the process.
    """
    from mediation import db

    if db.is_postgres():
        connection = await db.engine().get_new_connection()
        try:
            acquired = await connection.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK_KEY)
            try:
                yield bool(acquired)
            finally:
                if acquired:
                    await connection.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK_KEY)
        finally:
            await connection.close()
        return
    loop = asyncio.get_running_loop()
    lock = _local_locks.setdefault(loop, asyncio.Lock())
    if lock.locked():
        yield False
        return
    async with lock:
        yield True


async def run_sweep() -> str | None:
    """One sweep, unless another is running somewhere (then None)."""
    async with sweep_lock() as acquired:
        if not acquired:
            return None
        return await sweep_all()


async def prune_sessions(app: Any) -> None:
    """Delete expired session files (Redis expires its keys by itself)."""
    from litestar.stores.file import FileStore

    store = app.stores.get("sessions")
    if isinstance(store, FileStore):
        await store.delete_expired()


async def _sweep_forever(interval: float, app: Any) -> None:
    while True:
        try:
            summary = await run_sweep()
            logger.info("sweep: %s", summary or "another server is sweeping; skipped")
        except Exception:  # a failed sweep must not stop the next one
            logger.exception("deadline sweep failed")
        try:
            await prune_sessions(app)
        except Exception:
            logger.exception("pruning expired sessions failed")
        await asyncio.sleep(interval)


async def backup_if_due(settings) -> str | None:
    """Take the nightly backup into BACKUP_DIR when one is due; returns its path, if taken.

    Several servers may share BACKUP_DIR: a lock file lets one of them take it.
    """
    import fcntl
    from pathlib import Path

    from mediation.backup import backup_and_record, backup_due, backup_status
    from mediation.clock import utc_now

    folder = Path(settings.backup_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".backup.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        status = backup_status(settings)
        if not backup_due(utc_now(), status.last_success_at):
            return None
        path = await backup_and_record(settings, folder, keep=settings.backup_keep)
        return str(path)


async def _backup_nightly(settings, interval: float) -> None:
    while True:
        try:
            path = await backup_if_due(settings)
            if path:
                logger.info("nightly backup written to %s", path)
        except Exception:  # recorded in BACKUP_DIR for the admin page; try again later
            logger.exception("nightly backup failed")
        await asyncio.sleep(interval)


async def _warm_up_printing() -> None:
    """The first print job after a start pays font set-up (~0.5 s); pay it before anyone waits."""
    import os

    import anyio

    from mediation.documents.pdf import print_pool, print_workers, warm_up

    try:
        pool = print_pool()
        if pool is None:
            await anyio.to_thread.run_sync(warm_up)
        else:
            # Starting the printing processes runs their warm-up.
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(pool, os.getpid) for _ in range(print_workers()))
            )
    except Exception:
        logger.exception("print warm-up failed")


def sweep_lifespan(enabled: bool, interval: float = SWEEP_INTERVAL_SECONDS, settings=None):
    """The sweep is safe on several servers at once (conditional updates), so each may run it.

    With ``settings.backup_dir`` set, the nightly backup runs beside it.
    """

    @asynccontextmanager
    async def lifespan(app: Any):
        tasks = []
        if enabled:
            tasks.append(asyncio.create_task(_sweep_forever(interval, app)))
            tasks.append(asyncio.create_task(_warm_up_printing()))
            if settings is not None and settings.backup_dir:
                tasks.append(asyncio.create_task(_backup_nightly(settings, BACKUP_CHECK_SECONDS)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan
