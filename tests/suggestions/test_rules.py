"""Suggestion rules: the workflow, ratings and reopening, the submission, receipts, clocks."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mediation import i18n, public_codes
from mediation.suggestions import rules
from mediation.suggestions.rules import (
    REWARD_TIERS,
    IllegalMove,
    Outcome,
    Rating,
    SuggestionAction,
    SuggestionPolicy,
    SuggestionRuleError,
    SuggestionStatus,
    allowed_actions,
    apply,
    check_rating,
    clean_submission,
    extend,
    hash_secret,
    is_finished,
    may_reopen,
    new_secret,
    new_tracking_code,
    parse_tracking_code,
    reward_allowed,
    suggestion_clocks,
    validate_submission,
    verify_secret,
)

pytestmark = pytest.mark.pure

S = SuggestionStatus
A = SuggestionAction
KEY = "test-key-for-receipt-secrets"

# Spring Festival 2026: Feb 15-23 off; Saturdays Feb 14 and Feb 28 are make-up working days.
FRI_BEFORE_FESTIVAL = date(2026, 2, 13)


@pytest.fixture(autouse=True)
def chinese():
    token = i18n.set_locale("zh_CN")
    yield
    i18n.reset_locale(token)


def valid_submission(**changes):
    values = {
        "topic": "老旧小区加装电梯",
        "reason": "六层楼没有电梯，老人上下楼困难。",
        "measures": "出台加装电梯补贴政策。",
        "name": "张三",
        "phone": "",
        "website": "",
    }
    values.update(changes)
    return values


# --- the workflow -----------------------------------------------------------------------------


def test_a_suggestion_goes_from_receipt_to_conclusion():
    steps = [
        (A.REGISTER, S.RECEIVED, {}),
        (A.TRANSFER, S.REGISTERED, {"department": "县住建局"}),
        (A.START_HANDLING, S.TRANSFERRED, {}),
        (A.REPLY, S.HANDLING, {"outcome": "adopted", "reply_text": "已纳入今年计划。"}),
        (A.CONCLUDE, S.REPLIED, {}),
    ]
    status = S.RECEIVED
    for action, expected_from, facts in steps:
        move = apply(action, status, **facts)
        assert move.from_status is expected_from
        status = move.to_status
    assert status is S.CONCLUDED
    assert is_finished(status)


def test_a_reply_records_the_outcome_and_the_text():
    move = apply("reply", "handling", outcome="partly_adopted", reply_text="  部分采纳。 ")
    assert move.to_status is S.REPLIED
    assert move.details == {"outcome": "partly_adopted", "reply_text": "部分采纳。"}


def test_a_reply_needs_an_outcome_and_a_text():
    with pytest.raises(IllegalMove) as no_outcome:
        apply("reply", "handling", reply_text="好的")
    assert no_outcome.value.field == "outcome"
    assert "采纳" in no_outcome.value.message
    with pytest.raises(IllegalMove) as no_text:
        apply("reply", "handling", outcome="adopted", reply_text="  ")
    assert no_text.value.field == "reply_text"


def test_a_grievance_is_rerouted_into_a_dispute_case():
    move = apply("reroute", "registered", reroute_to="dispute_case")
    assert move.to_status is S.REROUTED
    assert move.details == {"reroute_to": "dispute_case"}
    assert is_finished(S.REROUTED)


def test_rerouting_with_advice_records_the_advice():
    with pytest.raises(IllegalMove) as error:
        apply("reroute", "registered", reroute_to="advice")
    assert error.value.field == "advice_text"
    move = apply("reroute", "registered", reroute_to="advice", advice_text="请向法院起诉。")
    assert move.details["advice_text"] == "请向法院起诉。"


def test_rerouting_needs_a_target():
    with pytest.raises(IllegalMove) as error:
        apply("reroute", "registered", reroute_to="elsewhere")
    assert error.value.field == "reroute_to"


def test_a_transfer_needs_a_department_and_may_be_redone():
    with pytest.raises(IllegalMove) as error:
        apply("transfer", "registered", department="")
    assert error.value.field == "department"
    again = apply("transfer", "transferred", department="县交通运输局")
    assert again.to_status is S.TRANSFERRED


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("transfer", "received"),  # register first
        ("reply", "transferred"),  # start handling first
        ("conclude", "handling"),  # reply first
        ("reroute", "transferred"),  # re-routing is decided at registration
        ("close", "replied"),  # a replied suggestion is concluded, not closed
        ("register", "concluded"),
        ("start_handling", "closed"),
    ],
)
def test_illegal_moves_are_refused_with_a_chinese_message(action, status):
    with pytest.raises(IllegalMove) as error:
        apply(action, status)
    assert "不能执行" in error.value.message
    assert str(rules.STATUS_LABELS[S(status)]) in error.value.message


def test_an_unknown_action_is_refused_and_an_unknown_fact_is_a_bug():
    with pytest.raises(IllegalMove):
        apply("archive", "received")
    with pytest.raises(TypeError):
        apply("register", "received", colour="red")


def test_the_ui_is_offered_only_the_moves_the_status_allows():
    assert allowed_actions("received") == [A.REGISTER, A.CLOSE]
    assert allowed_actions("registered") == [A.REROUTE, A.TRANSFER, A.CLOSE]
    assert allowed_actions("replied") == [A.CONCLUDE, A.REOPEN]
    assert allowed_actions("concluded") == [A.REOPEN]
    assert allowed_actions("rerouted") == []
    assert allowed_actions("closed") == []


def test_closing_without_a_reply_needs_a_reason():
    move = apply("close", "received", close_reason="withdrawn")
    assert move.to_status is S.CLOSED
    with pytest.raises(IllegalMove) as no_reason:
        apply("close", "handling")
    assert no_reason.value.field == "close_reason"
    with pytest.raises(IllegalMove) as no_text:
        apply("close", "handling", close_reason="other")
    assert no_text.value.field == "close_text"


# --- rating and reopening ---------------------------------------------------------------------


def test_a_dissatisfied_proposer_can_have_the_suggestion_reopened_once():
    for status in ("replied", "concluded"):
        move = apply("reopen", status, rating="not_satisfied", times_reopened=0)
        assert move.to_status is S.HANDLING


def test_a_suggestion_is_never_reopened_twice():
    with pytest.raises(IllegalMove) as error:
        apply("reopen", "replied", rating="not_satisfied", times_reopened=1)
    assert error.value.field == "times_reopened"
    assert "一次" in error.value.message
    assert not may_reopen(Rating.NOT_SATISFIED, 1)
    assert may_reopen(Rating.NOT_SATISFIED, 0)


def test_a_satisfied_rating_does_not_reopen():
    for rating in ("satisfied", "basically_satisfied", None):
        with pytest.raises(IllegalMove):
            apply("reopen", "concluded", rating=rating, times_reopened=0)
        assert not may_reopen(rating, 0)


def test_a_reply_can_be_rated_only_after_it_exists_and_only_once():
    assert check_rating("replied", "basically_satisfied") is Rating.BASICALLY_SATISFIED
    assert check_rating("concluded", "not_satisfied") is Rating.NOT_SATISFIED
    with pytest.raises(SuggestionRuleError) as too_early:
        check_rating("handling", "satisfied")
    assert "答复后" in too_early.value.message
    with pytest.raises(SuggestionRuleError):
        check_rating("replied", "satisfied", already_rated=True)
    with pytest.raises(SuggestionRuleError):
        check_rating("replied", "delighted")


def test_only_adopted_suggestions_can_be_rewarded():
    assert reward_allowed(Outcome.ADOPTED) and reward_allowed("partly_adopted")
    assert not reward_allowed("for_reference") and not reward_allowed(None)


def test_reward_tiers_run_from_the_special_award_down():
    amounts = [tier.amount_yuan for tier in REWARD_TIERS]
    assert amounts == sorted(amounts, reverse=True) == [10_000, 3_000, 1_000, 500, 100]
    assert len({tier.code for tier in REWARD_TIERS}) == len(REWARD_TIERS)
    assert str(REWARD_TIERS[0].label) == "特等奖"


def test_every_status_and_choice_has_a_chinese_label():
    for labels in (
        rules.STATUS_LABELS,
        rules.ACTION_LABELS,
        rules.OUTCOME_LABELS,
        rules.RATING_LABELS,
        rules.REROUTE_LABELS,
        rules.CLOSE_REASON_LABELS,
        rules.CHANNEL_LABELS,
    ):
        for label in labels.values():
            assert re.search(r"[\u4e00-\u9fff]", str(label)), label
    assert set(rules.STATUS_LABELS) == set(SuggestionStatus)
    assert set(rules.ACTION_LABELS) == set(SuggestionAction)


# --- the submission ---------------------------------------------------------------------------


def test_a_complete_submission_has_no_errors():
    assert validate_submission(valid_submission()) == {}


def test_topic_reason_and_measures_are_required():
    errors = validate_submission(valid_submission(topic=" ", reason="", measures=None))
    assert set(errors) == {"topic", "reason", "measures"}
    assert errors["topic"] == "此项为必填项。"


def test_the_lengths_of_the_parts_are_limited():
    assert validate_submission(valid_submission(topic="议" * 100)) == {}
    errors = validate_submission(
        valid_submission(topic="议" * 101, reason="由" * 2001, measures="策" * 2001)
    )
    assert set(errors) == {"topic", "reason", "measures"}
    assert "100" in errors["topic"] and "101" in errors["topic"]


def test_name_and_phone_are_optional_unless_a_reply_by_phone_is_wanted():
    assert validate_submission(valid_submission(name="", phone="")) == {}
    errors = validate_submission(valid_submission(phone="", reply_by_phone="on"))
    assert errors == {"phone": "需要电话答复的，请填写联系电话。"}
    assert validate_submission(valid_submission(phone="138 0013 8000", reply_by_phone="1")) == {}


def test_a_phone_is_checked_loosely_and_normalised():
    for phone in ("13800138000", "0573-85012345", "+86 138-0013-8000", "１３８００１３８０００"):
        cleaned, errors = clean_submission(valid_submission(phone=phone))
        assert errors == {}, phone
        assert re.fullmatch(r"\+?\d{7,15}", cleaned["phone"])
    assert "phone" in validate_submission(valid_submission(phone="call me"))
    assert "phone" in validate_submission(valid_submission(phone="12345"))


def test_flags_are_read_from_form_values():
    cleaned, errors = clean_submission(
        valid_submission(confidential="on", consent_to_publish="false", reply_by_phone=None)
    )
    assert errors == {}
    assert cleaned["confidential"] is True
    assert cleaned["consent_to_publish"] is False
    assert cleaned["reply_by_phone"] is False
    assert validate_submission(valid_submission(confidential="maybe")) == {
        "confidential": "请选择是或否。"
    }


def test_the_submission_is_cleaned_of_surrounding_spaces():
    cleaned, _ = clean_submission(valid_submission(topic="  加装电梯  ", name=" 张三 "))
    assert cleaned["topic"] == "加装电梯"
    assert cleaned["name"] == "张三"


def test_a_filled_honeypot_is_spam_and_nothing_else_is_said():
    errors = validate_submission(valid_submission(topic="", website="http://spam.example"))
    assert list(errors) == ["spam"]


# --- receipt code and secret ------------------------------------------------------------------


def test_a_tracking_code_reads_like_jy_year_and_six_unambiguous_characters():
    code = new_tracking_code(2026)
    assert re.fullmatch(r"JY-2026-[2-9A-HJ-NP-Z]{6}", code)
    assert not set("0O1I") & set(public_codes.CODE_ALPHABET)
    assert len(public_codes.CODE_ALPHABET) == 32


def test_tracking_codes_do_not_repeat():
    codes = {new_tracking_code(2026) for _ in range(2000)}
    assert len(codes) == 2000


def test_a_tracking_code_defaults_to_this_year_in_china():
    assert re.fullmatch(r"JY-20\d\d-[2-9A-HJ-NP-Z]{6}", new_tracking_code())


def test_a_typed_tracking_code_is_understood_in_any_case_width_and_spacing():
    for typed in (
        "JY-2026-7K3Q9M",
        "jy-2026-7k3q9m",
        " JY 2026 7K3Q9M ",
        "ＪＹ２０２６７Ｋ３Ｑ９Ｍ",
    ):
        assert parse_tracking_code(typed) == "JY-2026-7K3Q9M", typed
    for wrong in ("JY-2026-7K3Q9", "JY-2026-OK3Q9M", "XX-2026-7K3Q9M", "", None):
        assert parse_tracking_code(wrong) is None, wrong


def test_a_secret_is_six_digits_with_leading_zeros_kept(monkeypatch):
    assert re.fullmatch(r"\d{6}", new_secret())
    monkeypatch.setattr(public_codes.secrets, "randbelow", lambda n: 42)
    assert new_secret() == "000042"


def test_the_secret_is_stored_as_a_keyed_hash_and_verified():
    hashed = hash_secret("042917", KEY, code="JY-2026-7K3Q9M")
    assert re.fullmatch(r"[0-9a-f]{64}", hashed)
    assert "042917" not in hashed
    assert verify_secret("042917", hashed, KEY, code="JY-2026-7K3Q9M")
    assert verify_secret(" ０４２９１７ ", hashed, KEY, code="jy 2026 7k3q9m")
    assert not verify_secret("042918", hashed, KEY, code="JY-2026-7K3Q9M")
    assert not verify_secret("042917", hashed, "another-key", code="JY-2026-7K3Q9M")
    assert not verify_secret("042917", hashed, KEY, code="JY-2026-22222Z")
    assert not verify_secret("", hashed, KEY) and not verify_secret("042917", None, KEY)


def test_secrets_are_compared_in_constant_time(monkeypatch):
    calls = []

    def spy(a, b):
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(rules.hmac, "compare_digest", spy)
    verify_secret("123456", hash_secret("123456", KEY), KEY)
    assert len(calls) == 1


def test_hashing_a_secret_needs_a_key():
    with pytest.raises(ValueError):
        hash_secret("123456", "")


# --- deadlines --------------------------------------------------------------------------------


def test_a_suggestion_is_routed_within_five_working_days():
    # Fri 13 Feb, then Sat 14 (a make-up working day), the festival off, 24-27 Feb.
    clocks = suggestion_clocks(FRI_BEFORE_FESTIVAL)
    assert clocks.route_due == date(2026, 2, 27)
    assert suggestion_clocks(date(2026, 3, 2)).route_due == date(2026, 3, 9)


def test_a_suggestion_is_concluded_within_thirty_days_rolling_off_a_rest_day():
    # 30 days after 13 Feb is Sunday 15 March: the period ends on Monday.
    assert suggestion_clocks(FRI_BEFORE_FESTIVAL).conclude_due == date(2026, 3, 16)
    assert suggestion_clocks(date(2026, 3, 2)).conclude_due == date(2026, 4, 1)


def test_a_county_can_set_its_own_clocks():
    policy = SuggestionPolicy(route_days=3, conclude_days=15, conclude_unit="working")
    clocks = suggestion_clocks(date(2026, 3, 2), policy)
    assert clocks.route_due == date(2026, 3, 5)
    assert clocks.conclude_due == date(2026, 3, 23)


def test_the_deadline_is_extended_once_with_a_reason_and_an_approval():
    clocks = suggestion_clocks(FRI_BEFORE_FESTIVAL)
    extended = extend(clocks, days=30, reason="需要多部门会商", approved_by="李主任")
    # Counted from the unrolled due date, Sunday 15 March: 14 April.
    assert extended.conclude_due == date(2026, 4, 14)
    assert extended.route_due == clocks.route_due
    assert (extended.extensions, extended.extension_days) == (1, 30)
    assert extended.extension_reason == "需要多部门会商"
    assert extended.extension_approved_by == "李主任"


def test_a_second_extension_is_refused():
    clocks = extend(
        suggestion_clocks(FRI_BEFORE_FESTIVAL), days=10, reason="会商", approved_by="李"
    )
    with pytest.raises(SuggestionRuleError) as error:
        extend(clocks, days=10, reason="还要会商", approved_by="李")
    assert "只能延长一次" in error.value.message


def test_an_extension_without_a_reason_or_an_approval_is_refused():
    clocks = suggestion_clocks(FRI_BEFORE_FESTIVAL)
    with pytest.raises(SuggestionRuleError) as no_reason:
        extend(clocks, days=10, reason="  ", approved_by="李主任")
    assert no_reason.value.field == "reason"
    with pytest.raises(SuggestionRuleError) as no_approval:
        extend(clocks, days=10, reason="会商", approved_by="")
    assert no_approval.value.field == "approved_by"


@pytest.mark.parametrize("days", [0, 31, -1, True, "10"])
def test_an_extension_has_a_sensible_length(days):
    with pytest.raises(SuggestionRuleError) as error:
        extend(suggestion_clocks(FRI_BEFORE_FESTIVAL), days=days, reason="会商", approved_by="李")
    assert error.value.field == "days"


def test_the_web_forms_key_is_taken_only_as_the_form_was_given_it():
    key = "0123456789abcdef0123456789abcdef"
    assert rules.parse_form_key(f" {key.upper()} ") == key
    for made_up in ("", "x" * 32, key[:-1], key + "0", "../" + key):
        assert rules.parse_form_key(made_up) is None
    assert rules.form_key_digest(key) != key and len(rules.form_key_digest(key)) == 64


def test_a_keyed_filing_has_one_secret_for_its_key_under_the_servers_key():
    key, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
    secret = rules.secret_for_form_key(key, "server key")
    assert re.fullmatch(r"\d{6}", secret)
    assert rules.secret_for_form_key(key, "server key") == secret
    assert rules.secret_for_form_key(other, "server key") != secret
    assert rules.secret_for_form_key(key, "another server key") != secret
