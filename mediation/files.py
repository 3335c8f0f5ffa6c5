"""Stored files (case attachments and their thumbnails, suggestion photos), one interface for
every reader and writer.

With PostgreSQL the content lives in the ``stored_file`` table (bytea), so app servers behind a
load balancer share it without a shared volume, and ``pg_dump`` carries it into backups. With
SQLite (one server) it lives on disk, ``<data dir>/<folder>/<name>``, written private (0600).

A file is named by its folder (``ATTACHMENTS``, ``SUGGESTION_PHOTOS``) and the name stored in
its row (``stored_as``). Files are at most a few MB (uploads are capped at 10 MB): they are read
and written whole, in one statement.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediation import db
from mediation.settings import write_private_file

ATTACHMENTS = "attachments"
SUGGESTION_PHOTOS = "suggestion-photos"
FOLDERS = (ATTACHMENTS, SUGGESTION_PHOTOS)


def in_database() -> bool:
    """True when files are kept in the database (PostgreSQL)."""
    return db.is_postgres()


def _key(folder: str, name: str) -> str:
    if folder not in FOLDERS:
        raise ValueError(f"unknown file folder {folder!r}")
    return f"{folder}/{Path(name).name}"


def disk_path(data_dir: Path, folder: str, name: str) -> Path:
    """Where the file is (SQLite) or was before it moved into PostgreSQL."""
    _key(folder, name)
    return Path(data_dir) / folder / Path(name).name


async def save(data_dir: Path, folder: str, name: str, content: bytes) -> None:
    if in_database():
        from mediation.stored_files import StoredFile

        await StoredFile.raw(
            'INSERT INTO "stored_file" ("key", "content", "size", "created_at") '
            'VALUES ({}, {}, {}, now()) ON CONFLICT ("key") DO UPDATE SET '
            '"content" = excluded."content", "size" = excluded."size"',
            _key(folder, name),
            content,
            len(content),
        )
        return
    await asyncio.to_thread(save_on_disk, data_dir, folder, name, content)


def save_on_disk(data_dir: Path, folder: str, name: str, content: bytes) -> Path:
    """The SQLite way: a private file (0600) in a private folder (0700) of the data dir."""
    path = disk_path(data_dir, folder, name)
    write_private_file(path, content)
    return path


async def read(data_dir: Path, folder: str, name: str) -> bytes | None:
    """The file's content, or None when there is no such file."""
    if not name:
        return None
    if in_database():
        from mediation.stored_files import StoredFile

        row = (
            await StoredFile.select(StoredFile.content)
            .where(StoredFile.key == _key(folder, name))
            .first()
        )
        return bytes(row["content"]) if row else None
    path = disk_path(data_dir, folder, name)

    def load() -> bytes | None:
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    return await asyncio.to_thread(load)


async def delete(data_dir: Path, folder: str, name: str) -> None:
    if in_database():
        from mediation.stored_files import StoredFile

        await StoredFile.delete().where(StoredFile.key == _key(folder, name))
        return
    await asyncio.to_thread(disk_path(data_dir, folder, name).unlink, missing_ok=True)


async def existing(data_dir: Path, folder: str, names: list[str]) -> set[str]:
    """Which of ``names`` are stored."""
    wanted = [Path(n).name for n in names if n]
    if in_database():
        from mediation.stored_files import StoredFile

        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            keys = [_key(folder, n) for n in wanted[start : start + 1000]]
            rows = await StoredFile.select(StoredFile.key).where(StoredFile.key.is_in(keys))
            found.update(r["key"].split("/", 1)[1] for r in rows)
        return found
    return {n for n in wanted if disk_path(data_dir, folder, n).is_file()}


async def move_into_database(data_dir: Path) -> int:
    """Copy the files found on disk under ``data_dir`` into PostgreSQL; returns how many.

    Each folder is then renamed ``<folder>.moved-to-database`` (not deleted: the operator
    removes it once satisfied), so backups no longer copy it and nothing reads it. Run again,
    it finds nothing left to move.
    """
    if not in_database():
        return 0
    moved = 0
    for folder in FOLDERS:
        root = Path(data_dir) / folder
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            if path.is_file():
                await save(data_dir, folder, path.name, await asyncio.to_thread(path.read_bytes))
                moved += 1
        target = root.with_name(folder + ".moved-to-database")
        n = 1
        while target.exists():
            n += 1
            target = root.with_name(f"{folder}.moved-to-database-{n}")
        await asyncio.to_thread(root.rename, target)
    return moved


async def move_onto_disk(data_dir: Path) -> int:
    """The way back (the migration run backwards): every stored file written to disk."""
    if not in_database():
        return 0
    from mediation.stored_files import StoredFile

    moved = 0
    last = ""
    while True:
        rows = (
            await StoredFile.select(StoredFile.key, StoredFile.content)
            .where(StoredFile.key > last)
            .order_by(StoredFile.key)
            .limit(100)
        )
        if not rows:
            return moved
        for row in rows:
            folder, name = row["key"].split("/", 1)
            path = disk_path(data_dir, folder, name)
            await asyncio.to_thread(write_private_file, path, bytes(row["content"]))
            moved += 1
        last = rows[-1]["key"]
