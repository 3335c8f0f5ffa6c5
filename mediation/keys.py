"""The key that encrypts personal data at rest: its check value, and rotation to a new key.

The database keeps an HMAC of a fixed text under the key (``FieldKeyCheck``). At start-up the
configured key must reproduce it; otherwise the app refuses to start, because with a wrong key
every ID number would read as nothing, duplicates would go unfound and new records would be
encrypted under a key nobody keeps. A database made before the check existed gets its check
value from the first start whose key opens the stored ID numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path

from mediation import crypto
from mediation.cases.tables import Party
from mediation.db import write_transaction
from mediation.grid.tables import FieldKeyCheck
from mediation.settings import write_private_file

CHECK_NAME = "field_key"
_CHECK_TEXT = b"mediation field key check v1"


class FieldKeyMismatch(RuntimeError):
    """The configured FIELD_KEY is not the key the stored personal data was encrypted with."""


MISMATCH_MESSAGE = (
    "FIELD_KEY does not match the key the personal data in this database was encrypted with "
    "(its check value differs). The app will not start: with the wrong key every ID number "
    "would read as empty and new records would be encrypted under the wrong key. Set FIELD_KEY "
    "(or the data directory's field_key file) to the key in use, restored from your backup. "
    "To change keys, run `python -m mediation rotate-key` with the current key in place."
)


def check_value(field_key: str) -> str:
    key = hashlib.sha256(("check:" + field_key).encode()).digest()
    return hmac.new(key, _CHECK_TEXT, hashlib.sha256).hexdigest()


async def _sample_opens(field_key: str) -> bool | None:
    """Whether the key opens a stored ID number; None when there is none to try."""
    row = (
        await Party.select(Party.id_number_encrypted).where(Party.id_number_encrypted != "").first()
    )
    if row is None:
        return None
    return crypto.decrypt(row["id_number_encrypted"], field_key) != ""


async def verify_field_key(field_key: str) -> None:
    """Raise FieldKeyMismatch unless ``field_key`` is the key of the stored data; record the
    check value when the database has none yet."""
    row = await FieldKeyCheck.select().where(FieldKeyCheck.name == CHECK_NAME).first()
    expected = check_value(field_key)
    if row is not None:
        if not hmac.compare_digest(row["check_value"], expected):
            raise FieldKeyMismatch(MISMATCH_MESSAGE)
        return
    if await _sample_opens(field_key) is False:
        raise FieldKeyMismatch(MISMATCH_MESSAGE)
    await FieldKeyCheck.insert(FieldKeyCheck(name=CHECK_NAME, check_value=expected)).on_conflict(
        action="DO NOTHING"
    )
    # Two servers starting at once with different keys: the second finds the first's value.
    row = await FieldKeyCheck.select().where(FieldKeyCheck.name == CHECK_NAME).first()
    assert row is not None  # inserted just above, or there already
    if not hmac.compare_digest(row["check_value"], expected):
        raise FieldKeyMismatch(MISMATCH_MESSAGE)


def field_key_lifespan(field_key: str):
    """Litestar lifespan: the app does not start with a key that does not match the data."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app):
        await verify_field_key(field_key)
        yield

    return lifespan


def new_key() -> str:
    return secrets.token_urlsafe(48)


async def rotate_field_key(old_key: str, new: str, batch: int = 500) -> int:
    """Re-encrypt every ID number (and its matching digest) under ``new``, in one transaction,
    and store the new check value. Returns how many parties were re-encrypted."""
    if not new or new == old_key:
        raise ValueError("The new key must differ from the current one.")
    await verify_field_key(old_key)
    count = 0
    async with write_transaction():
        last_id = 0
        while True:
            rows = (
                await Party.select(Party.id, Party.id_number_encrypted)
                .where(Party.id > last_id, Party.id_number_encrypted != "")
                .order_by(Party.id)
                .limit(batch)
            )
            if not rows:
                break
            for r in rows:
                plain = crypto.decrypt(r["id_number_encrypted"], old_key)
                if not plain:
                    raise FieldKeyMismatch(
                        f"Party {r['id']}: its ID number does not open with the current key; "
                        "nothing was changed."
                    )
                await Party.update(
                    {
                        Party.id_number_encrypted: crypto.encrypt(plain, new),
                        Party.id_number_digest: crypto.digest(plain, new),
                    }
                ).where(Party.id == r["id"])
                count += 1
            last_id = rows[-1]["id"]
        await FieldKeyCheck.update(
            {
                FieldKeyCheck.check_value: check_value(new),
                FieldKeyCheck.rotated_at: datetime.now(UTC),
            }
        ).where(FieldKeyCheck.name == CHECK_NAME)
    return count


def write_key_file(path: Path, value: str) -> None:
    """Replace a key file atomically, readable by the owner only."""
    write_private_file(path, value)
