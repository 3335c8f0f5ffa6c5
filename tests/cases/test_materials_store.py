"""A case material goes through the file store (PostgreSQL or disk) and comes back whole."""

from __future__ import annotations

import pytest

from mediation import files
from mediation.settings import get_settings
from tests.helpers import login

pytestmark = pytest.mark.anyio


async def test_an_uploaded_material_is_served_from_the_store(client, new_key):
    from mediation.cases.tables import Attachment
    from tests.cases.test_materials import add, material_of, new_case, text_pdf

    case_id = await new_case(new_key)
    await login(client, "grid1")
    original = text_pdf("STORED-IN-THE-STORE")
    response = await add(client, case_id, [("files", ("协议.pdf", original, "application/pdf"))])
    assert response.status_code == 303
    row = await material_of(case_id)
    stored = await files.read(get_settings().data_dir, files.ATTACHMENTS, row["stored_as"])
    assert stored == original
    served = await client.get(f"/cases/{case_id}/materials/{row['id']}/download")
    assert served.status_code == 200 and served.content == original
    assert served.headers["content-disposition"].startswith("attachment")
    assert await Attachment.exists().where(Attachment.id == row["id"])
