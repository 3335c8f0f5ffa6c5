"""Similarity of suggestions: normalising, scoring, the threshold, searching and grouping."""

from __future__ import annotations

import itertools
import random

import pytest

from mediation.suggestions.similarity import (
    CONCEPTS,
    DEFAULT_THRESHOLD,
    SYNONYMS,
    SimilarityIndex,
    SuggestionText,
    build_index,
    canonicalize,
    features,
    find_similar,
    group_similar,
    normalize,
    similarity,
    suggestion_similarity,
)

pytestmark = pytest.mark.pure

# Realistic suggestions as a direct-report point receives them. The first field names the
# issue: suggestions with the same issue say the same thing in other words (they are what
# "similar" must find); None marks a look-alike on another issue that shares words with a
# group (小区, 电梯, 公交, 老人, 学校, 菜市场, 东河 …) and must stay apart.
CORPUS = [
    # fmt: off
    (
        "A1",
        "market-stalls",
        "关于整治菜市场门口占道经营的建议",
        "城东菜市场门口每天早上摊贩占道经营，人行道和机动车道都被占用，行人只能走到马路中间，非常危险。",
        "建议城管部门加强早市时段巡查，划定临时摊位区域，引导摊贩进场经营。",
    ),
    (
        "A2",
        "market-stalls",
        "农贸市场周边流动摊贩乱摆摊",
        "农贸市场大门外的马路两边全是小摊贩，早高峰车辆通行困难，买菜的人和车挤在一起。",
        "设置便民疏导点，把流动摊贩集中到市场内的空摊位，安排人员定时劝导。",
    ),
    (
        "A3",
        "market-stalls",
        "菜场门口路被小摊占了",
        "每天早上菜场门口地摊摆到路中间，电动车和行人过不去。",
        "请城管早上来管一管，让摊位进市场里面。",
    ),
    ("A4", "market-stalls", "菜市场乱摆摊", "菜市场外面小贩把路占了。", "城管管一管。"),
    (
        "B1",
        "lift",
        "老旧小区加装电梯",
        "我们小区是上世纪九十年代建的六层楼房，没有电梯，很多老人腿脚不便，上下楼非常困难。",
        "建议政府出台老旧小区加装电梯补贴政策，简化审批流程，由社区协调业主意见。",
    ),
    (
        "B2",
        "lift",
        "希望给我们楼装电梯",
        "家里老人八十多岁了，住在五楼，每天爬楼梯很吃力，一个月都下不了几次楼。",
        "能否对加装电梯给予资金补助，并帮助协调低层住户的意见。",
    ),
    (
        "B3",
        "lift",
        "关于老小区安装电梯审批难的问题",
        "我们楼想安装电梯，但审批手续复杂，一楼住户不同意，事情拖了两年。",
        "简化加装电梯审批，社区出面协调邻里矛盾，明确补贴标准。",
    ),
    ("B4", "lift", "希望加装电梯", "住在六楼，腿不好，上下楼太难了。", "政府给老楼装电梯。"),
    (
        "Bx1",
        None,
        "小区停车位严重不足",
        "小区车位只有三百个，住户车辆超过六百辆，晚上车辆乱停在消防通道上。",
        "建议利用小区周边空地建设公共停车场，规划错时共享停车。",
    ),
    (
        "Bx2",
        None,
        "小区电动自行车充电难",
        "小区没有集中充电桩，很多居民从楼上拉电线充电，甚至把电瓶车推进电梯，存在火灾隐患。",
        "建议在小区内增设电动自行车集中充电桩，禁止电瓶车进电梯。",
    ),
    (
        "C1",
        "street-lights",
        "人民路路灯不亮",
        "人民路南段有十几盏路灯已经坏了一个多月，晚上一片漆黑，行人和骑车的人很容易摔倒。",
        "请尽快维修损坏的路灯，并定期巡查。",
    ),
    (
        "C2",
        "street-lights",
        "关于人民路南段夜间照明的建议",
        "晚上下班经过人民路南段，照明设施全部不亮，黑灯瞎火，存在安全隐患。",
        "希望相关部门及时修复照明设施，增加巡检频次。",
    ),
    (
        "C3",
        "street-lights",
        "路灯坏了没人修",
        "人民路靠近菜市场那一段路灯坏了很久了，晚上走路看不清。",
        "安排人员修理路灯。",
    ),
    (
        "Cx1",
        None,
        "小区门口增设红绿灯",
        "小区门口的路口车多，没有红绿灯，过马路很危险。",
        "安装红绿灯和斑马线。",
    ),
    (
        "D1",
        "bus-stop",
        "建议调整12路公交线路",
        "新建的阳光花园小区有三千多户居民，附近没有公交站，居民出行要走二十分钟到最近的站点。",
        "建议12路公交车绕行阳光花园，在小区门口增设公交站点。",
    ),
    (
        "D2",
        "bus-stop",
        "阳光花园附近增设公交站",
        "阳光花园小区门口没有公交车站，老人和学生坐车很不方便。",
        "在阳光花园门口设一个公交站台，调整线路经过小区。",
    ),
    (
        "D3",
        "bus-stop",
        "希望公交车经过阳光花园",
        "我们阳光花园的住户坐公交要走很远。",
        "12路车改一下线路。",
    ),
    (
        "Dx1",
        None,
        "老年人公交卡办理",
        "七十岁以上老人乘坐公交车可以免费，但办理老年卡要去市区的服务网点，排队时间长。",
        "建议在社区服务中心设置老年公交卡办理点，或者开通线上办理。",
    ),
    (
        "K1",
        "bus-frequency",
        "增开早高峰公交班次",
        "早上七点到八点公交车太挤，经常等二十分钟才来一班车。",
        "早高峰加密发车，缩短间隔。",
    ),
    (
        "K2",
        "bus-frequency",
        "上班时间公交车太少",
        "每天早上坐公交上班，车很少，人太多挤不上去。",
        "增加早上的公交车班次。",
    ),
    (
        "E1",
        "rubbish-smell",
        "垃圾分类投放点臭味扰民",
        "幸福里小区3号楼旁边的垃圾分类投放点夏天臭味很大，苍蝇蚊子多，一楼住户不敢开窗。",
        "建议垃圾投放点每天清洗消毒，把投放点移到远离住宅楼的位置。",
    ),
    (
        "E2",
        "rubbish-smell",
        "幸福里垃圾房异味太大",
        "垃圾房就在我家窗户下面，气味难闻，垃圾经常满出来没人清运。",
        "增加清运次数，对垃圾房进行除臭处理，考虑迁移位置。",
    ),
    (
        "E3",
        "rubbish-smell",
        "垃圾桶太臭了",
        "楼下垃圾桶天天发臭，蚊蝇乱飞。",
        "每天清洗垃圾桶，挪远一点。",
    ),
    (
        "F1",
        "school-traffic",
        "实验小学门口上下学时段交通拥堵",
        "每天放学时实验小学门口家长接送车辆乱停，校门口道路堵得水泄不通，孩子过马路很危险。",
        "建议交警在上下学高峰时段安排警力疏导，设置临时停车接送区。",
    ),
    (
        "F2",
        "school-traffic",
        "关于缓解学校门口接送孩子堵车的建议",
        "实验小学放学时家长的车把整条路都堵了，公交车也过不去。",
        "学校错峰放学，附近开放停车场给家长临时停车。",
    ),
    (
        "F3",
        "school-traffic",
        "校门口接孩子太堵",
        "接孩子时校门口堵车严重，经常要等半个小时。",
        "请交警来维持秩序。",
    ),
    (
        "Fx1",
        None,
        "学校周边小卖部食品安全",
        "实验小学周边的小卖部卖三无零食和辣条，很多孩子放学后去买。",
        "建议市场监管部门加强对校园周边小卖部的检查。",
    ),
    (
        "G1",
        "elderly-meals",
        "建议社区开办老年食堂",
        "社区里独居老人很多，年纪大了做饭不方便，经常随便对付一口，营养跟不上。",
        "建议在社区服务中心开设老年食堂，对高龄老人给予用餐补贴，行动不便的可以送餐上门。",
    ),
    (
        "G2",
        "elderly-meals",
        "老人吃饭难，希望有助餐点",
        "我父母都八十多了，自己做饭很吃力，附近没有专门给老人吃饭的地方。",
        "在社区设置助餐点，提供价格实惠的午餐和晚餐，并为失能老人送餐。",
    ),
    ("G3", "elderly-meals", "开个长者食堂", "小区老人多，吃饭成问题。", "社区办一个长者食堂。"),
    (
        "H1",
        "river",
        "关于整治东河黑臭水体的建议",
        "东河流经城北几个村，河面上漂浮着生活垃圾，水发黑发臭，夏天气味很重。",
        "建议对东河进行清淤疏浚，截断沿河排污口，定期打捞河面漂浮物。",
    ),
    (
        "H2",
        "river",
        "东河水质太差需要治理",
        "东河河水又黑又臭，还有人往河里倒垃圾，鱼都死了。",
        "清理河道淤泥，查处偷排污水的企业，安排保洁员每天打捞垃圾。",
    ),
    (
        "H3",
        "river",
        "河浜发臭",
        "村口那条小河浜常年发臭，河里全是垃圾。",
        "请派人清淤，管一管往河里扔垃圾的人。",
    ),
    (
        "Hx1",
        None,
        "东河沿岸步道缺少护栏",
        "东河边的健身步道没有护栏，晚上散步的人多，小孩容易掉进河里。",
        "建议沿河步道加装护栏和警示牌，增加照明。",
    ),
    (
        "L1",
        "dogs",
        "小区里狗屎太多",
        "小区草坪和人行道上到处都是狗粪，很多养狗的人不清理。",
        "要求养狗的人遛狗带袋子，物业加强巡查。",
    ),
    (
        "L2",
        "dogs",
        "文明养犬",
        "有些居民遛狗不牵绳，狗随地大小便没人管。",
        "社区宣传文明养犬，对不清理狗粪的进行处罚。",
    ),
    (
        "M1",
        "stairwell-clutter",
        "楼道堆放杂物",
        "楼道里堆满了纸箱和旧家具，万一着火人都跑不出去。",
        "物业清理楼道杂物。",
    ),
    (
        "M2",
        "stairwell-clutter",
        "清理楼梯间的杂物",
        "楼梯间被住户堆了很多东西，有消防隐患。",
        "组织一次楼道杂物清理。",
    ),
    (
        "N1",
        "building-site-noise",
        "工地夜间施工噪音",
        "附近工地每天晚上施工到半夜，噪音吵得睡不着觉。",
        "禁止工地晚上十点以后施工。",
    ),
    (
        "N2",
        "building-site-noise",
        "晚上施工太吵",
        "工地半夜还在打桩，吵得孩子没法睡觉。",
        "查处夜间违规施工。",
    ),
    (
        "S1",
        "fitness-equipment",
        "滨河公园健身器材损坏",
        "公园里的单杠和漫步机坏了好几台，螺丝松动，老人锻炼时有危险。",
        "请尽快维修或更换健身器材，定期检查。",
    ),
    (
        "S1b",
        "fitness-equipment",
        "公园健身器材老化",
        "公园的健身器材锈了，有的已经不能用了。",
        "更换公园健身器材。",
    ),
    (
        "S2",
        None,
        "菜市场没有停车的地方",
        "去菜市场买菜开车没地方停，只能停在路边，经常被贴罚单。",
        "在菜市场旁边规划临时停车位，早上允许限时停放。",
    ),
    (
        "S3",
        None,
        "共享单车乱停乱放",
        "地铁站出口共享单车堆成山，把盲道和人行道都占了。",
        "划定共享单车停放区，企业安排人员及时调度清理。",
    ),
    (
        "S4",
        "square-dance",
        "广场舞噪音扰民",
        "每天晚上中心广场跳广场舞音响开得很大，一直到十点多，周边居民休息受影响。",
        "规定广场舞的音量和时间，在广场设置噪音监测。",
    ),
    ("S4b", "square-dance", "广场舞噪音", "广场舞音响太吵，晚上影响休息。", "限制音量。"),
    (
        "S5",
        None,
        "村口路段增设减速带",
        "村口省道车速很快，村民过马路很危险，去年发生过两起事故。",
        "在村口路段设置减速带和人行横道，安装测速设备。",
    ),
    (
        "S6",
        None,
        "公园增设公共厕所",
        "公园里只有一个厕所，周末人多排长队。",
        "在公园东门增建一座公厕。",
    ),
    # fmt: on
]

ITEMS = [SuggestionText(id_, topic, reason, measures) for id_, _, topic, reason, measures in CORPUS]
ISSUE = {id_: issue for id_, issue, *_ in CORPUS}
BY_ID = {item.id: item for item in ITEMS}


def same_issue(a: str, b: str) -> bool:
    return ISSUE[a] is not None and ISSUE[a] == ISSUE[b]


def expected_groups() -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for id_, issue, *_ in CORPUS:
        groups.setdefault(issue or id_, []).append(id_)
    return list(groups.values())


def pair_scores() -> list[tuple[float, str, str]]:
    return [(suggestion_similarity(a, b), a.id, b.id) for a, b in itertools.combinations(ITEMS, 2)]


# --- normalising and scoring texts ----------------------------------------------------------


def test_normalize_folds_width_case_punctuation_and_spaces():
    assert normalize("ＡＢＣ１２３，加装　电梯！！") == "abc123加装电梯"
    assert normalize(" 路灯 不亮 ( 人民路 ) \n") == "路灯不亮人民路"
    assert normalize("“公交”站点——调整；") == "公交站点调整"
    assert normalize("") == normalize(None) == ""


def test_texts_differing_only_in_punctuation_width_and_spaces_are_identical():
    assert similarity("建议：小区加装电梯！", "建议 小区 加装电梯") == 1.0
    assert similarity("12路公交车改线", "１２路公交车，改线。") == 1.0


def test_a_text_is_fully_similar_to_itself_and_unrelated_texts_score_zero():
    assert similarity("人民路路灯不亮", "人民路路灯不亮") == 1.0
    assert similarity("人民路路灯不亮", "广场舞噪音扰民") == 0.0
    assert similarity("", "人民路路灯不亮") == 0.0
    assert similarity(None, None) == 0.0


def test_similarity_is_symmetric_and_between_zero_and_one():
    texts = [f"{item.topic}{item.reason}" for item in ITEMS]
    for a, b in itertools.combinations(texts, 2):
        score = similarity(a, b)
        assert 0.0 <= score <= 1.0
        assert score == similarity(b, a)


def test_stock_phrases_of_suggestions_do_not_make_texts_similar():
    assert features("建议相关部门能否尽快解决一下我们的问题") == {}
    assert similarity("希望有关部门关注这个问题", "请相关部门尽快解决我们的问题") == 0.0
    # Only the content words remain: 加装电梯 here, and the lightly weighted 小区.
    assert set(features("关于我们小区加装电梯的建议")) == {"小区", "加装电梯"}


def test_two_suggestions_about_the_same_estate_but_different_things_stay_apart():
    assert similarity("建议小区加装电梯", "建议解决小区停车难") < DEFAULT_THRESHOLD
    assert similarity("我们小区老人多，希望加装电梯", "我们小区车位少，希望增加停车位") < (
        DEFAULT_THRESHOLD
    )


def test_the_thesaurus_maps_trivial_wording_differences_onto_one_word():
    assert canonicalize("农贸市场门口的小摊贩") == canonicalize("菜场门口的摊贩")
    assert similarity("垃圾房臭气熏天", "垃圾桶发臭") == 1.0
    assert similarity("长者食堂", "老年食堂") == 1.0


def test_the_thesaurus_is_consistent():
    # A concept read again stays itself, and no variant is also a concept: no chains.
    for concept in CONCEPTS:
        assert canonicalize(concept) == concept
    assert not set(SYNONYMS) & CONCEPTS


def test_very_short_texts_also_compare_single_characters():
    assert similarity("停车难", "难停车") > 0.5


# --- the threshold, against the corpus ------------------------------------------------------


def test_the_default_threshold_sits_between_paraphrases_and_look_alikes():
    # The figures that placed DEFAULT_THRESHOLD: every suggestion's closest paraphrase
    # scores at least 0.315, while two suggestions on different issues score at most 0.244.
    scores = pair_scores()
    closest_paraphrase: dict[str, float] = {}
    for score, a, b in scores:
        if same_issue(a, b):
            closest_paraphrase[a] = max(closest_paraphrase.get(a, 0.0), score)
            closest_paraphrase[b] = max(closest_paraphrase.get(b, 0.0), score)
    grouped = {id_ for id_, issue in ISSUE.items() if issue}
    assert set(closest_paraphrase) == grouped
    weakest_link = min(closest_paraphrase.values())
    strongest_look_alike = max(score for score, a, b in scores if not same_issue(a, b))
    assert round(weakest_link, 3) == 0.315
    assert round(strongest_look_alike, 3) == 0.244
    assert strongest_look_alike + 0.03 < DEFAULT_THRESHOLD < weakest_link - 0.03


def test_nearly_every_pair_of_paraphrases_scores_above_the_threshold():
    paraphrases = [(score, a, b) for score, a, b in pair_scores() if same_issue(a, b)]
    below = [(round(score, 3), a, b) for score, a, b in paraphrases if score < DEFAULT_THRESHOLD]
    # A1/A2 share only the market and its stalls in different words; A3 links them.
    assert below == [(0.264, "A1", "A2")]
    assert len(paraphrases) == 36


def test_look_alikes_sharing_words_with_a_group_stay_below_the_threshold():
    look_alikes = {
        ("Bx1", "B1"): "estate parking vs lifts (小区)",
        ("Bx2", "B1"): "e-bike charging vs lifts (小区, 电梯)",
        ("Cx1", "C1"): "traffic lights vs street lights (灯)",
        ("Dx1", "D1"): "bus passes for the elderly vs a bus stop (公交, 老人)",
        ("Fx1", "F1"): "snacks sold near a school vs school-gate traffic (实验小学, 孩子)",
        ("Hx1", "H1"): "a railing on the riverside path vs river pollution (东河)",
        ("S2", "A1"): "parking at the market vs stalls at the market (菜市场)",
        ("S4", "N1"): "square-dance noise vs building-site noise (噪音)",
    }
    for (a, b), why in look_alikes.items():
        assert suggestion_similarity(BY_ID[a], BY_ID[b]) < DEFAULT_THRESHOLD, why


def test_the_same_problem_in_two_places_counts_as_similar():
    # Similarity reads what a suggestion is about, not where: the caller narrows the
    # candidates by area (town, grid) when that matters.
    elsewhere = SuggestionText(
        "x", "小区东门口路灯不亮", "东门口的路灯坏了一个星期。", "维修路灯。"
    )
    assert suggestion_similarity(elsewhere, BY_ID["C1"]) >= DEFAULT_THRESHOLD


# --- find_similar ---------------------------------------------------------------------------


def test_every_paraphrase_finds_its_group_and_nothing_else():
    index = build_index(ITEMS)
    for item in ITEMS:
        found = find_similar(item, index, limit=None)
        assert all(same_issue(item.id, other) for other, _ in found), (item.id, found)
        if ISSUE[item.id]:
            assert found, item.id


def test_look_alikes_find_nothing():
    for item in ITEMS:
        if ISSUE[item.id] is None:
            assert find_similar(item, ITEMS) == [], item.id


def test_a_new_paraphrase_finds_the_suggestions_already_registered():
    new = SuggestionText(
        "new",
        topic="阳光花园门口能不能设公交站",
        reason="阳光花园住户去坐公交车要走很远的路",
        measures="调整公交线路，在阳光花园设站",
    )
    found = find_similar(new, ITEMS)
    assert [id_ for id_, _ in found][:3] == sorted(
        [id_ for id_, _ in found][:3], key=lambda id_: -dict(found)[id_]
    )
    assert {id_ for id_, _ in found} == {"D1", "D2", "D3"}


def test_results_are_sorted_best_first_and_limited():
    found = find_similar(BY_ID["B1"], ITEMS, threshold=0.0, limit=5)
    assert len(found) == 5
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert found[0][0] in {"B2", "B3", "B4"}


def test_the_search_leaves_out_the_suggestion_itself():
    found = find_similar(BY_ID["C1"], ITEMS, limit=None)
    assert "C1" not in {id_ for id_, _ in found}
    assert {id_ for id_, _ in found} == {"C2", "C3"}


def test_index_scores_match_the_pairwise_score():
    index = build_index(ITEMS)
    for id_, score in find_similar(BY_ID["E1"], index, threshold=0.0, limit=None):
        assert score == pytest.approx(suggestion_similarity(BY_ID["E1"], BY_ID[id_]))


def test_the_topic_weighs_more_than_the_reason_or_the_measures():
    base = SuggestionText("base", "老旧小区加装电梯", "六楼老人下楼困难", "出台补贴政策")
    same_topic = SuggestionText("t", "老旧小区加装电梯", "停车场收费太贵", "降低收费标准")
    same_reason = SuggestionText("r", "停车场收费太贵", "六楼老人下楼困难", "降低收费标准")
    same_measures = SuggestionText("m", "停车场收费太贵", "车位不够用", "出台补贴政策")
    topic = suggestion_similarity(base, same_topic)
    reason = suggestion_similarity(base, same_reason)
    measures = suggestion_similarity(base, same_measures)
    assert topic > reason > measures > 0


def test_an_index_can_add_replace_and_remove_suggestions():
    index = SimilarityIndex()
    index.add(SuggestionText(1, "人民路路灯不亮"))
    index.add(SuggestionText(2, "广场舞噪音扰民"))
    query = SuggestionText("q", "人民路的路灯坏了")
    assert [id_ for id_, _ in index.search(query)] == [1]
    index.add(SuggestionText(1, "共享单车乱停乱放"))  # the same id replaces the text
    assert index.search(query) == []
    index.add(SuggestionText(3, "人民路路灯晚上不亮"))
    index.remove(3)
    assert index.search(query) == []
    assert len(index) == 2 and 2 in index and 3 not in index


# --- group_similar ---------------------------------------------------------------------------


def test_grouping_returns_one_group_per_issue_and_leaves_look_alikes_alone():
    assert group_similar(ITEMS) == expected_groups()


def test_grouping_chains_through_a_common_paraphrase():
    # A1 and A2 fall just below the threshold, but both are close to A3 and A4.
    assert suggestion_similarity(BY_ID["A1"], BY_ID["A2"]) < DEFAULT_THRESHOLD
    groups = group_similar([BY_ID[id_] for id_ in ("A1", "A2", "A3")])
    assert groups == [["A1", "A2", "A3"]]


def test_grouping_does_not_depend_on_the_input_order_except_for_the_order_of_output():
    shuffled = ITEMS[:]
    random.Random(311).shuffle(shuffled)
    groups = group_similar(shuffled)
    assert {frozenset(group) for group in groups} == {
        frozenset(group) for group in expected_groups()
    }
    position = {item.id: i for i, item in enumerate(shuffled)}
    for group in groups:
        assert group == sorted(group, key=position.get)
    assert [group[0] for group in groups] == sorted(
        (group[0] for group in groups), key=position.get
    )


def test_grouping_counts_a_repeated_id_once_and_handles_nothing():
    c1 = BY_ID["C1"]
    assert group_similar([c1, c1, BY_ID["C2"]]) == [["C1", "C2"]]
    assert group_similar([]) == []
