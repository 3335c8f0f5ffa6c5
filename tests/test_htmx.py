"""htmx asks for fragments; restoring a page missing from htmx's history cache gets it whole."""

from __future__ import annotations

import pytest

from tests.helpers import login

pytestmark = pytest.mark.anyio


async def test_the_case_list_is_a_fragment_for_htmx_and_whole_for_a_history_restore(client):
    await login(client, "grid1")
    whole = await client.get("/cases")
    fragment = await client.get("/cases", headers={"hx-request": "true"})
    restored = await client.get(
        "/cases", headers={"hx-request": "true", "hx-history-restore-request": "true"}
    )
    assert whole.status_code == fragment.status_code == restored.status_code == 200
    assert "<html" in whole.text
    assert "<html" not in fragment.text
    assert "<html" in restored.text
