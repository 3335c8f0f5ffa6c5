"""The agreement preview shows what is on screen (the draft form's current values), not the
last save, and stores nothing (issue 15, item 8)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import pytest

from mediation.cases import agreements
from mediation.cases.tables import Agreement
from tests.cases.conftest import user
from tests.cases.test_sessions_and_agreements import _case_in_mediation, _issued_agreement
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio


def _text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode())


async def test_the_preview_prints_the_unsaved_form_and_stores_nothing(client, new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    agreement_id = await agreements.create_agreement(mediator1, case_id, "written")
    await agreements.update_draft(
        mediator1, agreement_id, "已保存的事实甲。", "", "", "", "", 3, []
    )
    await login(client, "mediator1")
    page = (await client.get(f"/cases/{case_id}/agreements/{agreement_id}")).text
    # The preview button submits the draft form to the preview, into a new tab.
    assert 'form="agreement-form"' in page and 'formtarget="_blank"' in page
    assert f'formaction="/cases/{case_id}/agreements/{agreement_id}/preview.pdf"' in page

    response = await post_form(
        client,
        f"/cases/{case_id}/agreements/{agreement_id}/preview.pdf",
        {
            "main_facts": "屏幕上尚未保存的事实乙。",
            "issues": "",
            "responsibilities": "",
            "performance_method": "",
            "copies": "4",
            "clauses-0-obligor": "李二房东",
            "clauses-0-obligation": "退还押金",
            "clauses-0-amount": "800",
            "clauses-0-method": "",
            "clauses-0-place": "",
            "clauses-0-deadline": "",
            "clauses-0-obligee": "",
        },
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = _text(response.content)
    assert "屏幕上尚未保存的事实乙" in text
    assert "已保存的事实甲" not in text
    assert "捌佰元" in text
    # Nothing was stored.
    row = await Agreement.select(Agreement.main_facts).where(Agreement.id == agreement_id).first()
    assert row["main_facts"] == "已保存的事实甲。"

    client.cookies.clear()
    await login(client, "grid4")  # another community: no preview either
    response = await post_form(
        client, f"/cases/{case_id}/agreements/{agreement_id}/preview.pdf", {"main_facts": "x"}
    )
    assert response.status_code in (403, 404)


async def test_an_issued_agreement_prints_its_fixed_text_whatever_is_posted(new_key):
    mediator1 = await user("mediator1")
    _case, agreement_id = await _issued_agreement(new_key)
    context = await agreements.print_context(
        mediator1,
        agreement_id,
        "http://testserver",
        unsaved={"main_facts": "篡改的事实", "clauses": [], "copies": 9},
    )
    assert context.agreement.facts != ("篡改的事实",)
    assert context.agreement.copies == 3
    assert Decimal("1500") in [c.amount for c in context.agreement.clauses]
