"""Signature areas of the printed documents never overprint: each signatory's name wraps in its
own row, whatever its length, and pushes the following rows down.

Positions are read back with ``pdftotext -bbox`` (poppler-utils): every word's box on every page.
Two words whose middle bands intersect are printed over each other; a word past the right edge
of the text area runs off the page or into the seal or the verification block.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from types import SimpleNamespace

import pytest

from mediation.cases.followups import METHODS, PERFORMANCE, SATISFACTION
from mediation.documents import pdf
from mediation.documents.samples import sample_agreement_context

# The longest name a party may have (100 characters), a real company name from the demo data,
# and rare characters (𪚥 U+2A6A5 comes from the HanaMin fallback) with a run of Latin letters
# that has no break opportunity of its own.
LONG_NAME = ("二房东王某" + "很长的名字" * 20)[:100]
COMPANY = "中国人民财产保险股份有限公司平湖支公司"
RARE = "堃𪚥玥昇𠮷<script>alert(1)</script>"
NAMES = (RARE, LONG_NAME, COMPANY)
SESSION_ROLES = ("申请人", "被申请人", "第三人")

A4_WIDTH_PT = 595.28
RIGHT_MARGIN_PT = 18 / 25.4 * 72  # print.css: @page margin-right 18mm


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def band(self) -> tuple[float, float]:
        """The middle half of the glyph box: adjacent lines' boxes touch, their bands never."""
        quarter = (self.y1 - self.y0) / 4
        return self.y0 + quarter, self.y1 - quarter


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def words(document: bytes) -> list[Word]:
    out = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    found = []
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        for m in _WORD.finditer(page):
            x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
            found.append(Word(number, unescape(m.group(5)), x0, y0, x1, y1))
    return found


def overprinted(found: list[Word]) -> list[tuple[str, str]]:
    clashes = []
    for i, a in enumerate(found):
        a_top, a_bottom = a.band()
        for b in found[i + 1 :]:
            if a.page != b.page:
                continue
            b_top, b_bottom = b.band()
            if a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a_top < b_bottom and b_top < a_bottom:
                clashes.append((a.text, b.text))
    return clashes


def assert_laid_out_cleanly(document: bytes) -> list[Word]:
    found = words(document)
    assert found, "no text in the PDF"
    assert overprinted(found) == []
    right_edge = A4_WIDTH_PT - RIGHT_MARGIN_PT + 1
    assert [w.text for w in found if w.x1 > right_edge] == []
    return found


def text_of(found: list[Word]) -> str:
    return "".join(w.text for w in found)


def rows_labelled(found: list[Word], label: str) -> list[Word]:
    return [w for w in found if w.text.startswith(label)]


def assert_rows_in_order(found: list[Word], label: str, count: int) -> None:
    """``count`` rows carry ``label``, each below the one before, all in one column."""
    rows = rows_labelled(found, label)
    assert len(rows) == count, [w.text for w in rows]
    for above, below in zip(rows, rows[1:], strict=False):
        assert (below.page, below.y0) > (above.page, above.y1 - 0.5)
    assert len({round(w.x0) for w in rows}) == 1


def signature_names_in_order(found: list[Word], names: tuple[str, ...], after: str) -> None:
    """After ``after``, each signatory's name is printed whole, in order: its lines are not
    interleaved with another row's."""
    flat = text_of(found)
    position = flat.index(after)
    for name in names:
        position = flat.index(name, position) + len(name)


def agreement_context(names: tuple[str, ...] = NAMES, **changes) -> dict:
    context = sample_agreement_context()
    agreement = context["agreement"]
    for party, name in zip(agreement["parties"], names, strict=True):
        party["name"] = name
    company = agreement["parties"][2]
    company.update(kind="organisation", credit_code="91330482MA2B3C4D5Y", legal_rep="赵经理")
    agreement.update(changes)
    return context


@pytest.mark.parametrize(
    "changes",
    [
        {},  # issued: QR code and 核验码 under the signatures
        {"signed_on": None, "verification": None},  # the draft preview
        {"mediators": ["陈𡈽", "沈秀英", "陆美芳", "沈建华"]},
    ],
    ids=["issued", "draft", "four-mediators"],
)
def test_agreement_signatures_never_overprint(changes):
    found = assert_laid_out_cleanly(
        pdf.render_pdf("documents/agreement.html", agreement_context(**changes))
    )
    # Two persons sign "签名：", the company "签名（盖章）：", each on a row of their own.
    assert len(rows_labelled(found, "签名：")) == 2
    assert len(rows_labelled(found, "签名（盖章）：")) == 1
    assert_rows_in_order(found, "指印", 3)
    signature_names_in_order(
        found,
        tuple(
            f"{role}：{name}"
            for role, name in zip(("申请人", "申请人", "被申请人"), NAMES, strict=True)
        ),
        after="当事人各执一份",
    )


def test_an_oral_agreement_record_lays_out_cleanly():
    context = agreement_context(kind="oral", recorder=LONG_NAME[:20], reached_on=date(2026, 3, 12))
    found = assert_laid_out_cleanly(pdf.render_pdf("documents/agreement.html", context))
    assert "记录人（签名）" in text_of(found)


def session_context(names: tuple[str, ...] = NAMES) -> dict:
    present = [SimpleNamespace(name="沈建华", role_label="调解员", role="mediator")]
    present += [
        SimpleNamespace(name=name, role_label=role, role="party")
        for name, role in zip(names, SESSION_ROLES, strict=True)
    ]
    present.append(SimpleNamespace(name="赵经理", role_label="委托代理人", role="agent"))
    session = SimpleNamespace(
        case_number="平湖-2026-000308",
        room="东湖社区调解室",
        mediator_name="沈建华",
        minutes=[SimpleNamespace(speaker="沈建华", statement="请各方陈述。")],
    )
    return {
        "session": session,
        "committee": "平湖市当湖街道东湖社区人民调解委员会",
        "cause": "房屋宅基地：学生提前退租，二房东拒退押金3000元",
        "starts": datetime(2026, 12, 1, 9, 30),
        "ends": datetime(2026, 12, 1, 10, 31),
        "present": tuple(present),
        "recorder": "沈建华",
    }


def test_session_record_signatures_never_overprint():
    found = assert_laid_out_cleanly(
        pdf.render_pdf("documents/session_record.html", session_context())
    )
    # Three parties and the agent sign with a fingerprint; the mediator does not.
    assert_rows_in_order(found, "签名：", 4)
    assert_rows_in_order(found, "指印", 4)
    signature_names_in_order(
        found,
        tuple(f"{role}：{name}" for role, name in zip(SESSION_ROLES, NAMES, strict=True)),
        after="以上笔录经本人核对无误",
    )


def test_the_mediator_signs_a_session_record_once_without_a_fingerprint():
    found = words(pdf.render_pdf("documents/session_record.html", session_context()))
    flat = text_of(found)
    assert flat.count("人民调解员（签名）") == 1
    assert "调解员：沈建华签名：" not in flat
    # Two mediators present: a line each, still one row and no fingerprint box.
    context = session_context()
    context["present"] = (
        SimpleNamespace(name="陆美芳", role_label="调解员", role="mediator"),
        *context["present"],
    )
    found = assert_laid_out_cleanly(pdf.render_pdf("documents/session_record.html", context))
    assert text_of(found).count("人民调解员（签名）") == 1
    assert len(rows_labelled(found, "指印")) == 4


def case_parties(names: tuple[str, ...] = NAMES) -> list[SimpleNamespace]:
    roles = ("applicant", "respondent", "third_party")
    return [SimpleNamespace(name=n, role=r) for n, r in zip(names, roles, strict=True)]


def test_follow_up_record_signatures_never_overprint():
    context = {
        "case": SimpleNamespace(
            number="平湖-2026-000305", summary="楼上漏水纠纷", parties=case_parties()
        ),
        "committee": "平湖市当湖街道东湖社区人民调解委员会",
        "follow_up": SimpleNamespace(
            visited_on=date(2026, 12, 1),
            method="visit",
            place="申请人家中",
            visited_by_name="沈建华",
            performance="performed",
            satisfaction="satisfied",
            note="双方均表示已履行。",
        ),
        "agreements": ("（2026）当湖东湖调字第8号",),
        "clauses": (
            SimpleNamespace(
                obligor=LONG_NAME,
                obligee=RARE,
                obligation="退还押金",
                amount=Decimal("2000"),
                deadline=date(2026, 12, 15),
                done_on=None,
            ),
        ),
        "method_labels": METHODS,
        "performance_labels": PERFORMANCE,
        "satisfaction_labels": SATISFACTION,
    }
    found = assert_laid_out_cleanly(pdf.render_pdf("documents/follow_up_record.html", context))
    assert_rows_in_order(found, "签名：", 3)
    assert_rows_in_order(found, "指印", 3)
    signature_names_in_order(found, tuple(f"被回访人：{name}" for name in NAMES), after="记录")


def test_termination_notice_service_rows_never_overprint():
    context = {
        "number": "（2026）当湖东湖调终字第9号",
        "committee": "平湖市当湖街道东湖社区人民调解委员会",
        "case": SimpleNamespace(
            number="平湖-2026-000305", summary="楼上漏水纠纷", parties=case_parties()
        ),
        "reason": "双方分歧过大",
        "reason_text": "",
        "channels": ("litigation", "administrative"),
        "terminated_on": date(2026, 12, 1),
    }
    found = assert_laid_out_cleanly(pdf.render_pdf("documents/termination_notice.html", context))
    assert_rows_in_order(found, "签收日期：", 3)
    signature_names_in_order(
        found, tuple(f"受送达人（签收）：{name}" for name in NAMES), after="送达回证"
    )


def test_the_overprint_check_sees_overprinted_text():
    """The check itself: two rows forced onto one another are reported."""
    html = pdf.render_html("documents/agreement.html", agreement_context())
    squeezed = html.replace(
        "<head>", "<head><style>.sign-row { height: 11mm !important; }</style>", 1
    )
    assert overprinted(words(pdf.html_to_pdf(squeezed)))
