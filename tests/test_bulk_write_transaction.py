"""db.bulk_write_transaction: a bulk load's work after the commit runs once it has committed,
in the order it was queued, inside one more transaction; after a rollback none of it runs."""

from __future__ import annotations

import uuid

import pytest

from mediation import db
from mediation.grid.services import child_path
from mediation.grid.tables import Region

pytestmark = pytest.mark.anyio


def _region() -> Region:
    code = f"9{uuid.uuid4().int % 10**11:011d}"
    return Region(code=code, name="批量测试", level="county", path=child_path(None, code))


async def test_the_work_after_the_commit_runs_in_order_inside_one_more_transaction():
    seen: list[tuple[int, bool, bool]] = []
    region = _region()

    async def note(n: int) -> None:
        in_transaction = db.engine().current_transaction.get() is not None
        committed = await Region.exists().where(Region.code == region.code)
        seen.append((n, in_transaction, committed))

    async with db.bulk_write_transaction():
        await region.save()
        for n in range(3):
            assert db.after_commit(lambda n=n: note(n))
        assert seen == []
    assert seen == [(0, True, True), (1, True, True), (2, True, True)]


async def test_after_a_rollback_nothing_queued_runs():
    seen: list[int] = []
    region = _region()

    async def note() -> None:
        seen.append(1)

    with pytest.raises(RuntimeError):
        async with db.bulk_write_transaction():
            await region.save()
            db.after_commit(note)
            raise RuntimeError("the load failed")
    assert seen == []
    assert not await Region.exists().where(Region.code == region.code)
