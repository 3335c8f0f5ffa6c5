"""Mediator suggestions: who is screened out, and in what order the rest are offered."""

from __future__ import annotations

import dataclasses

import pytest

from mediation import i18n
from mediation.cases.assignment import (
    CaseFacts,
    MediatorFacts,
    Person,
    common_depth,
    excluded_mediators,
    path_distance,
    rank_mediators,
)

pytestmark = pytest.mark.pure

COUNTY = "330482"
TOWN = "330482/330482001"
COMMUNITY = "330482/330482001/330482001003"
NEXT_COMMUNITY = "330482/330482001/330482001004"
OTHER_TOWN = "330482/330482002/330482002001"
OTHER_COUNTY = "330481/330481001/330481001001"

# Zhang San rents from Li Si (a sublessor) and wants his deposit back.
ZHANG = Person("张三", id_number="33048219900101123X", phone="13812345678")
LI = Person("李四", id_number="330482198505061234", phone="0573-85012345")


def a_case(**changes) -> CaseFacts:
    case = CaseFacts(category_code="neighbour", region_path=COMMUNITY, parties=(ZHANG, LI))
    return dataclasses.replace(case, **changes)


def a_mediator(id, name, region=COMMUNITY, **changes) -> MediatorFacts:
    return MediatorFacts(id=id, name=name, region_path=region, **changes)


@pytest.fixture(autouse=True)
def chinese():
    i18n.set_locale("zh_CN")
    yield
    i18n.set_locale("zh_CN")


def names(suggestions) -> list[str]:
    return [suggestion.mediator.name for suggestion in suggestions]


# --- region distance ----------------------------------------------------------------------


def test_region_distance_counts_steps_to_the_common_ancestor():
    assert path_distance(COMMUNITY, COMMUNITY) == 0
    assert path_distance(COMMUNITY, NEXT_COMMUNITY) == 1
    assert path_distance(COMMUNITY, TOWN) == 1
    assert path_distance(COMMUNITY, OTHER_TOWN) == 2
    assert path_distance(COMMUNITY, COUNTY) == 2
    assert path_distance(COMMUNITY, OTHER_COUNTY) == 3
    assert common_depth(COMMUNITY, NEXT_COMMUNITY) == 2
    assert common_depth("/330482/", "330482") == 1


# --- screening ----------------------------------------------------------------------------


def test_a_mediator_who_is_a_party_by_staff_id_is_excluded():
    staff_party = Person("王芳", staff_id=7)
    case = a_case(parties=(ZHANG, staff_party))
    assert rank_mediators(case, [a_mediator(7, "王芳")]) == []
    [exclusion] = excluded_mediators(case, [a_mediator(7, "王芳")])
    assert exclusion.reasons == ("系本案当事人",)


def test_a_mediator_who_is_a_party_by_phone_is_excluded():
    mediator = a_mediator(8, "李四", phone="+86 573 8501 2345")
    assert rank_mediators(a_case(), [mediator]) == []


def test_a_mediator_related_to_a_party_by_id_number_is_excluded():
    brother = Person("张四", id_number="33048219900101123x")
    mediator = a_mediator(9, "张大伯", related_persons=frozenset({brother}))
    assert rank_mediators(a_case(), [mediator]) == []
    [exclusion] = excluded_mediators(a_case(), [mediator])
    assert exclusion.reasons == ("与当事人有利害关系",)


def test_a_mediator_related_to_a_party_by_phone_is_excluded_whatever_the_format():
    cousin = Person("某某", phone="+86 138-1234-5678")
    mediator = a_mediator(10, "周老师", related_persons=frozenset({cousin}))
    assert rank_mediators(a_case(), [mediator]) == []


def test_a_related_persons_namesake_is_kept_but_flagged():
    namesake = Person("张三", id_number="110105194912310021", phone="13900000000")
    mediator = a_mediator(11, "吴阿姨", related_persons=frozenset({namesake}))
    [suggestion] = rank_mediators(a_case(), [mediator])
    assert suggestion.warnings == ("有当事人与该调解员的关系人同名，请核实。",)


def test_a_mediator_a_party_objected_to_is_excluded():
    case = a_case(objected_mediator_ids=frozenset({"12"}))
    assert rank_mediators(case, [a_mediator(12, "郑大妈")]) == []
    assert excluded_mediators(case, [a_mediator(12, "郑大妈")])[0].reasons == (
        "当事人对其提出异议",
    )


def test_an_unavailable_mediator_is_excluded():
    mediator = a_mediator(13, "冯老师", available=False)
    assert rank_mediators(a_case(), [mediator]) == []


@pytest.mark.parametrize(("load", "max_load"), [(5, 5), (6, 5), (0, 0)])
def test_a_mediator_at_or_over_capacity_is_excluded(load, max_load):
    mediator = a_mediator(14, "陈师傅", current_load=load, max_load=max_load)
    assert rank_mediators(a_case(), [mediator]) == []
    [exclusion] = excluded_mediators(a_case(), [mediator])
    assert exclusion.reasons == (f"已满负荷（{load}/{max_load} 件）",)


def test_an_exclusion_lists_every_reason():
    mediator = a_mediator(7, "王芳", available=False, current_load=5, max_load=5)
    case = a_case(parties=(Person("王芳", staff_id="7"),), objected_mediator_ids=frozenset({7}))
    [exclusion] = excluded_mediators(case, [mediator])
    assert len(exclusion.reasons) == 4


def test_eligible_mediators_are_not_listed_as_excluded():
    assert excluded_mediators(a_case(), [a_mediator(1, "王芳")]) == []


# --- ranking ------------------------------------------------------------------------------


def test_skill_in_the_category_beats_being_next_door():
    skilled_far = a_mediator(1, "赵敏", OTHER_TOWN, skills=frozenset({"neighbour"}))
    unskilled_near = a_mediator(2, "钱进", COMMUNITY, skills=frozenset({"labour"}))
    ranked = rank_mediators(a_case(), [unskilled_near, skilled_far])
    assert names(ranked) == ["赵敏", "钱进"]
    assert "擅长邻里纠纷" in ranked[0].reasons


def test_closer_mediators_rank_higher_when_skills_are_equal():
    candidates = [
        a_mediator(1, "甲", OTHER_COUNTY),
        a_mediator(2, "乙", OTHER_TOWN),
        a_mediator(3, "丙", NEXT_COMMUNITY),
        a_mediator(4, "丁", COMMUNITY),
    ]
    ranked = rank_mediators(a_case(), candidates)
    assert names(ranked) == ["丁", "丙", "乙", "甲"]
    assert ranked[0].reasons[0] == "同村（社区）"
    assert ranked[1].reasons[0] == "同镇（街道）"
    assert ranked[2].reasons[0] == "同县"
    assert not any(reason.startswith("同") for reason in ranked[3].reasons)


def test_a_lighter_load_ranks_higher_when_all_else_is_equal():
    busy = a_mediator(1, "甲", current_load=4, max_load=5)
    idle = a_mediator(2, "乙", current_load=0, max_load=5)
    half = a_mediator(3, "丙", current_load=5, max_load=10)
    assert names(rank_mediators(a_case(), [busy, idle, half])) == ["乙", "丙", "甲"]


def test_a_shared_dialect_earns_a_bonus():
    case = a_case(preferred_dialect="海宁话")
    plain = a_mediator(1, "甲")
    local = a_mediator(2, "乙", dialects=frozenset({"海宁话"}))
    ranked = rank_mediators(case, [plain, local])
    assert names(ranked) == ["乙", "甲"]
    assert "会讲海宁话" in ranked[0].reasons


def test_ties_are_broken_by_name_then_id():
    # Names compare by code point: 乙 (U+4E59) sorts before 甲 (U+7532).
    candidates = [a_mediator(10, "乙"), a_mediator(2, "甲"), a_mediator(2, "乙")]
    ranked = rank_mediators(a_case(), candidates)
    assert [(s.mediator.name, s.mediator.id) for s in ranked] == [
        ("乙", 2),
        ("乙", 10),
        ("甲", 2),
    ]
    assert rank_mediators(a_case(), list(reversed(candidates))) == ranked


def test_reasons_read_as_a_person_would_say_them():
    mediator = a_mediator(1, "王芳", skills=frozenset({"neighbour"}), current_load=2, max_load=5)
    [suggestion] = rank_mediators(a_case(), [mediator])
    assert suggestion.reasons == ("擅长邻里纠纷", "同村（社区）", "当前 2/5 件")
    assert suggestion.warnings == ()


def test_reasons_are_english_in_the_english_locale():
    i18n.set_locale("en")
    mediator = a_mediator(1, "Wang Fang", skills=frozenset({"neighbour"}), current_load=2)
    [suggestion] = rank_mediators(a_case(), [mediator])
    assert suggestion.reasons == (
        "Experienced in Neighbours cases",
        "Same village/community",
        "Currently 2/5 cases",
    )


def test_the_canonical_story_puts_the_local_skilled_mediator_first():
    candidates = [
        a_mediator(1, "王芳", COMMUNITY, skills=frozenset({"contract", "housing_land"})),
        a_mediator(2, "李国强", TOWN, skills=frozenset({"contract"}), current_load=1),
        a_mediator(3, "张三", COMMUNITY, skills=frozenset({"contract"}), phone="13812345678"),
        a_mediator(4, "周敏", OTHER_TOWN, skills=frozenset({"contract"}), current_load=5),
    ]
    ranked = rank_mediators(a_case(category_code="contract"), candidates)
    assert names(ranked) == ["王芳", "李国强"]


def test_a_mapping_of_region_distances_can_replace_the_path_rule():
    near, far = a_mediator(1, "甲", OTHER_TOWN), a_mediator(2, "乙", COMMUNITY)
    ranked = rank_mediators(a_case(), [far, near], region_distance={OTHER_TOWN: 0})
    assert names(ranked) == ["甲", "乙"]


def test_a_distance_function_can_replace_the_path_rule():
    def everything_is_far(case_region: str, mediator_region: str) -> int:
        assert case_region == COMMUNITY
        return 0 if mediator_region == OTHER_COUNTY else 5

    near, far = a_mediator(1, "甲", COMMUNITY), a_mediator(2, "乙", OTHER_COUNTY)
    assert names(rank_mediators(a_case(), [near, far], everything_is_far)) == ["乙", "甲"]


def test_no_candidates_means_no_suggestions():
    assert rank_mediators(a_case(), []) == []
