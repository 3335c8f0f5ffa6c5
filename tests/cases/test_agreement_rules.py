"""Agreements as a committee signs them off: oral agreements in effect when recorded, a
supplement naming its original, stored copies, each sum printed once, the committee, who may
act, and the case status following the documents."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from mediation.cases import agreements, followups, services
from mediation.cases.tables import (
    Agreement,
    AgreementClause,
    Case,
    CaseMediator,
    Party,
    Signature,
)
from mediation.documents.pdf import print_date, render_html, render_pdf
from tests.cases.conftest import user
from tests.cases.test_sessions_and_agreements import _case_in_mediation
from tests.helpers import login, post_form

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("release_mediators")]


def pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", text)


async def _pdf(agreement_id: int) -> str:
    mediator1 = await user("mediator1")
    context = await agreements.print_context(mediator1, agreement_id, "http://testserver")
    return pdf_text(render_pdf("documents/agreement.html", context))


def _clause(obligor: str, obligation: str, amount: str | None = None, **more):
    return agreements.ClauseInput(obligor, obligation, Decimal(amount) if amount else None, **more)


async def _written(case_id: int, clauses, copies: int = 3) -> int:
    mediator1 = await user("mediator1")
    agreement_id = await agreements.create_agreement(mediator1, case_id, "written")
    await agreements.update_draft(
        mediator1, agreement_id, "租客提前退租。", "押金。", "", "", "", copies, clauses
    )
    return agreement_id


async def _sign_all(agreement_id: int) -> None:
    mediator1 = await user("mediator1")
    today = services.today()
    for name, role in (
        ("王堃", "party"),
        ("李二房东", "party"),
        ("沈建华", "mediator"),
        ("", "seal"),
    ):
        await agreements.record_signature(mediator1, agreement_id, name, role, today)


async def test_an_oral_agreement_is_in_effect_as_soon_as_it_is_recorded(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    reached = services.today() - timedelta(days=1)
    agreement_id = await agreements.create_agreement(
        mediator1, case_id, "oral", oral_content="李二房东当场退还押金一千元。", reached_on=reached
    )
    row = await Agreement.select().where(Agreement.id == agreement_id).first()
    assert (row["status"], row["effective_on"], row["reached_on"]) == (
        "effective",
        reached,
        reached,
    )
    assert row["number"]
    # No signature was needed, and the case followed the agreement into performance.
    assert (await agreements.agreement_for(mediator1, agreement_id)).missing_signatures == []
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    assert case["status"] == "performing"

    text = await _pdf(agreement_id)
    assert "口头调解协议登记" in text
    assert f"协议达成日期：{print_date(reached)}" in text
    assert "李二房东当场退还押金一千元。" in text
    assert "人民调解员（签名）" in text and "记录人（签名）" in text and "沈建华" in text
    assert "自各方当事人达成之日起生效" in text
    # Neither the written agreement's copy clause nor its effect clause.
    assert "一式" not in text and "当事人各执一份" not in text
    assert "加盖人民调解委员会印章之日起生效" not in text


async def test_a_supplementary_agreement_names_its_original_and_what_changes(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    original = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    await agreements.issue_agreement(mediator1, original)
    await _sign_all(original)
    first = await Agreement.select().where(Agreement.id == original).first()

    supplement = await agreements.create_agreement(
        mediator1, case_id, "written", supplements=original
    )
    await agreements.update_draft(
        mediator1,
        supplement,
        "",
        "",
        "",
        "",
        "",
        3,
        [_clause("李二房东", "分两期退还押金", "1500")],
        amended_clauses="第一条",
    )
    text = await _pdf(supplement)
    assert "人民调解补充协议书" in text
    assert first["number"] in text
    assert print_date(first["effective_on"]) in text
    assert "现对原协议第一条变更如下" in text
    assert "原协议其他条款继续有效" in text


async def test_only_an_agreement_in_effect_can_be_supplemented(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    draft = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    with pytest.raises(services.CaseError):
        await agreements.create_agreement(mediator1, case_id, "written", supplements=draft)


async def test_the_printed_copies_are_the_stored_copies(new_key):
    case_id = await _case_in_mediation(new_key)
    agreement_id = await _written(case_id, [_clause("李二房东", "退还押金", "1500")], copies=5)
    text = await _pdf(agreement_id)
    assert "本协议一式五份" in text
    assert "一式三份" not in text


async def test_five_clauses_print_and_each_sum_appears_once(new_key):
    case_id = await _case_in_mediation(new_key)
    amounts = ["1500", "230.50", "88", "1200", "6000"]
    clauses = [
        _clause("李二房东", f"支付第{n}笔款项", amount, obligee="王堃")
        for n, amount in enumerate(amounts, start=1)
    ]
    agreement_id = await _written(case_id, clauses)
    text = await _pdf(agreement_id)
    for n, (label, figures) in enumerate(
        zip("一二三四五", ["1,500.00", "230.50", "88.00", "1,200.00", "6,000.00"], strict=True),
        start=1,
    ):
        assert f"{label}、李二房东向王堃支付第{n}笔款项人民币{figures}元" in text
        assert text.count(f"人民币{figures}元") == 1
    assert text.count("人民币") == 5
    assert text.count("（大写：") == 5


async def test_a_sum_typed_into_the_wording_is_refused_beside_the_field():
    rows = [{"index": 0, "obligor": "李二房东", "obligation": "向王某退还押金人民币1500元"}]
    _clauses, errors = agreements.parse_clauses(rows)
    assert "clauses-0-obligation" in errors
    rows = [{"index": 0, "obligor": "李二房东", "obligation": "退还押金", "amount": "1500"}]
    _clauses, errors = agreements.parse_clauses(rows)
    assert errors == {}


async def test_a_town_level_case_is_handled_by_the_town_committee(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    await Case.update({Case.level: "town"}).where(Case.id == case_id)
    agreement_id = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    await agreements.issue_agreement(mediator1, agreement_id)
    row = await Agreement.select().where(Agreement.id == agreement_id).first()
    assert row["committee"] == "平湖市当湖街道人民调解委员会"
    assert re.fullmatch(rf"（{services.today().year}）当湖调字第\d+号", row["number"])
    text = await _pdf(agreement_id)
    assert "人民调解协议书" in text and "平湖市当湖街道人民调解委员会" in text
    context = await agreements.print_context(mediator1, agreement_id, "http://testserver")
    html = render_html("documents/agreement.html", context)
    # The seal circle holds the committee's full name.
    assert re.search(
        r'<div class="seal">\s*<p class="committee-name">平湖市当湖街道人民调解委员会</p>', html
    )


async def test_an_unassigned_mediator_may_not_draft_issue_or_sign(client, new_key):
    mediator1 = await user("mediator1")
    centre1 = await user("centre1")
    case_id = await _case_in_mediation(new_key)
    agreement_id = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    await CaseMediator.update({CaseMediator.active: False}).where(
        CaseMediator.case == case_id, CaseMediator.mediator.staff == mediator1.id
    )
    for attempt in (
        agreements.create_agreement(mediator1, case_id, "written"),
        agreements.issue_agreement(mediator1, agreement_id),
    ):
        # Off the case, the mediator may not act (and, under the access rule, not even see it).
        with pytest.raises(services.CaseError) as info:
            await attempt
        assert info.value.field in ("permission", "")
    await login(client, "mediator1")
    response = await post_form(client, f"/cases/{case_id}/agreements/new", {"kind": "written"})
    assert response.status_code in (403, 404)
    # Centre staff of the case's area may.
    await agreements.issue_agreement(centre1, agreement_id)
    await login(client, "mediator1")
    response = await post_form(
        client,
        f"/cases/{case_id}/agreements/{agreement_id}/signatures",
        {"role": "party", "signatory": "王堃", "signed_on": services.today().isoformat()},
    )
    # Refused: with the reason when the mediator may see the case, as not found when not.
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert "只有本案指派的调解员" in response.text
    signatures = await Signature.count().where(Signature.agreement == agreement_id)
    assert signatures == 0


async def test_the_last_signature_moves_the_case_to_performing(new_key):
    case_id = await _case_in_mediation(new_key)
    agreement_id = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    await agreements.issue_agreement(await user("mediator1"), agreement_id)
    await _sign_all(agreement_id)
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    assert case["status"] == "performing"


async def test_a_visit_finding_full_performance_marks_the_clauses_and_the_case(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    agreement_id = await _written(
        case_id, [_clause("李二房东", "退还押金", "1500"), _clause("王堃", "交还钥匙")]
    )
    await agreements.issue_agreement(mediator1, agreement_id)
    await _sign_all(agreement_id)
    today = services.today()
    await followups.record_follow_up(
        mediator1, case_id, today, "performed", "satisfied", "已履行", "phone"
    )
    clauses = await AgreementClause.select().where(AgreementClause.agreement == agreement_id)
    assert [c["done_on"] for c in clauses] == [today, today]
    case = await Case.select(Case.status).where(Case.id == case_id).first()
    assert case["status"] == "performed"
    await services.transition_case(mediator1, case_id, "close", {})


async def test_closing_is_refused_while_a_clause_is_open(new_key):
    mediator1 = await user("mediator1")
    case_id = await _case_in_mediation(new_key)
    agreement_id = await _written(case_id, [_clause("李二房东", "退还押金", "1500")])
    await agreements.issue_agreement(mediator1, agreement_id)
    await _sign_all(agreement_id)
    await services.transition_case(mediator1, case_id, "record_performed", {})
    await followups.record_follow_up(
        mediator1, case_id, services.today(), "partly", "basically", "只退了一部分"
    )
    with pytest.raises(services.CaseError) as info:
        await services.transition_case(mediator1, case_id, "close", {})
    assert "#1" in info.value.message and "不能结案" in info.value.message
    # Marked performed, but the last visit still says "partly": still refused.
    clause = await AgreementClause.select().where(AgreementClause.agreement == agreement_id).first()
    await agreements.mark_clause_done(mediator1, agreement_id, clause["id"], services.today())
    with pytest.raises(services.CaseError):
        await services.transition_case(mediator1, case_id, "close", {})
    assert (await Case.select(Case.status).where(Case.id == case_id).first())["status"] == (
        "performed"
    )


async def test_a_person_and_an_organisation_print_their_basic_information(new_key):
    case_id = await _case_in_mediation(new_key)
    await Party.update(
        {
            Party.gender: "male",
            Party.ethnicity: "汉族",
            Party.occupation: "嘉兴南湖学院学生",
            Party.address: "平湖市当湖街道东湖路88号",
            Party.agent_name: "王大明",
            Party.agent_relation: "申请人之父",
        }
    ).where(Party.case == case_id, Party.name == "王堃")
    await Party.update(
        {
            Party.kind: "organisation",
            Party.name: "平湖市梅园物业服务有限公司",
            Party.credit_code: "91330482MA2B3C4D5E",
            Party.legal_rep: "李建国",
            Party.legal_rep_title: "总经理",
            Party.address: "平湖市当湖街道梅园路1号",
        }
    ).where(Party.case == case_id, Party.name == "李二房东")
    agreement_id = await _written(
        case_id, [_clause("平湖市梅园物业服务有限公司", "退还押金", "1500")]
    )
    text = await _pdf(agreement_id)
    assert "申请人：王堃，男，汉族，2003年5月17日出生，公民身份号码330482200305170019" in text
    assert "330482200305170019，嘉兴南湖学院学生，住平湖市当湖街道东湖路88号" in text
    assert "住平湖市当湖街道东湖路88号" in text
    assert "委托代理人：王大明，申请人之父。" in text
    assert (
        "被申请人：平湖市梅园物业服务有限公司，统一社会信用代码91330482MA2B3C4D5E，"
        "住所地平湖市当湖街道梅园路1号" in text
    )
    assert "法定代表人（负责人）：李建国，职务：总经理。" in text
    assert "公民身份号码91330482MA2B3C4D5E" not in text
    assert "签名（盖章）" in text
