"""The key of personal data at rest: a wrong key stops the app at start-up with a clear message;
``rotate-key`` re-encrypts everything under a new key."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from litestar.testing import AsyncTestClient

from mediation import crypto, keys
from mediation.cases.tables import Party
from mediation.grid.tables import FieldKeyCheck
from mediation.settings import get_settings

pytestmark = pytest.mark.anyio


async def test_the_app_refuses_to_start_with_a_key_that_does_not_match_the_data(settings):
    from mediation.app import create_app

    wrong = dataclasses.replace(settings, field_key="not-the-key-of-this-data")
    with pytest.raises(BaseException) as info:
        async with AsyncTestClient(create_app(wrong)) as client:
            await client.get("/health")
    error = info.value
    while isinstance(error, BaseExceptionGroup):  # the lifespan's task group wraps it
        error = error.exceptions[0]
    assert isinstance(error, keys.FieldKeyMismatch)
    assert "FIELD_KEY does not match" in str(error)
    # The right key starts as before.
    async with AsyncTestClient(create_app(settings)) as client:
        assert (await client.get("/login")).status_code == 200


async def test_a_database_without_a_check_value_takes_it_only_from_a_key_that_opens_the_data():
    right = get_settings().field_key
    await FieldKeyCheck.delete().where(FieldKeyCheck.name == keys.CHECK_NAME)
    with pytest.raises(keys.FieldKeyMismatch):
        await keys.verify_field_key("a-new-random-key-that-opens-nothing")
    assert not await FieldKeyCheck.exists().where(FieldKeyCheck.name == keys.CHECK_NAME)
    await keys.verify_field_key(right)
    row = await FieldKeyCheck.select().where(FieldKeyCheck.name == keys.CHECK_NAME).first()
    assert row["check_value"] == keys.check_value(right)


def test_serve_says_why_it_does_not_start():
    env = {**os.environ, "FIELD_KEY": "not-the-key-of-this-data"}
    result = subprocess.run(
        [sys.executable, "-m", "mediation", "serve", "--port", "8112"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "FIELD_KEY does not match" in result.stderr
    assert "rotate-key" in result.stderr


async def test_rotating_the_key_reencrypts_every_id_number_and_its_digest():
    old = get_settings().field_key
    new = keys.new_key()
    sample = (
        await Party.select(Party.id, Party.id_number_encrypted, Party.id_number_digest)
        .where(Party.id_number_encrypted != "")
        .first()
    )
    plain = crypto.decrypt(sample["id_number_encrypted"], old)
    assert plain
    total = await Party.count().where(Party.id_number_encrypted != "")
    try:
        assert await keys.rotate_field_key(old, new) == total
        row = await Party.select().where(Party.id == sample["id"]).first()
        assert crypto.decrypt(row["id_number_encrypted"], old) == ""
        assert crypto.decrypt(row["id_number_encrypted"], new) == plain
        assert row["id_number_digest"] == crypto.digest(plain, new)
        await keys.verify_field_key(new)
        with pytest.raises(keys.FieldKeyMismatch):
            await keys.verify_field_key(old)
        # Rotating needs the key in use: a wrong "current" key changes nothing.
        with pytest.raises(keys.FieldKeyMismatch):
            await keys.rotate_field_key(old, keys.new_key())
    finally:
        await keys.rotate_field_key(new, old)
    row = await Party.select().where(Party.id == sample["id"]).first()
    assert crypto.decrypt(row["id_number_encrypted"], old) == plain
    assert row["id_number_digest"] == sample["id_number_digest"]
