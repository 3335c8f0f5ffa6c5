"""The case state machine, and the rules catalog its messages come from."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from mediation import i18n
from mediation.cases.categories import STANDARD_CATEGORIES, category_label
from mediation.cases.workflow import (
    ACTION_LABELS,
    AGREEMENT_FORM_LABELS,
    DECLINE_REASON_LABELS,
    LEVEL_LABELS,
    REFERRAL_ADVICE_LABELS,
    STATUS_LABELS,
    TERMINATION_REASON_LABELS,
    CaseAction,
    CaseLevel,
    CaseStatus,
    IllegalTransition,
    Transition,
    WorkflowError,
    agreement_refused,
    allowed_actions,
    apply,
    is_open,
)

pytestmark = pytest.mark.pure

S = CaseStatus
A = CaseAction

# Every legal move as the design describes it, written out by hand on purpose.
LEGAL_MOVES = {
    (A.ACCEPT, S.REGISTERED): S.ACCEPTED,
    (A.DECLINE, S.REGISTERED): S.DECLINED,
    (A.START_MEDIATION, S.ACCEPTED): S.MEDIATING,
    (A.TERMINATE, S.ACCEPTED): S.TERMINATED,
    (A.SETTLE, S.MEDIATING): S.SETTLED,
    (A.TERMINATE, S.MEDIATING): S.TERMINATED,
    (A.START_PERFORMANCE, S.SETTLED): S.PERFORMING,
    (A.RECORD_PERFORMED, S.PERFORMING): S.PERFORMED,
    (A.RECORD_BREACH, S.PERFORMING): S.BREACHED,
    (A.REMEDIATE, S.BREACHED): S.MEDIATING,
    (A.TERMINATE, S.BREACHED): S.TERMINATED,
    (A.CLOSE, S.PERFORMED): S.CLOSED,
    (A.CLOSE, S.TERMINATED): S.CLOSED,
}
ESCALATABLE = {S.REGISTERED, S.ACCEPTED, S.MEDIATING, S.SETTLED, S.PERFORMING, S.BREACHED}

# Facts that satisfy every rule, so only the status decides.
GOOD_FACTS = {
    A.DECLINE: {"decline_reason": "before_court"},
    A.START_MEDIATION: {"mediator_count": 1, "any_party_refuses": False},
    A.REMEDIATE: {"mediator_count": 2},
    A.SETTLE: {"agreement_form": "written"},
    A.TERMINATE: {"termination_reason": "positions_too_far", "referral_advice": "litigation"},
    A.CLOSE: {"follow_up_recorded": True},
}

RULES_PO = Path(i18n.LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "rules.po"
RULES_MODULES = [
    "mediation/validators.py",
    "mediation/cases/workflow.py",
    "mediation/cases/deadlines.py",
    "mediation/cases/assignment.py",
    "mediation/cases/categories.py",
]


@pytest.fixture(autouse=True)
def chinese():
    i18n.set_locale("zh_CN")
    yield
    i18n.set_locale("zh_CN")


def refused(action, status, level=CaseLevel.GRID, **facts) -> IllegalTransition:
    with pytest.raises(IllegalTransition) as caught:
        apply(action, status, level, **facts)
    return caught.value


# --- the transition table -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status"), list(itertools.product(CaseAction, CaseStatus)), ids=str
)
def test_exactly_the_legal_moves_pass(action, status):
    legal = (action, status) in LEGAL_MOVES or (action is A.ESCALATE and status in ESCALATABLE)
    facts = GOOD_FACTS.get(action, {})
    if legal:
        move = apply(action, status, CaseLevel.GRID, **facts)
        expected = status if action is A.ESCALATE else LEGAL_MOVES[(action, status)]
        assert (move.from_status, move.to_status) == (status, expected)
        assert move.action is action
    else:
        error = refused(action, status, **facts)
        assert str(STATUS_LABELS[status]) in error.message


@pytest.mark.parametrize(("action", "status"), list(LEGAL_MOVES), ids=str)
def test_every_legal_move_keeps_the_level(action, status):
    move = apply(action, status, CaseLevel.TOWN, **GOOD_FACTS.get(action, {}))
    assert move.level_before is move.level_after is CaseLevel.TOWN


def test_an_illegal_move_names_the_status_and_the_action():
    error = refused(A.CLOSE, S.REGISTERED)
    assert error.message == "处于“登记”状态的案件不能执行“结案”。"
    assert isinstance(error, WorkflowError)


def test_an_illegal_move_reads_in_english_in_the_english_locale():
    i18n.set_locale("en")
    error = refused(A.SETTLE, S.ACCEPTED)
    assert error.message == "“Record an agreement” is not possible for a case that is “Accepted”."


def test_plain_strings_work_as_well_as_enums():
    move = apply("accept", "registered", "grid")
    assert move == Transition(A.ACCEPT, S.REGISTERED, S.ACCEPTED, CaseLevel.GRID, CaseLevel.GRID)


def test_an_unknown_action_is_refused():
    assert "fly" in refused("fly", S.REGISTERED).message


def test_a_misspelt_fact_is_a_programming_error():
    with pytest.raises(TypeError, match="folow_up"):
        apply(A.CLOSE, S.PERFORMED, CaseLevel.GRID, folow_up=True)


def test_a_transition_cannot_be_changed_afterwards():
    move = apply(A.ACCEPT, S.REGISTERED, CaseLevel.GRID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        move.to_status = S.CLOSED


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("level", list(CaseLevel))
def test_allowed_actions_are_exactly_the_moves_apply_accepts(status, level):
    expected = [
        action
        for action in CaseAction
        if (action, status) in LEGAL_MOVES
        or (action is A.ESCALATE and status in ESCALATABLE and level is not CaseLevel.COUNTY)
    ]
    assert allowed_actions(status, level) == expected
    for action in expected:
        apply(action, status, level, **GOOD_FACTS.get(action, {}))


def test_a_new_case_offers_accept_decline_and_escalate():
    assert allowed_actions("registered", "grid") == ["accept", "decline", "escalate"]


def test_finished_cases_offer_nothing():
    assert allowed_actions(S.CLOSED, CaseLevel.GRID) == []
    assert allowed_actions(S.DECLINED, CaseLevel.GRID) == []


def test_only_declined_and_closed_cases_are_not_open():
    assert {status for status in CaseStatus if not is_open(status)} == {S.DECLINED, S.CLOSED}
    assert is_open("performed")


# --- declining ----------------------------------------------------------------------------


def test_declining_records_the_reason():
    move = apply(A.DECLINE, S.REGISTERED, CaseLevel.GRID, decline_reason="before_police")
    assert move.details == {"decline_reason": "before_police"}


def test_declining_needs_a_reason():
    error = refused(A.DECLINE, S.REGISTERED)
    assert error.field == "decline_reason"
    assert error.message == "请选择不予受理的原因。"


def test_declining_refuses_an_unknown_reason():
    assert refused(A.DECLINE, S.REGISTERED, decline_reason="bored").field == "decline_reason"


def test_declining_for_another_reason_needs_the_reason_written_down():
    error = refused(A.DECLINE, S.REGISTERED, decline_reason="other", decline_text="   ")
    assert error.field == "decline_text"
    move = apply(
        A.DECLINE,
        S.REGISTERED,
        CaseLevel.GRID,
        decline_reason="other",
        decline_text=" 系刑事案件 ",
    )
    assert move.details == {"decline_reason": "other", "decline_text": "系刑事案件"}


# --- starting mediation: consent and mediators ----------------------------------------------


def test_mediation_cannot_start_when_a_party_expressly_refuses():
    error = refused(A.START_MEDIATION, S.ACCEPTED, mediator_count=2, any_party_refuses=True)
    assert error.field == "any_party_refuses"
    assert "第十七条" in error.message


def test_the_consent_message_cites_article_17_in_english_too():
    i18n.set_locale("en")
    error = refused(A.START_MEDIATION, S.ACCEPTED, mediator_count=1, any_party_refuses=True)
    assert "Art. 17" in error.message


def test_mediation_cannot_start_without_a_mediator():
    error = refused(A.START_MEDIATION, S.ACCEPTED, mediator_count=0)
    assert error.field == "mediator_count"
    assert refused(A.START_MEDIATION, S.ACCEPTED).field == "mediator_count"


def test_mediation_starts_with_a_mediator_and_no_refusal():
    move = apply(A.START_MEDIATION, S.ACCEPTED, CaseLevel.COMMUNITY, mediator_count=1)
    assert move.to_status is S.MEDIATING


def test_mediating_again_after_a_breach_needs_consent_too():
    error = refused(A.REMEDIATE, S.BREACHED, mediator_count=1, any_party_refuses=True)
    assert error.field == "any_party_refuses"


# --- settling and terminating -------------------------------------------------------------


@pytest.mark.parametrize("form", ["written", "oral"])
def test_settling_records_whether_the_agreement_is_written_or_oral(form):
    move = apply(A.SETTLE, S.MEDIATING, CaseLevel.GRID, agreement_form=form)
    assert move.details == {"agreement_form": form}


def test_settling_needs_the_agreement_form():
    assert refused(A.SETTLE, S.MEDIATING).field == "agreement_form"


def test_terminating_records_the_reason_and_the_advice():
    move = apply(
        A.TERMINATE,
        S.MEDIATING,
        CaseLevel.GRID,
        termination_reason="refuses_to_sign",
        referral_advice="arbitration",
    )
    assert move.details == {
        "termination_reason": "refuses_to_sign",
        "referral_advice": "arbitration",
    }


def test_terminating_needs_a_reason():
    error = refused(A.TERMINATE, S.MEDIATING, referral_advice="litigation")
    assert error.field == "termination_reason"


@pytest.mark.parametrize("advice", [None, "", "none", "petition"])
def test_terminating_needs_advice_on_another_channel(advice):
    error = refused(
        A.TERMINATE, S.MEDIATING, termination_reason="party_unreachable", referral_advice=advice
    )
    assert error.field == "referral_advice"
    assert "第二十六条" in error.message


def test_terminating_for_another_reason_needs_it_written_down():
    error = refused(
        A.TERMINATE, S.MEDIATING, termination_reason="other", referral_advice="administrative"
    )
    assert error.field == "termination_text"
    move = apply(
        A.TERMINATE,
        S.MEDIATING,
        CaseLevel.GRID,
        termination_reason="other",
        termination_text="当事人死亡",
        referral_advice="administrative",
    )
    assert move.details["termination_text"] == "当事人死亡"


def test_an_accepted_case_whose_party_refuses_can_be_terminated():
    move = apply(
        A.TERMINATE,
        S.ACCEPTED,
        CaseLevel.GRID,
        termination_reason="party_refuses",
        referral_advice="litigation",
    )
    assert move.to_status is S.TERMINATED


def test_a_breached_agreement_ends_in_advice_to_sue():
    move = apply(
        A.TERMINATE,
        S.BREACHED,
        CaseLevel.GRID,
        termination_reason="party_refuses",
        referral_advice="litigation",
    )
    assert move.to_status is S.TERMINATED


# --- closing ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.PERFORMED, S.TERMINATED])
def test_closing_needs_a_recorded_follow_up_visit(status):
    for facts in ({}, {"follow_up_recorded": False}, {"follow_up_recorded": "yes"}):
        error = refused(A.CLOSE, status, **facts)
        assert error.field == "follow_up_recorded"
        assert error.message == "结案前请先记录回访。"
    assert apply(A.CLOSE, status, CaseLevel.GRID, follow_up_recorded=True).to_status is S.CLOSED


# --- escalation ---------------------------------------------------------------------------


def test_escalation_climbs_the_ladder_one_rung_at_a_time():
    level = CaseLevel.GRID
    climbed = [level]
    while level is not CaseLevel.COUNTY:
        move = apply(A.ESCALATE, S.MEDIATING, level)
        assert move.level_before is level
        assert move.from_status is move.to_status is S.MEDIATING
        level = move.level_after
        climbed.append(level)
    assert climbed == [CaseLevel.GRID, CaseLevel.COMMUNITY, CaseLevel.TOWN, CaseLevel.COUNTY]


def test_a_county_case_cannot_be_escalated():
    error = refused(A.ESCALATE, S.MEDIATING, CaseLevel.COUNTY)
    assert error.message == "案件已在最高层级（县级），不能再上报。"


@pytest.mark.parametrize("status", [S.DECLINED, S.CLOSED, S.TERMINATED, S.PERFORMED])
def test_finished_or_closing_cases_cannot_be_escalated(status):
    error = refused(A.ESCALATE, status, CaseLevel.GRID)
    assert str(STATUS_LABELS[status]) in error.message


@pytest.mark.parametrize("status", sorted(ESCALATABLE))
def test_work_in_progress_can_be_escalated(status):
    move = apply(A.ESCALATE, status, CaseLevel.TOWN)
    assert move.level_after is CaseLevel.COUNTY


def test_levels_know_their_order():
    assert [level.rank for level in CaseLevel] == [0, 1, 2, 3]
    assert CaseLevel.GRID.next_level() is CaseLevel.COMMUNITY
    assert CaseLevel.COUNTY.next_level() is None


# --- labels and the rules catalog ---------------------------------------------------------


def test_status_and_level_labels_use_the_words_of_practice():
    assert {status.value: str(label) for status, label in STATUS_LABELS.items()} == {
        "registered": "登记",
        "accepted": "受理",
        "declined": "不予受理",
        "mediating": "调解中",
        "settled": "达成协议",
        "terminated": "终止调解",
        "performing": "履行中",
        "performed": "已履行",
        "breached": "未履行",
        "closed": "结案",
    }
    assert [str(LEVEL_LABELS[level]) for level in CaseLevel] == [
        "网格",
        "村（社区）",
        "镇（街道）",
        "县级",
    ]


def test_labels_follow_the_locale():
    i18n.set_locale("en")
    assert str(STATUS_LABELS[S.BREACHED]) == "Not performed"
    assert str(LEVEL_LABELS[CaseLevel.TOWN]) == "Town/subdistrict level"
    i18n.set_locale("zh_CN")
    assert str(STATUS_LABELS[S.BREACHED]) == "未履行"


@pytest.mark.parametrize(
    "labels",
    [
        STATUS_LABELS,
        LEVEL_LABELS,
        ACTION_LABELS,
        DECLINE_REASON_LABELS,
        TERMINATION_REASON_LABELS,
        REFERRAL_ADVICE_LABELS,
        AGREEMENT_FORM_LABELS,
    ],
)
def test_every_choice_has_a_chinese_label(labels):
    enum = type(next(iter(labels)))
    assert set(labels) == set(enum)
    for label in labels.values():
        assert str(label) and not str(label).isascii()


def test_every_message_in_the_rules_catalog_is_translated():
    header = RULES_PO.read_text(encoding="utf-8")
    assert '"Language: zh_CN\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header
    with RULES_PO.open("rb") as fh:
        catalog = read_po(fh)
    messages = [message for message in catalog if message.id]
    assert messages
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in messages:
        assert message.string.strip(), message.id
        assert not message.fuzzy, message.id
        assert sorted(placeholder.findall(message.string)) == sorted(
            placeholder.findall(message.id)
        ), message.id


def test_every_message_the_rules_use_is_in_the_rules_catalog():
    """In the zh_CN catalogs (all ``*.po`` of the folder are merged, rules.po first of all)."""
    root = Path(__file__).resolve().parents[2]
    known: set[str] = set()
    for po_path in sorted(RULES_PO.parent.glob("*.po")):
        with po_path.open("rb") as fh:
            known |= {message.id for message in read_po(fh) if message.id}
    keywords = {"_": None, "gettext": None, "lazy_gettext": None}
    used = {
        message
        for module in RULES_MODULES
        for _line, message, _comments, _context in extract_from_file(
            "python", root / module, keywords=keywords
        )
    }
    assert used
    assert used <= known


def test_standard_categories_are_translated_both_ways():
    for code, zh_name, _en_name in STANDARD_CATEGORIES:
        assert category_label(code) == zh_name
    i18n.set_locale("en")
    for code, _zh_name, en_name in STANDARD_CATEGORIES:
        assert category_label(code) == en_name
    assert category_label("no_such_category") == "no_such_category"


def test_switching_to_english_shows_the_message_ids():
    i18n.set_locale("en")
    assert i18n.gettext("Record the follow-up visit before closing the case.") == (
        "Record the follow-up visit before closing the case."
    )
    i18n.set_locale("zh_CN")
    assert i18n.gettext("Record the follow-up visit before closing the case.") == (
        "结案前请先记录回访。"
    )


@pytest.mark.pure
@pytest.mark.parametrize(
    ("status", "outcome", "zh"),
    [
        ("breached", "settled", "达成协议（未履行）"),
        ("performed", "settled", "达成协议（已履行）"),
        ("performing", "settled", "达成协议（履行中）"),
        ("settled", "settled", "达成协议"),
        ("closed", "settled", "达成协议"),
        ("closed", "terminated", "终止调解"),
        ("terminated", "terminated", "终止调解"),
        ("registered", "", "尚未办结"),
        ("accepted", "", "尚未办结"),
        ("mediating", "", "尚未办结"),
        ("declined", "", "不予受理"),
    ],
)
def test_a_case_files_result_follows_the_outcome_not_the_status(status, outcome, zh):
    """The cover's 调解结果: a breached agreement reads as an agreement not performed, a
    closed case keeps its outcome, and a case still open has no result yet (its status is
    not one)."""
    from mediation.cases.workflow import mediation_result

    token = i18n.set_locale("zh_CN")
    try:
        assert mediation_result(status, outcome) == zh
    finally:
        i18n.reset_locale(token)


def test_an_agreement_comes_only_from_a_mediation_that_has_not_failed_or_ended():
    possible = {status for status in S if agreement_refused(status) is None}
    assert possible == {S.MEDIATING, S.SETTLED, S.PERFORMING, S.PERFORMED, S.BREACHED}
    assert agreement_refused(S.MEDIATING, mediation_started=False) == (
        "调解开始后方可起草调解协议。"
    )
    assert agreement_refused(S.ACCEPTED) == "调解开始后方可起草调解协议。"
    assert agreement_refused(S.TERMINATED) == "案件状态为“终止调解”，不能起草或出具调解协议。"
    assert agreement_refused(S.DECLINED) == "案件状态为“不予受理”，不能起草或出具调解协议。"
    assert agreement_refused(S.CLOSED) == "案件状态为“结案”，不能起草或出具调解协议。"
