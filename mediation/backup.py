"""Backups that restore: one consistent copy of the database, the stored files and a manifest.

A backup is a directory ``mediation-backup-<UTC time>`` holding the database (an SQLite file
taken through the online backup API, or a ``pg_dump --format=custom`` archive), the stored
files (case attachments, suggestion photos) under ``files/``, optionally the keys under
``keys/``, and ``manifest.json``: app version, engine, the migrations applied, row counts per
table and a SHA-256 per file. It is written under a temporary name and renamed when complete,
so a directory with that name is a finished backup.

Restore goes into an empty database and data directory only, refuses a backup whose files do
not match the manifest, migrates forward when the backup is older than the code, and verifies
the result (row counts, stored files, agreement content hashes, decryption of personal data);
when any check fails the target is emptied again, so a corrected retry can start over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mediation.settings import Settings

FORMAT = 1
PREFIX = "mediation-backup-"
MANIFEST = "manifest.json"
STATUS_FILE = "last-backup.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# Folders of the data directory that hold stored files with SQLite (``mediation.files``; with
# PostgreSQL the files are rows of ``stored_file`` and travel inside the pg_dump archive).
FILE_FOLDERS = ("attachments", "suggestion-photos")
KEY_NAMES = {"field_key": "FIELD_KEY", "secret_key": "SECRET_KEY"}
# Piccolo's own bookkeeping table: it grows when a restore migrates forward.
MIGRATION_TABLE = "migration"
DECRYPT_SAMPLE = 50
STALE_AFTER = timedelta(days=2)


class BackupError(Exception):
    """Something an operator must act on; the message says what and where."""


@dataclass
class Manifest:
    data: dict

    @property
    def engine(self) -> str:
        return self.data["engine"]

    @property
    def migrations(self) -> list[tuple[str, str]]:
        return [(m[0], m[1]) for m in self.data["migrations"]]

    @property
    def row_counts(self) -> dict[str, int]:
        return self.data["row_counts"]

    @property
    def files(self) -> dict[str, dict]:
        return self.data["files"]

    @property
    def keys_included(self) -> bool:
        return bool(self.data.get("keys_included"))


@dataclass
class RestoreReport:
    backup: Path
    tables: int = 0
    rows: int = 0
    files: int = 0
    checksums: int = 0
    migrated: list[str] = field(default_factory=list)
    agreements_checked: int = 0
    fields_decrypted: int = 0
    notes: list[str] = field(default_factory=list)


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mediation")
    except PackageNotFoundError:
        return "unknown"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key_location(settings: Settings, name: str, env: Mapping[str, str] | None = None) -> str:
    """Where the running installation takes a key from, in words an operator can act on."""
    values = os.environ if env is None else env
    variable = KEY_NAMES[name]
    if values.get(variable):
        return f"the environment variable {variable}"
    return f"the file {settings.data_dir / name} ({variable} is not set)"


# --- reading a database of either engine -------------------------------------------------


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    # Virtual tables (the FTS index) are counted through their shadow tables.
    return [name for name, sql in rows if not (sql or "").upper().startswith("CREATE VIRTUAL")]


def sqlite_state(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Row counts per table and the migrations applied, read from one SQLite file."""
    conn = sqlite3.connect(path)
    try:
        return _sqlite_state(conn)
    finally:
        conn.close()


def _sqlite_state(conn: sqlite3.Connection) -> tuple[dict[str, int], list[tuple[str, str]]]:
    tables = _sqlite_tables(conn)
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    migrations: list[tuple[str, str]] = []
    if MIGRATION_TABLE in counts:
        migrations = [
            (a, n)
            for a, n in conn.execute(
                f'SELECT app_name, name FROM "{MIGRATION_TABLE}" ORDER BY id'
            ).fetchall()
        ]
    return counts, migrations


async def _pg_state(conn) -> tuple[dict[str, int], list[tuple[str, str]]]:
    tables = [
        r["table_name"]
        for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]
    counts = {t: await conn.fetchval(f'SELECT count(*) FROM public."{t}"') for t in tables}
    migrations: list[tuple[str, str]] = []
    if MIGRATION_TABLE in counts:
        migrations = [
            (r["app_name"], r["name"])
            for r in await conn.fetch(
                f'SELECT app_name, name FROM public."{MIGRATION_TABLE}" ORDER BY id'
            )
        ]
    return counts, migrations


async def database_state(settings: Settings) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Row counts and migrations of the configured database (empty when it has no tables)."""
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            return await _pg_state(conn)
        finally:
            await conn.close()
    path = settings.sqlite_path
    if not path.exists():
        return {}, []
    return await asyncio.to_thread(sqlite_state, path)


# --- taking a backup ---------------------------------------------------------------------


def _backup_name(now: datetime) -> str:
    return PREFIX + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _copy_sqlite(source: Path, target: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The online backup API copies a consistent snapshot while the app keeps writing."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # All pages in one step: one read transaction, so one point in time.
        src.backup(dst, pages=-1)
        # A single self-contained file: no -wal beside it to forget when copying.
        dst.execute("PRAGMA journal_mode=DELETE")
        return _sqlite_state(dst)
    finally:
        dst.close()
        src.close()


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install Debian's postgresql-client "
            "(scripts/setup.sh does) with the same major version as the server."
        )
    return path


def _tool_major(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


async def _check_tool_version(conn, tool: str) -> None:
    server = int(await conn.fetchval("SHOW server_version_num")) // 10000
    mine = await asyncio.to_thread(_tool_major, tool)
    if mine < server:
        raise BackupError(
            f"{Path(tool).name} is version {mine} but the server is PostgreSQL {server}: "
            f"install postgresql-client-{server}."
        )


async def _run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        message = (err or out).decode(errors="replace").strip()
        raise BackupError(f"{Path(args[0]).name} failed: {message}")


async def _dump_postgres(
    settings: Settings, target: Path
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """pg_dump and the row counts read from one exported snapshot: they describe one moment."""
    import asyncpg

    pg_dump = pg_tool("pg_dump")
    conn = await asyncpg.connect(settings.database_url)
    try:
        await _check_tool_version(conn, pg_dump)
        transaction = conn.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        try:
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            state = await _pg_state(conn)
            await _run(
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={settings.database_url}",
            )
        finally:
            await transaction.rollback()
        return state
    finally:
        await conn.close()


def _copy_files(data_dir: Path, target: Path) -> None:
    # Stored files are written once under fresh names before their row commits, so copying
    # after the database snapshot includes every file the snapshot refers to.
    for folder in FILE_FOLDERS:
        source = data_dir / folder
        if not source.is_dir():
            continue
        for path in sorted(source.iterdir()):
            if path.is_file():
                (target / folder).mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / folder / path.name)


def _checksums(root: Path) -> dict[str, dict]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            files[path.relative_to(root).as_posix()] = {
                "sha256": sha256_of(path),
                "size": path.stat().st_size,
            }
    return files


async def create_backup(
    settings: Settings,
    to: Path,
    *,
    with_keys: bool = False,
    keep: int | None = None,
    now: datetime | None = None,
) -> Path:
    """Take one backup into a new directory under ``to``; returns its path."""
    from mediation.clock import to_local

    now = now or datetime.now(UTC)
    to = Path(to).resolve()
    to.mkdir(parents=True, exist_ok=True)
    name = _backup_name(now)
    n = 1
    while (to / name).exists():
        n += 1
        name = f"{_backup_name(now)}-{n}"
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=to))
    try:
        if settings.is_postgres:
            counts, migrations = await _dump_postgres(settings, work / PG_FILE)
            engine = "postgres"
        else:
            if not settings.sqlite_path.exists():
                raise BackupError(f"There is no database at {settings.sqlite_path}.")
            counts, migrations = await asyncio.to_thread(
                _copy_sqlite, settings.sqlite_path, work / SQLITE_FILE
            )
            engine = "sqlite"
        await asyncio.to_thread(_copy_files, settings.data_dir, work / "files")
        if with_keys:
            (work / "keys").mkdir()
            for key_name in KEY_NAMES:
                path = work / "keys" / key_name
                path.write_text(getattr(settings, key_name))
                path.chmod(0o600)
        manifest = {
            "format": FORMAT,
            "app_version": app_version(),
            "created_at": now.astimezone(UTC).isoformat(),
            "created_at_local": to_local(now).isoformat(),
            "engine": engine,
            "migrations": [list(m) for m in migrations],
            "row_counts": counts,
            "files": await asyncio.to_thread(_checksums, work),
            "keys_included": with_keys,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        work.chmod(0o700)
        work.rename(to / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if keep:
        prune(to, keep)
    return to / name


def list_backups(folder: Path) -> list[Path]:
    """Finished backups in a folder, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).is_file()
    )


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` finished backups; returns what was deleted."""
    backups = list_backups(folder)
    doomed = backups[:-keep] if keep > 0 else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def write_status(folder: Path, ok: bool, at: datetime, backup: Path | None, error: str = ""):
    """The outcome of the last attempt, for the admin home page (also when it failed)."""
    folder.mkdir(parents=True, exist_ok=True)
    status = {
        "ok": ok,
        "at": at.astimezone(UTC).isoformat(),
        "backup": backup.name if backup else "",
        "error": error,
    }
    tmp = folder / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, ensure_ascii=False))
    tmp.replace(folder / STATUS_FILE)


async def backup_and_record(
    settings: Settings, to: Path, *, with_keys: bool = False, keep: int | None = None
) -> Path:
    """A backup whose outcome, success or failure, is left in ``to`` for the admin page."""
    try:
        path = await create_backup(settings, to, with_keys=with_keys, keep=keep)
    except Exception as exc:
        try:
            write_status(Path(to), False, datetime.now(UTC), None, str(exc) or type(exc).__name__)
        except OSError:
            pass
        raise
    write_status(Path(to), True, datetime.now(UTC), path)
    return path


# --- the scheduled backup and its status ---------------------------------------------------


@dataclass(frozen=True)
class BackupStatus:
    configured: bool
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    failed: bool = False
    error: str = ""

    @property
    def stale(self) -> bool:
        return self.last_success_at is None or (
            datetime.now(UTC) - self.last_success_at > STALE_AFTER
        )


def _manifest_time(path: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads((path / MANIFEST).read_text())["created_at"])
    except (OSError, ValueError, KeyError):
        return None


def backup_status(settings: Settings) -> BackupStatus:
    """What the admin home shows: the last good backup's time and whether the last try failed."""
    if not settings.backup_dir:
        return BackupStatus(configured=False)
    folder = Path(settings.backup_dir)
    backups = list_backups(folder)
    last_success = _manifest_time(backups[-1]) if backups else None
    failed, error, attempt = False, "", last_success
    try:
        status = json.loads((folder / STATUS_FILE).read_text())
        attempt = datetime.fromisoformat(status["at"])
        if not status["ok"] and (last_success is None or attempt > last_success):
            failed, error = True, status.get("error", "")
    except (OSError, ValueError, KeyError):
        pass
    return BackupStatus(True, last_success, attempt, failed, error)


def backup_due(now: datetime, last_success_at: datetime | None, night_starts: int = 1) -> bool:
    """Once per Beijing day, from 01:00 Beijing on; a server off at night catches up at start."""
    from mediation.clock import to_local

    local = to_local(now)
    if last_success_at is None:
        return True
    if local.hour < night_starts:
        return False
    return to_local(last_success_at).date() < local.date()


# --- restoring ---------------------------------------------------------------------------


def read_manifest(backup: Path) -> Manifest:
    path = Path(backup) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{backup} is not a backup: it has no {MANIFEST}.")
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(data)
        _ = (manifest.engine, manifest.migrations, manifest.row_counts, manifest.files)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise BackupError(f"The manifest of {backup} is damaged: {exc}") from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"{backup} has backup format {data.get('format')}, not {FORMAT}.")
    return manifest


def verify_checksums(backup: Path, manifest: Manifest) -> int:
    """Every file the manifest lists is there with its SHA-256, and nothing unlisted."""
    backup = Path(backup)
    problems = []
    for name, expected in manifest.files.items():
        path = backup / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_of(path) != expected["sha256"]:
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    listed = set(manifest.files)
    for path in backup.rglob("*"):
        rel = path.relative_to(backup).as_posix()
        if path.is_file() and path.name != MANIFEST and rel not in listed:
            problems.append(f"{rel} is not in the manifest")
    database = SQLITE_FILE if manifest.engine == "sqlite" else PG_FILE
    if database not in listed:
        problems.append(f"{database} is missing")
    if problems:
        raise BackupError(
            f"The backup {backup} is damaged and was not restored: " + "; ".join(problems) + "."
        )
    return len(listed)


def known_migrations() -> list[tuple[str, str]]:
    """Every migration this code has, as (app, id)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    known: list[tuple[str, str]] = []
    for app_name in manager.get_sorted_app_names():
        config = manager.get_app_config(app_name)
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        known.extend((app_name, mid) for mid in manager.get_migration_ids(modules))
    return known


def check_not_newer(manifest: Manifest) -> None:
    unknown = sorted(set(manifest.migrations) - set(known_migrations()))
    if unknown:
        names = ", ".join(f"{a} {m}" for a, m in unknown)
        raise BackupError(
            "The backup was taken by a newer version of the app (migrations this code does not "
            f"have: {names}); restore it with that version."
        )


async def check_target_empty(settings: Settings) -> None:
    counts, _ = await database_state(settings)
    used = {t: n for t, n in counts.items() if n}
    if counts:
        where = (
            "PostgreSQL database" if settings.is_postgres else f"database {settings.sqlite_path}"
        )
        detail = f" ({len(used)} tables hold rows)" if used else ""
        raise BackupError(
            f"The target {where} is not empty: it has {len(counts)} tables{detail}. "
            "Restore only into an empty database."
        )
    for folder in FILE_FOLDERS:
        path = settings.data_dir / folder
        if path.is_dir() and any(path.iterdir()):
            raise BackupError(
                f"The data directory is not empty: {path} holds files. "
                "Restore only into an empty data directory."
            )


def _settle_keys(settings: Settings, backup: Path, manifest: Manifest) -> tuple[str, list[str]]:
    """The field key to verify with; a backup's own keys go where settings will find them."""
    notes: list[str] = []
    field_key = settings.field_key
    if not manifest.keys_included:
        return field_key, notes
    for name, variable in KEY_NAMES.items():
        value = (backup / "keys" / name).read_text().strip()
        if os.environ.get(variable):
            if value != os.environ[variable].strip():
                notes.append(f"{variable} is set and differs from the key in the backup.")
            continue
        path = settings.data_dir / name
        # The target holds no data yet, so a key generated for it encrypts nothing.
        if path.exists() and path.read_text().strip() != value:
            path.replace(path.with_name(f"{name}.before-restore"))
        path.write_text(value)
        path.chmod(0o600)
        notes.append(f"{variable} from the backup was written to {path}.")
        if name == "field_key":
            field_key = value
    return field_key, notes


async def _load_database(settings: Settings, backup: Path, manifest: Manifest) -> None:
    if manifest.engine == "sqlite":
        target = settings.sqlite_path
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        await asyncio.to_thread(shutil.copyfile, backup / SQLITE_FILE, target)
        from mediation.db import prepare_sqlite_file

        prepare_sqlite_file(str(target))
        return
    import asyncpg

    pg_restore = pg_tool("pg_restore")
    conn = await asyncpg.connect(settings.database_url)
    try:
        await _check_tool_version(conn, pg_restore)
    finally:
        await conn.close()
    archive = backup / PG_FILE
    listing = await asyncio.to_thread(
        subprocess.run, [pg_restore, "--list", str(archive)], capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {archive}: {listing.stderr.strip()}")
    # A fresh database has its public schema already; the archive may create it too.
    entries = [
        line for line in listing.stdout.splitlines() if not re.search(r"\bSCHEMA - public\b", line)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as fh:
        fh.write("\n".join(entries) + "\n")
        list_file = fh.name
    try:
        await _run(
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--use-list={list_file}",
            f"--dbname={settings.database_url}",
            str(archive),
        )
    finally:
        os.unlink(list_file)


def _restore_files(backup: Path, data_dir: Path) -> int:
    count = 0
    for folder in FILE_FOLDERS:
        source = backup / "files" / folder
        if not source.is_dir():
            continue
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            shutil.copy2(path, data_dir / folder / path.name)
            count += 1
    return count


async def _undo(settings: Settings) -> None:
    """Empty the target again after a failed check (it was empty before the restore began)."""
    if settings.is_postgres:
        import asyncpg

        conn = await asyncpg.connect(settings.database_url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.sqlite_path}{suffix}").unlink(missing_ok=True)
    for folder in FILE_FOLDERS:
        shutil.rmtree(settings.data_dir / folder, ignore_errors=True)


def compare_counts(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    problems = []
    for table, n in sorted(expected.items()):
        if actual.get(table) != n:
            problems.append(f"{table}: {actual.get(table)} rows, the backup had {n}")
    return problems


async def verify_stored_files(data_dir: Path) -> int:
    """Every attachment and photo a row refers to is stored (on disk with SQLite, in the
    database with PostgreSQL: ``mediation.files``) with the row's SHA-256."""
    from mediation import files
    from mediation.cases.tables import Attachment
    from mediation.suggestions.tables import SuggestionPhoto

    problems, checked = [], 0
    attachments = await Attachment.select(
        Attachment.stored_as, Attachment.sha256, Attachment.thumbnail_as
    )
    rows = [(files.ATTACHMENTS, r["stored_as"], r["sha256"]) for r in attachments]
    # Thumbnails carry no checksum of their own; they must be there.
    rows += [(files.ATTACHMENTS, r["thumbnail_as"], "") for r in attachments if r["thumbnail_as"]]
    rows += [
        (files.SUGGESTION_PHOTOS, r["stored_as"], r["sha256"])
        for r in await SuggestionPhoto.select(SuggestionPhoto.stored_as, SuggestionPhoto.sha256)
    ]
    for folder, name, expected in rows:
        content = await files.read(data_dir, folder, name)
        if content is None:
            problems.append(f"{Path(name).name} is missing")
        elif expected and hashlib.sha256(content).hexdigest() != expected:
            problems.append(f"{Path(name).name} does not match its SHA-256")
        checked += 1
    if problems:
        raise BackupError("Stored files are wrong after the restore: " + "; ".join(problems))
    return checked


async def verify_agreement_hashes() -> int:
    """Every issued agreement still hashes to the SHA-256 printed on it (so /verify holds)."""
    from mediation.accounts.services import CurrentUser
    from mediation.cases.agreements import agreement_for, content_hash
    from mediation.cases.tables import Agreement

    everyone = CurrentUser(id=0, username="restore", display_name="", roles=frozenset({"admin"}))
    rows = await Agreement.select(Agreement.id, Agreement.number, Agreement.content_hash).where(
        Agreement.content_hash != ""
    )
    wrong = []
    for row in rows:
        agreement = await agreement_for(everyone, row["id"])
        if agreement is None or content_hash(agreement) != row["content_hash"]:
            wrong.append(row["number"] or str(row["id"]))
    if wrong:
        raise BackupError(
            "These issued agreements no longer match their stored SHA-256: " + ", ".join(wrong)
        )
    return len(rows)


async def verify_decryption(field_key: str, source: str) -> int:
    """A sample of encrypted fields opens with the configured key, or the key is named."""
    from cryptography.fernet import InvalidToken

    from mediation.cases.tables import Party
    from mediation.crypto import _fernet

    rows = (
        await Party.select(Party.id_number_encrypted)
        .where(Party.id_number_encrypted != "")
        .order_by(Party.id)
        .limit(DECRYPT_SAMPLE)
    )
    fernet = _fernet(field_key)
    for row in rows:
        try:
            fernet.decrypt(row["id_number_encrypted"].encode())
        except InvalidToken:
            raise BackupError(
                f"FIELD_KEY is wrong or missing: the key from {source} does not decrypt the ID "
                "numbers in this backup. Set FIELD_KEY to the key of the installation the "
                "backup came from and restore again; without that key the ID numbers cannot "
                "be read."
            ) from None
    return len(rows)


async def restore_backup(settings: Settings, backup: Path) -> RestoreReport:
    """Restore into the configured (empty) database and data directory, then verify it.

    The Piccolo engine must be the one ``settings`` name (as in the command line).
    """
    from mediation import db

    backup = Path(backup).resolve()
    manifest = read_manifest(backup)
    expected_engine = "postgres" if settings.is_postgres else "sqlite"
    if manifest.engine != expected_engine:
        raise BackupError(
            f"The backup is of a {manifest.engine} database but DATABASE_URL names a "
            f"{expected_engine} one."
        )
    report = RestoreReport(backup=backup)
    report.checksums = verify_checksums(backup, manifest)
    check_not_newer(manifest)
    await check_target_empty(settings)
    field_key, report.notes = _settle_keys(settings, backup, manifest)
    source = (
        "the backup's keys"
        if manifest.keys_included and not os.environ.get("FIELD_KEY")
        else key_location(settings, "field_key")
    )
    try:
        await _load_database(settings, backup, manifest)
        await asyncio.to_thread(_restore_files, backup, settings.data_dir)
        counts, _ = await database_state(settings)
        problems = compare_counts(manifest.row_counts, counts)
        if problems:
            raise BackupError("Row counts differ after the restore: " + "; ".join(problems))
        report.tables, report.rows = len(counts), sum(counts.values())
        before = set(manifest.migrations)
        await db.migrate()
        _, after = await database_state(settings)
        report.migrated = [f"{a} {m}" for a, m in after if (a, m) not in before]
        report.files = await verify_stored_files(settings.data_dir)
        report.agreements_checked = await verify_agreement_hashes()
        report.fields_decrypted = await verify_decryption(field_key, source)
    except BaseException:
        await _undo(settings)
        raise
    return report


async def backup_before_migrating(settings: Settings, to: Path | None = None) -> str:
    """The backup ``migrate`` takes first; none when there is nothing to lose or to change."""
    counts, ran = await database_state(settings)
    if not counts:
        return "The database is empty: no backup needed before migrating."
    done = set(ran)
    pending = [m for m in known_migrations() if m not in done]
    if not pending:
        return "No migration to run: no backup needed."
    folder = to or settings.backup_dir or settings.data_dir / "backups"
    path = await backup_and_record(settings, folder)
    return f"Backup before migrating ({len(pending)} migrations to run): {path}"
