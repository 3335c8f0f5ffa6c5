"""Stored files: in PostgreSQL when the database is PostgreSQL, on disk with SQLite; one
interface for every reader and writer; a migration moves files already on disk in."""

from __future__ import annotations

import os
import uuid

import pytest

from mediation import db, files
from mediation.stored_files import StoredFile

pytestmark = pytest.mark.anyio


async def test_a_file_round_trips_where_the_engine_keeps_it(tmp_path):
    name = uuid.uuid4().hex + ".pdf"
    content = b"%PDF-1.4 " + os.urandom(300_000)  # binary, not text; larger than a page
    await files.save(tmp_path, files.ATTACHMENTS, name, content)
    assert await files.read(tmp_path, files.ATTACHMENTS, name) == content
    assert await files.existing(tmp_path, files.ATTACHMENTS, [name, "other.pdf"]) == {name}
    row = (
        await StoredFile.select(StoredFile.size)
        .where(StoredFile.key == f"attachments/{name}")
        .first()
    )
    on_disk = (tmp_path / "attachments" / name).exists()
    if db.is_postgres():
        assert row == {"size": len(content)} and not on_disk
    else:
        assert row is None and on_disk
    # Another folder is another name space.
    assert await files.read(tmp_path, files.SUGGESTION_PHOTOS, name) is None
    await files.delete(tmp_path, files.ATTACHMENTS, name)
    assert await files.read(tmp_path, files.ATTACHMENTS, name) is None
    with pytest.raises(ValueError):
        await files.read(tmp_path, "../keys", name)


async def test_the_migration_moves_files_on_disk_into_postgresql(tmp_path):
    photo = uuid.uuid4().hex + ".jpg"
    scan = uuid.uuid4().hex + ".png"
    files.save_on_disk(tmp_path, files.SUGGESTION_PHOTOS, photo, b"\xff\xd8\xff photo")
    files.save_on_disk(tmp_path, files.ATTACHMENTS, scan, b"\x89PNG scan")
    moved = await files.move_into_database(tmp_path)
    if not db.is_postgres():
        assert moved == 0 and (tmp_path / "attachments" / scan).is_file()
        return
    assert moved == 2
    assert await files.read(tmp_path, files.SUGGESTION_PHOTOS, photo) == b"\xff\xd8\xff photo"
    assert await files.read(tmp_path, files.ATTACHMENTS, scan) == b"\x89PNG scan"
    # The folders are set aside, not deleted; a second run has nothing to move.
    assert not (tmp_path / "attachments").exists()
    assert (tmp_path / "attachments.moved-to-database" / scan).is_file()
    assert await files.move_into_database(tmp_path) == 0
    # The way back writes every stored file to disk.
    back = tmp_path / "back"
    assert await files.move_onto_disk(back) >= 2
    assert (back / "attachments" / scan).read_bytes() == b"\x89PNG scan"
    for name, folder in ((photo, files.SUGGESTION_PHOTOS), (scan, files.ATTACHMENTS)):
        await files.delete(tmp_path, folder, name)
