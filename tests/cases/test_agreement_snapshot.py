"""An issued agreement keeps the parties it printed: correcting a party afterwards changes
neither what /verify vouches for nor a reprint."""

from __future__ import annotations

import importlib
import json
import re
import subprocess

import pytest

from mediation.cases import agreements
from mediation.cases.tables import Agreement, Party
from mediation.documents.pdf import render_pdf
from tests.cases.conftest import user
from tests.cases.test_sessions_and_agreements import _issued_agreement

pytestmark = pytest.mark.anyio


def _pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode())


async def test_editing_a_party_after_issue_keeps_the_hash_and_the_printed_name(client, new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _issued_agreement(new_key)
    issued = await Agreement.select().where(Agreement.id == agreement_id).first()
    party = await Party.select().where(Party.case == case_id, Party.name == "李二房东").first()

    await agreements.update_party(
        mediator1, case_id, party["id"], {"name": "李某某", "address": "平湖市新地址1号"}
    )

    row = await agreements.agreement_for(mediator1, agreement_id)
    assert agreements.content_hash(row) == issued["content_hash"]
    page = await client.get(f"/verify/{issued['verification_code']}")
    assert page.status_code == 200 and issued["content_hash"] in page.text
    context = await agreements.print_context(mediator1, agreement_id, "http://testserver")
    text = _pdf_text(render_pdf("documents/agreement.html", context))
    assert "李二房东" in text and "李某某" not in text
    assert "新地址" not in text
    assert issued["content_hash"] in text
    # Signatures follow the name that was printed.
    assert "李二房东" in row.missing_signatures


async def test_a_draft_shows_the_parties_as_they_stand(new_key):
    mediator1 = await user("mediator1")
    case_id, _issued = await _issued_agreement(new_key)
    draft = await agreements.create_agreement(mediator1, case_id, "written")
    party = await Party.select().where(Party.case == case_id, Party.name == "李二房东").first()
    await agreements.update_party(mediator1, case_id, party["id"], {"name": "李某某"})
    names = [p.name for p in (await agreements.agreement_for(mediator1, draft)).parties]
    assert "李某某" in names and "李二房东" not in names


async def test_the_migration_freezes_existing_issued_agreements_from_current_parties(new_key):
    mediator1 = await user("mediator1")
    case_id, agreement_id = await _issued_agreement(new_key)
    frozen = (await Agreement.select().where(Agreement.id == agreement_id).first())[
        "parties_snapshot"
    ]
    await Agreement.update({Agreement.parties_snapshot: ""}).where(Agreement.id == agreement_id)
    module = importlib.import_module(
        "mediation.cases.piccolo_migrations.cases_2026_11_30t03_46_00_000000"
    )
    manager = await module.forwards()
    for step in manager.raw:
        await step()
    row = await Agreement.select().where(Agreement.id == agreement_id).first()
    assert json.loads(row["parties_snapshot"]) == json.loads(frozen)
    again = await agreements.agreement_for(mediator1, agreement_id)
    assert agreements.content_hash(again) == row["content_hash"]
    assert [p.id for p in again.parties] == [
        p["id"]
        for p in await Party.select(Party.id).where(Party.case == case_id).order_by(Party.id)
    ]
