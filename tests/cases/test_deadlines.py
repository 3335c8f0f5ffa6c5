"""Deadline arithmetic, the packaged policy and its overrides, and extending mediation."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import chinese_calendar
import pytest

from mediation import i18n
from mediation.cases.categories import STANDARD_CODES
from mediation.cases.deadlines import (
    DEFAULT_POLICY_PATH,
    Clock,
    ClockPatch,
    DeadlineError,
    Override,
    PolicyError,
    add_days,
    clock_state,
    compute_clocks,
    default_policy,
    escalating_clocks,
    extend_mediation,
    is_working_day,
    load_policy,
    next_working_day,
    notifications_on_register,
    parse_policy,
)

pytestmark = pytest.mark.pure

# Spring Festival 2026: Feb 15-23 off; Saturdays Feb 14 and Feb 28 are make-up working days.
FRI_BEFORE_FESTIVAL = date(2026, 2, 13)


@pytest.fixture(autouse=True)
def chinese():
    i18n.set_locale("zh_CN")
    yield
    i18n.set_locale("zh_CN")


@pytest.fixture
def policy():
    return load_policy()


def clocks_by_name(clocks: list[Clock]) -> dict[str, Clock]:
    return {clock.name: clock for clock in clocks}


def minimal_policy() -> dict:
    return {
        "version": 1,
        "clocks": {"accept": {"days": 2, "unit": "working", "start": "registered"}},
        "extension": {"clock": "accept", "max_days": 0, "unit": "calendar", "max_times": 0},
    }


# --- the holiday calendar -----------------------------------------------------------------


def test_the_library_knows_spring_festival_2026_and_its_make_up_days():
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday, make-up day
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # Saturday, make-up day
    for day in range(15, 24):
        assert not chinese_calendar.is_workday(date(2026, 2, day))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),
        (date(2026, 3, 1), False),
        (date(2025, 9, 28), True),
        (date(2025, 10, 1), False),
        (date(2025, 10, 8), False),
        (date(2025, 10, 11), True),
    ],
)
def test_working_days_follow_holidays_and_make_up_days(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("n", "due"),
    [
        (0, date(2026, 2, 13)),
        (1, date(2026, 2, 14)),
        (2, date(2026, 2, 24)),
        (3, date(2026, 2, 25)),
        (6, date(2026, 2, 28)),
        (7, date(2026, 3, 2)),
    ],
)
def test_working_days_skip_spring_festival_but_count_make_up_saturdays(n, due):
    assert add_days(FRI_BEFORE_FESTIVAL, n, "working") == due


def test_calendar_days_count_the_holiday():
    assert add_days(FRI_BEFORE_FESTIVAL, 2, "calendar") == date(2026, 2, 15)
    assert add_days(FRI_BEFORE_FESTIVAL, 30, "calendar") == date(2026, 3, 15)


def test_working_days_skip_national_day_2025():
    assert add_days(date(2025, 9, 30), 1, "working") == date(2025, 10, 9)
    # Friday Sep 26 -> Sunday Sep 28, a make-up working day.
    assert add_days(date(2025, 9, 26), 1, "working") == date(2025, 9, 28)
    assert add_days(date(2025, 10, 10), 1, "working") == date(2025, 10, 11)


def test_counting_back_skips_holidays_too():
    assert add_days(date(2026, 2, 24), -1, "working") == date(2026, 2, 14)
    assert add_days(date(2026, 2, 24), -2, "working") == date(2026, 2, 13)


def test_years_the_library_does_not_know_fall_back_to_monday_to_friday():
    assert date(2040, 1, 6).weekday() == 4
    assert add_days(date(2040, 1, 6), 1, "working") == date(2040, 1, 9)
    assert not is_working_day(date(2003, 12, 27))
    assert is_working_day(date(2003, 12, 31))


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="fortnight"):
        add_days(FRI_BEFORE_FESTIVAL, 1, "fortnight")


def test_next_working_day_leaves_a_working_day_alone():
    assert next_working_day(date(2026, 2, 14)) == date(2026, 2, 14)
    assert next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)


# --- the packaged policy ------------------------------------------------------------------


def test_the_packaged_policy_loads_and_matches_practice(policy):
    assert policy == default_policy()
    rules = policy.clocks
    assert (rules["accept"].days, rules["accept"].unit) == (2, "working")
    assert (rules["handle"].days, rules["handle"].unit) == (7, "working")
    assert (rules["mediation"].days, rules["mediation"].unit) == (30, "calendar")
    assert (policy.extension.max_days, policy.extension.max_times) == (30, 1)
    assert set(policy.categories) <= STANDARD_CODES


def test_a_green_case_gets_two_and_seven_working_days(policy):
    clocks = compute_clocks(policy, FRI_BEFORE_FESTIVAL, "neighbour", "green", "grid")
    assert [(c.name, c.due) for c in clocks] == [
        ("accept", date(2026, 2, 24)),
        ("handle", date(2026, 3, 2)),
    ]
    assert clocks[0].label == "受理期限"
    assert clocks[0].starts_on == FRI_BEFORE_FESTIVAL


def test_the_mediation_clock_waits_until_mediation_starts(policy):
    clocks = compute_clocks(policy, FRI_BEFORE_FESTIVAL, "neighbour", "green", "grid")
    assert "mediation" not in clocks_by_name(clocks)


def test_a_month_of_mediation_ending_in_the_holiday_ends_on_the_next_working_day(policy):
    clocks = compute_clocks(
        policy,
        date(2026, 1, 19),
        "neighbour",
        "green",
        "grid",
        started_mediation_on=date(2026, 1, 20),
    )
    mediation = clocks_by_name(clocks)["mediation"]
    # Jan 20 + 30 days = Feb 19, a Spring Festival holiday.
    assert mediation.due == date(2026, 2, 24)
    assert (mediation.days, mediation.unit) == (30, "calendar")


def test_without_rolling_a_calendar_clock_may_end_on_a_holiday(policy):
    policy = dataclasses.replace(policy, calendar_due_rolls_to_working_day=False)
    clocks = compute_clocks(
        policy, date(2026, 1, 19), "neighbour", "green", "grid", date(2026, 1, 20)
    )
    assert clocks_by_name(clocks)["mediation"].due == date(2026, 2, 19)


def test_labour_disputes_get_15_days_from_the_application(policy):
    clocks = clocks_by_name(compute_clocks(policy, date(2026, 3, 2), "labour", "green", "grid"))
    assert clocks["mediation"].due == date(2026, 3, 17)
    assert clocks["mediation"].starts_on == date(2026, 3, 2)


def test_labour_clock_ending_in_spring_festival_rolls_forward(policy):
    clocks = clocks_by_name(compute_clocks(policy, date(2026, 2, 1), "labour", "green", "grid"))
    assert clocks["mediation"].due == date(2026, 2, 24)


def test_medical_disputes_get_30_working_days_from_acceptance(policy):
    clocks = compute_clocks(
        policy, date(2026, 2, 9), "medical", "green", "town", accepted_on=date(2026, 2, 10)
    )
    mediation = clocks_by_name(clocks)["mediation"]
    assert (mediation.days, mediation.unit) == (30, "working")
    assert mediation.due == date(2026, 3, 30)


def test_a_medical_clock_is_left_out_until_the_case_is_accepted(policy):
    clocks = compute_clocks(policy, date(2026, 2, 9), "medical", "green", "town")
    assert "mediation" not in clocks_by_name(clocks)


def test_red_cases_get_shorter_clocks(policy):
    clocks = clocks_by_name(compute_clocks(policy, FRI_BEFORE_FESTIVAL, "neighbour", "red", "grid"))
    assert (clocks["accept"].days, clocks["accept"].due) == (1, date(2026, 2, 14))
    assert (clocks["handle"].days, clocks["handle"].due) == (3, date(2026, 2, 25))


def test_red_cases_notify_police_and_the_town_centre_at_once(policy):
    assert notifications_on_register(policy, "neighbour", "red", "grid") == [
        "police",
        "town_centre",
    ]
    assert notifications_on_register(policy, "neighbour", "green", "grid") == []


def test_notifications_from_several_layers_are_merged_without_repeats(policy):
    policy = dataclasses.replace(
        policy,
        categories={"pollution": Override(notify_on_register=("town_centre", "environment"))},
    )
    assert notifications_on_register(policy, "pollution", "red", "grid") == [
        "town_centre",
        "environment",
        "police",
    ]


def test_a_colour_only_tightens_a_category_clock(policy):
    lax_red = dataclasses.replace(policy.colours["red"], clocks={"mediation": ClockPatch(days=25)})
    policy = dataclasses.replace(policy, colours={"red": lax_red})
    labour = compute_clocks(policy, date(2026, 3, 2), "labour", "red", "grid")
    assert clocks_by_name(labour)["mediation"].due == date(2026, 3, 17)
    neighbour = compute_clocks(
        policy, date(2026, 3, 2), "neighbour", "red", "grid", date(2026, 3, 2)
    )
    assert clocks_by_name(neighbour)["mediation"].due == date(2026, 3, 27)


def test_a_level_can_change_a_clock(policy):
    policy = dataclasses.replace(
        policy, levels={"county": Override(clocks={"handle": ClockPatch(days=15)})}
    )
    county = compute_clocks(policy, date(2026, 3, 2), "neighbour", "green", "county")
    grid = compute_clocks(policy, date(2026, 3, 2), "neighbour", "green", "grid")
    assert clocks_by_name(county)["handle"].days == 15
    assert clocks_by_name(grid)["handle"].days == 7


def test_which_overdue_clocks_escalate_depends_on_level_and_colour(policy):
    assert escalating_clocks(policy, "neighbour", "green", "grid") == {"accept", "handle"}
    assert escalating_clocks(policy, "neighbour", "green", "town") == {"mediation"}
    assert escalating_clocks(policy, "neighbour", "green", "county") == set()
    assert escalating_clocks(policy, "neighbour", "red", "town") == {
        "accept",
        "handle",
        "mediation",
    }
    clocks = compute_clocks(
        policy, date(2026, 3, 2), "neighbour", "green", "town", date(2026, 3, 2)
    )
    assert {c.name for c in clocks if c.escalates_when_overdue} == {"mediation"}


def test_an_unknown_category_uses_the_base_clocks(policy):
    clocks = compute_clocks(policy, date(2026, 3, 2), "village_affairs", "green", "grid")
    assert [c.days for c in clocks] == [2, 7]


# --- extension ----------------------------------------------------------------------------


def test_an_extension_moves_the_mediation_deadline(policy):
    clocks = compute_clocks(
        policy, date(2026, 3, 2), "neighbour", "green", "grid", date(2026, 3, 2), extension_days=30
    )
    # Apr 1 + 30 days = May 1, Labour Day: the next working day is after the holiday.
    mediation = clocks_by_name(clocks)["mediation"]
    assert add_days(date(2026, 3, 2), 60, "calendar") == date(2026, 5, 1)
    assert mediation.due == next_working_day(date(2026, 5, 1))
    assert mediation.due > date(2026, 5, 1)
    others = clocks_by_name(clocks)
    assert others["accept"].due == add_days(date(2026, 3, 2), 2, "working")


def test_an_extension_beyond_the_policy_is_refused_when_computing(policy):
    with pytest.raises(DeadlineError):
        compute_clocks(policy, date(2026, 3, 2), "neighbour", "green", "grid", extension_days=31)


def test_mediation_may_be_extended_once_with_both_sides_consent(policy):
    days = extend_mediation(
        policy, days=15, times_extended=0, applicant_consents=True, respondent_consents=True
    )
    assert days == 15


def test_mediation_cannot_be_extended_twice(policy):
    with pytest.raises(DeadlineError) as caught:
        extend_mediation(
            policy, days=15, times_extended=1, applicant_consents=True, respondent_consents=True
        )
    assert caught.value.message == "调解期限只能延长一次。"


@pytest.mark.parametrize(
    ("applicant", "respondent"), [(True, False), (False, True), (False, False)]
)
def test_an_extension_needs_both_sides_consent(policy, applicant, respondent):
    with pytest.raises(DeadlineError) as caught:
        extend_mediation(
            policy,
            days=10,
            times_extended=0,
            applicant_consents=applicant,
            respondent_consents=respondent,
        )
    assert "双方当事人同意" in caught.value.message


@pytest.mark.parametrize("days", [0, -3, 31, True])
def test_an_extension_must_fit_the_policy(policy, days):
    with pytest.raises(DeadlineError, match="30"):
        extend_mediation(
            policy, days=days, times_extended=0, applicant_consents=True, respondent_consents=True
        )


def test_a_policy_may_allow_more_than_one_extension(policy):
    policy = dataclasses.replace(
        policy, extension=dataclasses.replace(policy.extension, max_times=2)
    )
    assert extend_mediation(
        policy, days=5, times_extended=1, applicant_consents=True, respondent_consents=True
    )
    i18n.set_locale("en")
    with pytest.raises(DeadlineError) as caught:
        extend_mediation(
            policy, days=5, times_extended=2, applicant_consents=True, respondent_consents=True
        )
    assert caught.value.message == "The mediation period can be extended at most 2 times."


# --- clock state --------------------------------------------------------------------------


@pytest.fixture
def clock():
    return Clock("accept", "受理期限", date(2026, 2, 24), "working", 2, FRI_BEFORE_FESTIVAL)


def test_a_clock_before_its_due_date_shows_the_days_left(clock):
    state = clock_state(clock, today=date(2026, 2, 20))
    assert (state.is_overdue, state.remaining_days, state.overdue_days) == (False, 4, 0)


def test_the_due_date_itself_is_still_on_time(clock):
    state = clock_state(clock, today=date(2026, 2, 24))
    assert (state.is_overdue, state.remaining_days, state.overdue_days) == (False, 0, 0)


def test_a_clock_past_its_due_date_is_overdue(clock):
    state = clock_state(clock, today=date(2026, 2, 27))
    assert (state.is_overdue, state.remaining_days, state.overdue_days) == (True, 0, 3)
    assert state.due == clock.due


def test_a_finished_clock_is_judged_on_the_day_it_was_done(clock):
    on_time = clock_state(clock, today=date(2026, 3, 20), done_on=date(2026, 2, 14))
    assert (on_time.is_overdue, on_time.overdue_days, on_time.done) == (False, 0, True)
    late = clock_state(clock, today=date(2026, 3, 20), done_on=date(2026, 2, 26))
    assert (late.is_overdue, late.overdue_days, late.remaining_days) == (True, 2, 0)


# --- bad policy files ---------------------------------------------------------------------


def write(tmp_path, data) -> str:
    path = tmp_path / "policy.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_a_minimal_policy_loads(tmp_path):
    policy = load_policy(write(tmp_path, minimal_policy()))
    assert list(policy.clocks) == ["accept"]
    assert policy.colours == {}


def test_a_missing_policy_file_is_reported(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nowhere.json")


def test_a_policy_file_that_is_not_json_is_reported(tmp_path):
    with pytest.raises(PolicyError, match="not valid JSON"):
        load_policy(write(tmp_path, '{"version": 1,'))


def mutate(change):
    data = minimal_policy()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.update(version=2), "version must be 1"),
        (lambda d: d.pop("clocks"), "lacks clocks"),
        (lambda d: d.update(clocks={}), "at least one clock"),
        (lambda d: d.update(colour={}), "unknown keys: colour"),
        (lambda d: d["clocks"]["accept"].update(unit="weeks"), "clocks.accept.unit"),
        (lambda d: d["clocks"]["accept"].update(days=0), "clocks.accept.days"),
        (lambda d: d["clocks"]["accept"].update(days=-2), "clocks.accept.days"),
        (lambda d: d["clocks"]["accept"].update(days="2"), "clocks.accept.days"),
        (lambda d: d["clocks"]["accept"].update(days=True), "clocks.accept.days"),
        (lambda d: d["clocks"]["accept"].update(start="filed"), "clocks.accept.start"),
        (lambda d: d["clocks"]["accept"].pop("unit"), "clocks.accept lacks unit"),
        (lambda d: d["clocks"].update(Accept=d["clocks"]["accept"]), "lower-case name"),
        (lambda d: d["extension"].update(clock="mediation"), "extension.clock"),
        (lambda d: d["extension"].pop("max_times"), "extension lacks max_times"),
        (lambda d: d.update(escalate_when_overdue=["handle"]), "not a defined clock"),
        (lambda d: d.update(escalate_when_overdue="accept"), "must be a list"),
        (lambda d: d.update(colours={"purple": {}}), "colours.purple"),
        (lambda d: d.update(levels={"province": {}}), "levels.province"),
        (
            lambda d: d.update(categories={"labour": {"clocks": {"handle": {"days": 3}}}}),
            'categories.labour.clocks: "handle" is not a defined clock',
        ),
        (
            lambda d: d.update(categories={"labour": {"clocks": {"accept": {}}}}),
            "changes nothing",
        ),
        (
            lambda d: d.update(categories={"labour": {"clocks": {"accept": {"hours": 3}}}}),
            "unknown keys: hours",
        ),
        (lambda d: d.update(colours={"red": {"notify_on_register": "police"}}), "must be a list"),
        (lambda d: d.update(calendar_due_rolls_to_working_day="yes"), "true or false"),
        (lambda d: d.update(categories=[]), "categories must be an object"),
    ],
)
def test_a_bad_policy_is_refused_with_the_place_of_the_mistake(tmp_path, change, complaint):
    i18n.set_locale("en")
    path = write(tmp_path, mutate(change))
    with pytest.raises(PolicyError, match=complaint) as caught:
        load_policy(path)
    assert path in str(caught.value)


def test_a_policy_that_is_not_an_object_is_refused():
    with pytest.raises(PolicyError, match="规则：必须是 JSON 对象"):
        parse_policy([1, 2, 3])
    i18n.set_locale("en")
    with pytest.raises(PolicyError, match="The policy must be an object"):
        parse_policy([1, 2, 3])


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (
            lambda d: d["clocks"]["accept"].update(days=99999999),
            "clocks.accept.days：必须是 1 到 3650 之间的整数，不能是 99999999",
        ),
        (
            lambda d: d["clocks"]["accept"].update(unit="weeks"),
            'clocks.accept.unit：必须是 calendar, working 之一，不能是 "weeks"',
        ),
        (
            lambda d: d.update(colours={"purple": {}}),
            "colours.purple：不是风险颜色（可用：red, yellow, green）",
        ),
        (
            lambda d: d["extension"].pop("max_times"),
            "extension：缺少 max_times",
        ),
        (
            lambda d: d.update(escalate_when_overdue=["handle"]),
            'escalate_when_overdue："handle" 不是已定义的时限（已定义：accept）',
        ),
    ],
)
def test_a_bad_policy_is_explained_in_chinese_with_the_path_to_the_entry(change, detail):
    with pytest.raises(PolicyError) as caught:
        parse_policy(mutate(change))
    assert caught.value.detail == detail
    assert not re.search(r"must|lacks|not a|one of", caught.value.detail)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["clocks"]["accept"].update(days=3651), "clocks.accept.days"),
        (lambda d: d["clocks"]["accept"].update(days=99999999), "clocks.accept.days"),
        (lambda d: d["extension"].update(max_days=3651), "extension.max_days"),
        (lambda d: d["extension"].update(max_times=10**9), "extension.max_times"),
        (
            lambda d: d.update(categories={"labour": {"clocks": {"accept": {"days": 10**8}}}}),
            "categories.labour.clocks.accept.days",
        ),
        (
            lambda d: d.update(colours={"red": {"clocks": {"accept": {"days": 4000}}}}),
            "colours.red.clocks.accept.days",
        ),
    ],
)
def test_every_number_of_the_policy_is_at_most_ten_years(change, where):
    with pytest.raises(PolicyError, match="3650") as caught:
        parse_policy(mutate(change))
    assert where in str(caught.value)


def test_ten_years_is_still_accepted():
    data = mutate(lambda d: d["clocks"]["accept"].update(days=3650, unit="working"))
    data["extension"].update(max_days=3650, max_times=3650)
    policy = parse_policy(data)
    clocks = compute_clocks(policy, FRI_BEFORE_FESTIVAL, "neighbour", "green", "grid")
    assert clocks[0].due is not None and clocks[0].due.year > 2035


@pytest.mark.parametrize("unit", ["calendar", "working"])
def test_a_clock_beyond_the_last_date_is_unknown_not_an_error(policy, unit):
    # A policy built in code, past the parser's bound (as a policy stored before it was).
    huge = dataclasses.replace(
        policy,
        clocks={
            **policy.clocks,
            "handle": dataclasses.replace(policy.clocks["handle"], days=99999999, unit=unit),
        },
    )
    clocks = clocks_by_name(compute_clocks(huge, FRI_BEFORE_FESTIVAL, "neighbour", "green", "grid"))
    assert clocks["handle"].due is None
    assert clocks["handle"].estimated_years == ()
    assert clocks["accept"].due == date(2026, 2, 24)
    state = clock_state(clocks["handle"], date(2026, 3, 1))
    assert (state.due, state.is_overdue, state.overdue_days, state.remaining_days) == (
        None,
        False,
        0,
        0,
    )
    # A red case's tighter rule still gives a date.
    red = clocks_by_name(compute_clocks(huge, FRI_BEFORE_FESTIVAL, "neighbour", "red", "grid"))
    assert red["handle"].due is not None


def test_a_category_the_list_does_not_hold_is_refused_by_name():
    data = mutate(
        lambda d: d.update(
            categories={
                "labor": {"clocks": {"accept": {"days": 15}}},
                "medical": {"clocks": {"accept": {"days": 30}}},
                "neighbour_x": {},
            }
        )
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(data, category_codes=STANDARD_CODES)
    assert "labor" in str(caught.value) and "neighbour_x" in str(caught.value)
    assert "medical" not in str(caught.value)
    # Read without the list (a policy already stored), the same policy loads.
    assert set(parse_policy(data).categories) == {"labor", "medical", "neighbour_x"}
    # The packaged policy names only standard categories.
    parse_policy(json.loads(DEFAULT_POLICY_PATH.read_text()), category_codes=STANDARD_CODES)
