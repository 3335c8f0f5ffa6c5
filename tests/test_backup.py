"""Backups restore: the whole county comes back into a fresh database and data directory.

The source is the suite's demo county (40 issued agreements, parties with encrypted ID
numbers) plus a case attachment and a suggestion photo on disk. Every restore runs the real
command line in its own process against a fresh target: a new SQLite file and data directory,
or a new PostgreSQL database named after the suite's with a ``_restore`` suffix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from mediation import backup, crypto, db
from mediation.cases.tables import Agreement, Attachment, Case, Party
from mediation.settings import settings_from_env
from mediation.suggestions import photos
from mediation.suggestions.tables import Suggestion, SuggestionPhoto
from tests.cases.conftest import grid_id
from tests.cases.test_controllers import intake_form, post_intake, tiny_png
from tests.helpers import login

# Module-scoped fixtures write rows the tests share: one fresh database for the module.
pytestmark = [pytest.mark.anyio, pytest.mark.module_database]

ROOT = Path(__file__).resolve().parent.parent
WRONG_KEY = "a-field-key-that-encrypted-nothing-here-0123456789"
_numbers = itertools.count(1)


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    """``python -m mediation ...`` as an operator runs it, with this tree's code."""
    return subprocess.run(
        [sys.executable, "-m", "mediation", *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _pg_admin(statement: str) -> None:
    """Run one statement on the server's maintenance database, from async tests too."""
    import asyncpg

    async def run():
        conn = await asyncpg.connect(_admin_url(os.environ["DATABASE_URL"]))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@dataclasses.dataclass
class Target:
    """A fresh place to restore into: an empty database and an empty data directory."""

    url: str
    data_dir: Path

    @property
    def env(self) -> dict:
        return {**os.environ, "DATABASE_URL": self.url, "MEDIATION_DATA_DIR": str(self.data_dir)}

    @property
    def settings(self):
        return settings_from_env(self.env)

    async def fetch(self, sql: str) -> list[dict]:
        if self.url.startswith("postgresql://"):
            import asyncpg

            conn = await asyncpg.connect(self.url)
            try:
                return [dict(r) for r in await conn.fetch(sql)]
            finally:
                await conn.close()
        conn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()

    async def state(self):
        return await backup.database_state(self.settings)


@pytest.fixture
def targets(tmp_path):
    """Makes fresh targets; PostgreSQL databases made here are dropped afterwards."""
    made: list[str] = []
    source = os.environ["DATABASE_URL"]

    def make() -> Target:
        n = next(_numbers)
        data_dir = tmp_path / f"target{n}"
        if source.startswith("postgresql://"):
            name = f"{urlsplit(source).path.lstrip('/')}_restore{n}"
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
            _pg_admin(f'CREATE DATABASE "{name}"')
            made.append(name)
            url = urlunsplit(urlsplit(source)._replace(path=f"/{name}"))
        else:
            url = f"sqlite:///{data_dir / 'mediation.sqlite3'}"
        return Target(url, data_dir)

    yield make
    for name in made:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _add_stored_files() -> None:
    """One case attachment and one suggestion photo on disk, as uploads leave them."""
    from mediation.settings import get_settings
    from mediation.uploads import CheckedFile, store

    data_dir = get_settings().data_dir
    if await Attachment.count() and await SuggestionPhoto.count():
        return
    case = await Case.select(Case.id).order_by(Case.id).first()
    checked = CheckedFile("scan.png", "image/png", ".png", tiny_png())
    await Attachment(
        case=case["id"],
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=hashlib.sha256(checked.content).hexdigest(),
        stored_as=await store(data_dir, checked),
    ).save()
    suggestion = await Suggestion.select(Suggestion.id).order_by(Suggestion.id).first()
    photo = photos.prepare("lamp.png", tiny_png())
    await SuggestionPhoto(
        suggestion=suggestion["id"],
        size=len(photo.content),
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        stored_as=await photos.store(data_dir, photo),
    ).save()


async def _with_db(fn):
    await db.start()
    try:
        return await fn()
    finally:
        await db.stop()


@pytest.fixture(scope="module")
def cli_backup(database, tmp_path_factory) -> tuple[Path, str]:
    """One backup of the suite's database through the command line, shared by the tests."""
    asyncio.run(_with_db(_add_stored_files))
    folder = tmp_path_factory.mktemp("backups")
    result = cli("backup", "--to", str(folder), env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    (path,) = backup.list_backups(folder)
    return path, result.stdout


def _restore(path: Path, target: Target, **env) -> subprocess.CompletedProcess:
    return cli("restore", str(path), env={**target.env, **env})


# ------------------------------------------------------------------ backup


async def test_the_backup_command_says_the_keys_are_not_in_it_and_where_they_are(cli_backup):
    path, output = cli_backup
    manifest = backup.read_manifest(path)
    assert not manifest.keys_included and not (path / "keys").exists()
    assert "The keys are NOT in it" in output
    assert "FIELD_KEY: the environment variable FIELD_KEY" in output
    # The key itself is never printed or written into the backup.
    key = os.environ["FIELD_KEY"]
    assert key not in output
    assert all(key.encode() not in p.read_bytes() for p in path.rglob("*") if p.is_file())


async def test_the_manifest_lists_version_migrations_counts_and_checksums(cli_backup):
    path, _ = cli_backup
    manifest = backup.read_manifest(path)
    assert manifest.data["app_version"]
    assert manifest.engine == ("postgres" if db.is_postgres() else "sqlite")
    assert manifest.migrations == backup.known_migrations()
    assert 40 <= manifest.row_counts["agreement"] <= await Agreement.count()
    assert 0 < manifest.row_counts["party"] <= await Party.count()
    database = "database.pgdump" if db.is_postgres() else "database.sqlite3"
    assert database in manifest.files
    stored = [name for name in manifest.files if name.startswith("files/")]
    if db.is_postgres():
        # The files are rows of stored_file, inside the pg_dump archive.
        assert manifest.row_counts["stored_file"] >= 2 and stored == []
    else:
        assert any(n.startswith("files/attachments/") for n in stored)
        assert any(n.startswith("files/suggestion-photos/") for n in stored)
    for name, entry in manifest.files.items():
        assert hashlib.sha256((path / name).read_bytes()).hexdigest() == entry["sha256"]


async def test_with_keys_the_backup_carries_them_and_says_so(tmp_path):
    result = cli("backup", "--to", str(tmp_path), "--with-keys", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    (path,) = backup.list_backups(tmp_path)
    assert (path / "keys" / "field_key").read_text() == os.environ["FIELD_KEY"]
    assert oct((path / "keys" / "field_key").stat().st_mode & 0o777) == "0o600"
    assert "CONTAINS the keys" in result.stdout


async def test_keep_leaves_only_the_newest_backups(tmp_path):
    settings = settings_from_env()
    start = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)
    for day in range(4):
        await backup.create_backup(settings, tmp_path, now=start + timedelta(days=day), keep=2)
    names = [p.name for p in backup.list_backups(tmp_path)]
    assert names == ["mediation-backup-20261201T223000Z", "mediation-backup-20261202T223000Z"]


# ------------------------------------------------------------------ restore


async def test_a_backup_taken_while_requests_are_served_restores_into_a_fresh_place(
    client, tmp_path, targets
):
    """Cases with attachments are registered before, during and after the backup."""
    await login(client, "grid1")
    grid = await grid_id()
    results: list[int] = []
    stop = asyncio.Event()

    async def traffic():
        while not stop.is_set():
            response = await post_intake(
                client,
                await intake_form(grid),
                files=[("attachments", ("scan.png", tiny_png(), "image/png"))],
            )
            results.append(response.status_code)
            results.append((await client.get("/cases")).status_code)
            # The test client answers without suspending: let the backup and the test run.
            await asyncio.sleep(0)

    async def served(n: int) -> None:
        while len(results) < n:
            if worker.done():
                worker.result()  # the traffic's own failure, not a hang
                raise AssertionError(f"traffic stopped: {results}")
            await asyncio.sleep(0.01)

    worker = asyncio.create_task(traffic())
    await asyncio.wait_for(served(4), 120)
    path = await backup.create_backup(settings_from_env(), tmp_path / "backups")
    await asyncio.wait_for(served(len(results) + 4), 120)
    stop.set()
    await worker
    assert set(results) == {303, 200}, results
    manifest = backup.read_manifest(path)
    # Requests went on after the backup: the source has moved past the backup's moment.
    assert await Case.count() > manifest.row_counts["case"]

    target = targets()
    result = _restore(path, target)
    assert result.returncode == 0, result.stderr
    assert "counts match the manifest" in result.stdout

    # Counts: every table as the manifest says.
    counts, migrations = await target.state()
    assert counts == manifest.row_counts
    assert migrations == backup.known_migrations()
    # Files: each attachment and photo row finds its bytes with its SHA-256.
    rows = await target.fetch("SELECT stored_as, sha256 FROM attachment") + await target.fetch(
        "SELECT stored_as, sha256 FROM suggestion_photo"
    )
    assert len(rows) >= 2
    if db.is_postgres():
        # With PostgreSQL the bytes are rows of stored_file, restored with the database.
        stored = {
            r["key"].split("/", 1)[1]: bytes(r["content"])
            for r in await target.fetch('SELECT "key", "content" FROM stored_file')
        }
        for row in rows:
            assert hashlib.sha256(stored[row["stored_as"]]).hexdigest() == row["sha256"], row
        assert not list(target.data_dir.glob("attachments/*"))
    else:
        for row in rows:
            matches = list(target.data_dir.glob(f"*/{row['stored_as']}"))
            assert len(matches) == 1, row
            assert hashlib.sha256(matches[0].read_bytes()).hexdigest() == row["sha256"]
    # Agreements: the same numbers, verification codes and content hashes as the source.
    sql = (
        "SELECT id, number, verification_code, content_hash FROM agreement "
        "WHERE content_hash != '' ORDER BY id"
    )
    restored = await target.fetch(sql)
    source = await Agreement.raw(sql)
    assert len(restored) >= 40 and restored == source[: len(restored)]
    assert f"{len(restored)} issued agreements: content hashes match" in result.stdout
    # Decryption: the restored ID numbers open with the configured key.
    parties = await target.fetch(
        "SELECT id, id_number_encrypted FROM party WHERE id_number_encrypted != '' "
        "ORDER BY id LIMIT 20"
    )
    assert parties
    for party in parties:
        original = await Party.select(Party.id_number_encrypted).where(Party.id == party["id"])
        assert crypto.decrypt(party["id_number_encrypted"]) == crypto.decrypt(
            original[0]["id_number_encrypted"]
        )
        assert crypto.decrypt(party["id_number_encrypted"])


async def test_a_restore_with_the_wrong_key_fails_naming_the_key_and_leaves_nothing(
    cli_backup, targets
):
    path, _ = cli_backup
    target = targets()
    result = _restore(path, target, FIELD_KEY=WRONG_KEY)
    assert result.returncode == 1
    assert "FIELD_KEY is wrong or missing" in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing is left behind: the same target takes the restore with the right key.
    counts, _ = await target.state()
    assert counts == {}
    assert not (target.data_dir / "attachments").exists()
    again = _restore(path, target)
    assert again.returncode == 0, again.stderr


async def test_a_restore_without_any_key_names_the_key_file_it_tried(cli_backup, targets):
    path, _ = cli_backup
    target = targets()
    env = {k: v for k, v in target.env.items() if k != "FIELD_KEY"}
    result = cli("restore", str(path), env=env)
    assert result.returncode == 1
    assert "FIELD_KEY is wrong or missing" in result.stderr
    assert str(target.data_dir / "field_key") in result.stderr


async def test_a_backup_with_keys_restores_without_the_key_being_set(tmp_path, targets):
    made = cli("backup", "--to", str(tmp_path), "--with-keys", env=dict(os.environ))
    assert made.returncode == 0, made.stderr
    (path,) = backup.list_backups(tmp_path)
    target = targets()
    env = {k: v for k, v in target.env.items() if k != "FIELD_KEY"}
    result = cli("restore", str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert (target.data_dir / "field_key").read_text() == os.environ["FIELD_KEY"]


async def test_a_corrupted_backup_is_refused_and_the_target_stays_empty(
    cli_backup, tmp_path, targets
):
    path, _ = cli_backup
    damaged = tmp_path / path.name
    shutil.copytree(path, damaged)
    name = "database.pgdump" if db.is_postgres() else "database.sqlite3"
    database = damaged / name
    content = bytearray(database.read_bytes())
    content[len(content) // 2] ^= 0xFF
    database.write_bytes(bytes(content))
    target = targets()
    result = _restore(damaged, target)
    assert result.returncode == 1
    assert f"{name} does not match its SHA-256" in result.stderr
    assert (await target.state())[0] == {}

    # A stored file that went missing is refused the same way (with PostgreSQL the files are
    # inside the database archive, whose damage is refused above).
    if not db.is_postgres():
        shutil.rmtree(damaged)
        shutil.copytree(path, damaged)
        photo = next((damaged / "files" / "suggestion-photos").iterdir())
        photo.unlink()
        result = _restore(damaged, target)
        assert result.returncode == 1 and f"{photo.name} is missing" in result.stderr

    # No manifest: not a backup at all.
    (damaged / "manifest.json").unlink()
    result = _restore(damaged, target)
    assert result.returncode == 1 and "is not a backup" in result.stderr


async def test_a_restore_refuses_a_target_that_holds_data(cli_backup, targets):
    path, _ = cli_backup
    target = targets()
    assert _restore(path, target).returncode == 0
    result = _restore(path, target)
    assert result.returncode == 1
    assert "is not empty" in result.stderr


async def test_a_backup_older_than_the_code_restores_and_migrates_forward(
    cli_backup, tmp_path, targets
):
    """An installation one migration behind: migrate backs it up first, that backup restores."""
    path, _ = cli_backup
    old = targets()
    assert _restore(path, old).returncode == 0
    last = [m for m in backup.known_migrations() if m[0] == "suggestions"][-1]
    reverse = (
        "import asyncio, sys\n"
        "from piccolo.apps.migrations.commands.backwards import run_backwards\n"
        "from mediation import db\n"
        "async def main():\n"
        "    await db.start()\n"
        "    r = await run_backwards(app_name=sys.argv[1], migration_id=sys.argv[2],"
        " auto_agree=True)\n"
        "    await db.stop()\n"
        "    sys.exit(0 if r.success else 1)\n"
        "asyncio.run(main())\n"
    )
    undone = subprocess.run(
        [sys.executable, "-c", reverse, *last],
        cwd=ROOT,
        env={**old.env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert undone.returncode == 0, undone.stderr
    assert last not in (await old.state())[1]

    # migrate takes the backup first, while the database is still at the old schema.
    folder = tmp_path / "before-migrate"
    migrated = cli("migrate", "--backup-to", str(folder), env=old.env)
    assert migrated.returncode == 0, migrated.stderr
    assert "Backup before migrating (1 migrations to run)" in migrated.stdout
    (older,) = backup.list_backups(folder)
    assert last not in backup.read_manifest(older).migrations
    assert last in (await old.state())[1]

    fresh = targets()
    result = _restore(older, fresh)
    assert result.returncode == 0, result.stderr
    assert f"migrated forward: {last[0]} {last[1]}" in result.stdout
    counts, migrations = await fresh.state()
    assert migrations[: len(backup.read_manifest(older).migrations)] == (
        backup.read_manifest(older).migrations
    )
    assert sorted(migrations) == sorted(backup.known_migrations())
    assert counts["agreement"] == backup.read_manifest(older).row_counts["agreement"]


async def test_migrate_without_pending_migrations_or_with_no_backup_takes_none(
    cli_backup, tmp_path, targets
):
    path, _ = cli_backup
    target = targets()
    assert _restore(path, target).returncode == 0
    result = cli("migrate", "--backup-to", str(tmp_path / "b"), env=target.env)
    assert result.returncode == 0 and "No migration to run" in result.stdout
    result = cli("migrate", "--no-backup", "--backup-to", str(tmp_path / "b"), env=target.env)
    assert result.returncode == 0 and "backup" not in result.stdout.lower()
    assert backup.list_backups(tmp_path / "b") == []


# ------------------------------------------------------------------ scheduled, admin home

NOW = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # 06:30 on 30 Nov in Beijing


@pytest.mark.pure
def test_the_nightly_backup_is_due_once_per_beijing_day():
    assert backup.backup_due(NOW, None)
    # 01:30 Beijing on 30 Nov: today's backup exists.
    assert not backup.backup_due(NOW, datetime(2026, 11, 29, 17, 30, tzinfo=UTC))
    # 02:00 Beijing on 29 Nov (18:00 UTC on the 28th): yesterday's, so one is due.
    assert backup.backup_due(NOW, datetime(2026, 11, 28, 18, 0, tzinfo=UTC))
    # 00:30 Beijing: the night's backup waits until 01:00.
    assert not backup.backup_due(
        datetime(2026, 11, 29, 16, 30, tzinfo=UTC), datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    )
    # 07:30 UTC on the 29th is 15:30 in Beijing on the same day as a 02:00 Beijing backup.
    assert not backup.backup_due(
        datetime(2026, 11, 29, 7, 30, tzinfo=UTC), datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    )


async def test_the_background_task_takes_the_nightly_backup_once(tmp_path):
    from mediation.tasks import backup_if_due

    settings = dataclasses.replace(settings_from_env(), backup_dir=tmp_path, backup_keep=3)
    first = await backup_if_due(settings)
    assert first and Path(first).parent == tmp_path
    assert await backup_if_due(settings) is None
    status = json.loads((tmp_path / backup.STATUS_FILE).read_text())
    assert status["ok"] and status["backup"] == Path(first).name


async def test_a_failed_nightly_backup_is_recorded(tmp_path):
    from mediation.tasks import backup_if_due

    broken = dataclasses.replace(
        settings_from_env(),
        backup_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'gone' / 'nothing.sqlite3'}",
        data_dir=tmp_path / "gone",
    )
    with pytest.raises(backup.BackupError):
        await backup_if_due(broken)
    status = backup.backup_status(broken)
    assert status.failed and "There is no database" in status.error
    assert backup.list_backups(tmp_path) == []


def _fake_backup(folder: Path, at: datetime) -> None:
    path = folder / (backup.PREFIX + at.strftime("%Y%m%dT%H%M%SZ"))
    path.mkdir(parents=True)
    (path / backup.MANIFEST).write_text(json.dumps({"created_at": at.isoformat()}))


async def _admin_home(settings) -> str:
    from litestar.testing import AsyncTestClient

    from mediation.app import create_app

    async with AsyncTestClient(create_app(settings)) as client:
        await login(client, "admin")
        response = await client.get("/admin/")
        assert response.status_code == 200
        return response.text


def _status_block(page: str) -> str:
    """The backup status element, from its opening tag to its end."""
    start = page.rindex("<", 0, page.index('id="backup-status"'))
    ends = [page.find(tag, start) for tag in ("</div>", "</p>")]
    return page[start : min(e for e in ends if e > 0)]


async def test_the_admin_home_shows_the_last_backup_and_warns_when_old_or_failed(tmp_path):
    base = settings_from_env()
    page = await _admin_home(base)
    assert "BACKUP_DIR" in _status_block(page)

    settings = dataclasses.replace(base, backup_dir=tmp_path)
    assert "还没有备份" in _status_block(await _admin_home(settings))

    recent = datetime.now(UTC) - timedelta(hours=5)
    _fake_backup(tmp_path, recent)
    block = _status_block(await _admin_home(settings))
    assert "最近一次备份" in block and 'class="muted"' in block
    assert "超过两天" not in block

    shutil.rmtree(backup.list_backups(tmp_path)[0])
    _fake_backup(tmp_path, datetime.now(UTC) - timedelta(days=3))
    assert "超过两天" in _status_block(await _admin_home(settings))

    backup.write_status(tmp_path, False, datetime.now(UTC), None, "disk full")
    block = _status_block(await _admin_home(settings))
    assert "最近一次备份失败" in block and "disk full" in block


async def test_backups_taken_in_the_same_second_get_distinct_names(tmp_path):
    path = await backup.create_backup(settings_from_env(), tmp_path, now=NOW)
    again = await backup.create_backup(settings_from_env(), tmp_path, now=NOW)
    assert path.name == "mediation-backup-20261129T223000Z"
    assert again.name == "mediation-backup-20261129T223000Z-2"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


# ------------------------------------------------------------------ migrations backwards

BACKWARDS = """
import asyncio, json
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import Finder
from mediation import db
from mediation.backup import database_state
from mediation.settings import get_settings

async def main():
    await db.start()
    settings = get_settings()
    await db.migrate()
    steps = [sorted((await database_state(settings))[0])]
    for app in reversed(BaseMigrationManager().get_sorted_app_names()):
        result = await run_backwards(app_name=app, migration_id="all", auto_agree=True)
        counts, ran = await database_state(settings)
        steps.append([app, result.success, sorted(counts), [a for a, _ in ran]])
    await db.migrate()
    for table in Finder().get_table_classes():
        await table.select(*table._meta.columns).limit(1)
    steps.append(sorted((await database_state(settings))[0]))
    await db.stop()
    print("STEPS " + json.dumps(steps))

asyncio.run(main())
"""


async def test_every_migration_runs_backwards_to_zero_and_forwards_again(targets):
    """Forwards, each app backwards to nothing (dependants first), then forwards again."""
    from piccolo.conf.apps import Finder

    target = targets()
    result = subprocess.run(
        [sys.executable, "-c", BACKWARDS],
        cwd=ROOT,
        env={**target.env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("STEPS "))
    steps = json.loads(line.removeprefix("STEPS "))
    first, *undone, last = steps
    registry = Finder().get_app_registry()
    for app, success, tables, ran_apps in undone:
        assert success, app
        assert app not in ran_apps
        own = {t._meta.tablename for t in registry.get_app_config(app).table_classes}
        assert not own & set(tables), f"{app} left tables behind: {own & set(tables)}"
    assert undone[-1][2] == ["migration"] and undone[-1][3] == []
    assert first == last
    declared = {t._meta.tablename for t in Finder().get_table_classes()}
    assert declared <= set(last)
