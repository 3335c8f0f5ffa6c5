"""Similarity of people's suggestions in Chinese: find look-alikes at registration, group them.

No word segmenter is needed:

1. ``normalize`` folds width and case and drops spaces, punctuation and symbols.
2. A small domain thesaurus maps variants onto one concept word (农贸市场/菜场 → 菜市场,
   臭味/异味/发臭 → 异味), so trivial wording differences disappear.
3. The text is cut at function words and stock phrases of suggestions (建议, 希望, 关于,
   的, 相关部门 …), which are dropped, and at concept words and generic words.
4. Features: a concept word counts as one feature; the rest become character bigrams (a
   one-character piece becomes a unigram; very short texts also count every character);
   words nearly every suggestion uses (小区, 居民, 安全, 管理 …) are kept with a low
   weight. These fixed weights stand in for IDF, so a score means the same thing whether
   the system holds thirty suggestions or fifty thousand.

A suggestion's topic, main reason and measures each become a unit vector; they are added
with weights (topic heaviest) into one vector, so a topic can also match the other
suggestion's reason. The score is the cosine of the two vectors.

``SimilarityIndex`` keeps the vectors and an inverted index on features, so a search only
touches the suggestions that share at least one feature with the new one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass

# Placed on the corpus in tests/suggestions/test_similarity.py (48 suggestions: 14 issues
# each raised 2-4 times in different words, 10 look-alikes sharing words with them). Every
# suggestion's closest paraphrase scores 0.315 or more; suggestions on different issues score
# 0.244 at most. The threshold sits in the middle of that gap.
DEFAULT_THRESHOLD = 0.28

# Weights of the parts of a suggestion. Parts are unit vectors before weighting, so when
# the parts of two suggestions do not overlap each other, the topic carries 1/(1+.64+.36)
# = half of the score, the main reason a third and the measures the rest.
FIELD_WEIGHTS: Mapping[str, float] = {"topic": 1.0, "reason": 0.8, "measures": 0.6}

GENERIC_WEIGHT = 0.3  # words nearly every suggestion uses
SHARED_CONCEPT_WEIGHT = 0.6  # see SHARED_CONCEPTS
UNIGRAM_WEIGHT = 0.5  # a lone character says less than a pair
SHORT_TEXT = 3  # a text with fewer bigrams than this also counts its single characters

# Function words and stock phrases of the genre: cut here and drop. Longest match wins,
# so 现在 is dropped whole rather than leaving 现 behind after 在.
STOP_PHRASES: tuple[str, ...] = tuple(
    """
    相关部门 有关部门 政府部门 职能部门 有关单位 相关单位 领导 政府
    建议 希望 恳请 请求 呼吁 要求 关于 问题 能否 是否 可否 能不能 可不可以 请 麻烦 谢谢 感谢
    我们 我 你们 大家 他们 本人 自己
    的 了 是 在 和 与 及 或 对 把 被 让 给 这 那 个 些 很 也 都 就 还 又 再 而 但 并
    着 过 吗 呢 吧 啊 之 其 以
    一个 一些 一下 这个 那个 这些 那些 这里 那里 这样 那样
    进行 能够 可以 应该 应当 需要 尽快 及时 给予 予以 加以 目前 现在 正在 已经
    由于 因为 所以 但是 而且 并且 如果 还是 就是 还有 以及 或者 对于 针对 为了 通过
    非常 比较 特别 十分 有些 有的 一直 总是 经常 于是 其他 其它 个人
    对策 措施 办法 方面 情况
    """.split()
)

# Words of the genre too common to tell two suggestions apart: kept, but weighed lightly.
# 老人 and 孩子 are also thesaurus concepts: their variants fold onto them first.
GENERIC_WORDS: tuple[str, ...] = tuple(
    """
    小区 社区 街道 村里 居民 群众 市民 百姓 老百姓 住户 业主 老人 孩子 家里
    附近 周边 周围 楼下 门口 路边 我市 我县 我区 本地 当地
    出行 安全 隐患 方便 不便 生活 环境 质量 影响 严重
    解决 加强 管理 增加 增设 设置 完善 改善 提高 提升 整治 治理 规范 落实 处理
    存在 反映 考虑 保障 服务
    每天 每次 时候 时间 早上 晚上 高峰 困难 不足 太少
    """.split()
)

# The domain thesaurus, one concept a line: "concept: variant variant …". Extend it with
# words seen in real suggestions; the tests check that it stays consistent.
THESAURUS = """
菜市场: 农贸市场 菜场 菜市
摊贩: 流动摊贩 小摊贩 小贩 摆摊 地摊 摊位 小摊
占道: 占用道路 占用人行道 占用马路 占路
道路: 马路 路面
车位: 停车位 停车泊位 泊位
乱停: 乱停乱放 乱停车 违停 违章停车
加装电梯: 电梯加装 装电梯 安装电梯 增设电梯
爬楼: 爬楼梯 上下楼
老旧小区: 老小区 旧小区
老旧: 老房子
路灯: 照明设施 照明 街灯 灯光 灯
红绿灯: 信号灯 交通灯 红灯
故障: 不亮 不能亮 损坏 坏了 坏掉
昏暗: 黑灯瞎火 漆黑 一片黑 黑漆漆 很黑 太黑
公交: 公交车 公共汽车 巴士 班车
公交路线: 公交线路
路线: 线路
公交站: 公交站台 公交站点
站点: 站台 车站
班次: 发车间隔 间隔
垃圾点: 垃圾桶 垃圾箱 垃圾房 垃圾投放点 垃圾分类投放点 分类投放点 投放点 垃圾分类点 垃圾站 垃圾亭
异味: 臭味 臭气 气味难闻 难闻 发臭 臭气熏天 恶臭 黑臭 臭
清理: 清运 清洗 保洁
接送: 接送孩子 接孩子 送孩子 上下学
家长: 家长车辆
学校门口: 校门口 校门
拥堵: 堵车 交通堵塞 拥挤 堵塞 堵得 水泄不通 堵
孩子: 小学生 学生 小孩 儿童
老年食堂: 长者食堂 老人食堂 助餐点 助餐服务 爱心食堂 社区食堂 老年助餐
就餐: 吃饭难 吃饭 用餐
老人: 老年人 长者 老年 独居老人
河道: 河浜 小河 河流 河水 水体
垃圾: 漂浮物
淤积: 淤泥 清淤
补贴: 补助 资金补助 资助
狗: 犬 宠物狗
狗粪: 狗屎 狗便 粪便
噪音: 噪声 吵闹 太吵 吵
楼道: 楼梯间 楼梯口
"""


def _parse_thesaurus(text: str) -> dict[str, str]:
    synonyms: dict[str, str] = {}
    for line in text.strip().splitlines():
        concept, variants = line.split(":")
        for variant in variants.split():
            synonyms[variant] = concept.strip()
    return synonyms


SYNONYMS: Mapping[str, str] = _parse_thesaurus(THESAURUS)
CONCEPTS = frozenset(SYNONYMS.values())
# Concepts that many different issues share, saying what is wrong (smell, breakdown, jam,
# noise) or roughly where (market, school gate, road, buses): they weigh less than the things
# an issue is about (路灯, 加装电梯, 垃圾点, 老年食堂 …).
SHARED_CONCEPTS = frozenset(
    {"异味", "故障", "拥堵", "昏暗", "乱停", "噪音", "菜市场", "学校门口", "道路", "公交"}
)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


# Concepts map to themselves, so that 菜市场 is read whole, not as 菜市 (→ 菜市场) + 场.
_CANONICAL = {**{concept: concept for concept in CONCEPTS}, **SYNONYMS}
_CANONICAL_RE = re.compile(_alternation(_CANONICAL))
_STOP = frozenset(STOP_PHRASES)
_GENERIC = frozenset(GENERIC_WORDS)
_SPLIT_RE = re.compile(f"({_alternation([*_STOP, *_GENERIC, *CONCEPTS])})")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

Vector = dict[str, float]


def normalize(text: str | None) -> str:
    """Width- and case-folded text with every space, punctuation mark and symbol removed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def canonicalize(text: str) -> str:
    """Normalised text with every thesaurus variant replaced by its concept word."""
    return _CANONICAL_RE.sub(lambda m: _CANONICAL[m.group()], normalize(text))


def features(text: str | None) -> Vector:
    """The weighted features of a text: concept words, generic words, bigrams, characters."""
    counts: dict[str, float] = {}
    runs: list[str] = []

    def add(feature: str, weight: float) -> None:
        counts[feature] = counts.get(feature, 0.0) + weight

    for piece in _SPLIT_RE.split(canonicalize(text or "")):
        if not piece or piece in _STOP:
            continue
        if piece in _GENERIC:
            add(piece, GENERIC_WEIGHT)
        elif piece in CONCEPTS:
            add(piece, SHARED_CONCEPT_WEIGHT if piece in SHARED_CONCEPTS else 1.0)
        elif len(piece) == 1:
            add(piece, UNIGRAM_WEIGHT)
        else:
            runs.append(piece)
            for i in range(len(piece) - 1):
                add(piece[i : i + 2], 1.0)
    if sum(len(run) - 1 for run in runs) < SHORT_TEXT:
        for run in runs:
            for ch in run:
                add(ch, UNIGRAM_WEIGHT)
    if all(f in _GENERIC for f in counts):
        return {}  # nothing but stock words: nothing to tell this text by
    # Sublinear: a word said three times is not three times the evidence.
    return {f: w if w <= 1.0 else 1.0 + math.log(w) for f, w in counts.items()}


def _unit(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(math.fsum(w * w for w in vector.values()))
    return {f: w / norm for f, w in vector.items()} if norm else {}


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two unit vectors, summed in a fixed order so that it is exactly symmetric."""
    if len(a) > len(b):
        a, b = b, a
    shared = sorted(f for f in a if f in b)
    return _clamp(math.fsum(a[f] * b[f] for f in shared))


def _clamp(score: float) -> float:
    # Rounded so that a text compared with itself scores exactly 1, not 0.9999999999999998.
    return round(min(1.0, max(0.0, score)), 9)


def similarity(a: str | None, b: str | None) -> float:
    """How alike two texts are, from 0 (nothing shared) to 1 (the same after normalising)."""
    return _cosine(_unit(features(a)), _unit(features(b)))


@dataclass(frozen=True)
class SuggestionText:
    """The parts of a suggestion that similarity looks at; ``id`` is whatever the caller uses."""

    id: Hashable
    topic: str = ""
    reason: str = ""
    measures: str = ""


def vector_of(item: SuggestionText) -> Vector:
    """One unit vector for a suggestion: its parts' unit vectors, weighted and added."""
    combined: dict[str, float] = {}
    for name, weight in FIELD_WEIGHTS.items():
        for feature, value in _unit(features(getattr(item, name))).items():
            combined[feature] = combined.get(feature, 0.0) + weight * value
    return _unit(combined)


def suggestion_similarity(a: SuggestionText, b: SuggestionText) -> float:
    """The score ``find_similar`` gives the pair: symmetric, from 0 to 1."""
    return _cosine(vector_of(a), vector_of(b))


class SimilarityIndex:
    """Suggestions' vectors with an inverted index on features, for fast look-ups."""

    def __init__(self) -> None:
        self._ids: list[Hashable] = []
        # Per feature: positions and weights in two compact arrays (12 bytes a posting, not
        # ~100 for a tuple of two objects): a county's year of suggestions stays in tens of MB.
        self._postings: dict[str, tuple[array[int], array[float]]] = {}
        self._positions: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._positions

    def add(self, item: SuggestionText) -> None:
        """Index a suggestion; adding an id again replaces its earlier text."""
        self.remove(item.id)
        vector = vector_of(item)
        position = len(self._ids)
        self._ids.append(item.id)
        self._positions[item.id] = position
        for feature, weight in vector.items():
            postings = self._postings.get(feature)
            if postings is None:
                postings = self._postings[feature] = (array("i"), array("d"))
            postings[0].append(position)
            postings[1].append(weight)

    def remove(self, item_id: Hashable) -> None:
        """Forget a suggestion; its postings stay behind but are skipped."""
        position = self._positions.pop(item_id, None)
        if position is not None:
            self._ids[position] = _REMOVED

    def scores(self, item: SuggestionText) -> Iterator[tuple[Hashable, float]]:
        """(id, score) for every indexed suggestion sharing a feature with ``item``."""
        dots: dict[int, float] = {}
        get = dots.get
        for feature, weight in vector_of(item).items():
            postings = self._postings.get(feature)
            if postings is None:
                continue
            for position, other in zip(postings[0], postings[1], strict=True):
                dots[position] = get(position, 0.0) + weight * other
        for position, dot in dots.items():
            item_id = self._ids[position]
            if item_id is not _REMOVED:
                yield item_id, _clamp(dot)

    def search(
        self,
        item: SuggestionText,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int | None = 10,
    ) -> list[tuple[Hashable, float]]:
        """The indexed suggestions scoring at least ``threshold`` against ``item``, best first.

        The suggestion itself (same id) is left out; ties keep the order of indexing.
        """
        found = [
            (item_id, score)
            for item_id, score in self.scores(item)
            if score >= threshold and item_id != item.id
        ]
        found.sort(key=lambda pair: (-pair[1], self._positions[pair[0]]))
        return found if limit is None else found[:limit]


class _Removed:
    def __repr__(self) -> str:
        return "<removed>"


_REMOVED = _Removed()


def build_index(existing: Iterable[SuggestionText]) -> SimilarityIndex:
    """Precompute the vectors and the inverted index of the suggestions already held."""
    index = SimilarityIndex()
    for item in existing:
        index.add(item)
    return index


def find_similar(
    new: SuggestionText,
    existing: Iterable[SuggestionText] | SimilarityIndex,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int | None = 10,
) -> list[tuple[Hashable, float]]:
    """Suggestions like ``new`` as (id, score), highest score first, at most ``limit``.

    Pass a ``SimilarityIndex`` (``build_index``) when searching the same corpus again and
    again; a plain iterable is indexed on the fly.
    """
    index = existing if isinstance(existing, SimilarityIndex) else build_index(existing)
    return index.search(new, threshold=threshold, limit=limit)


def group_similar(
    items: Iterable[SuggestionText], threshold: float = DEFAULT_THRESHOLD
) -> list[list[Hashable]]:
    """Partition suggestions into groups linked by scores of at least ``threshold``.

    Groups are connected components (A~B and B~C put A, B and C together). Every id
    appears in exactly one group, singletons included; members keep the input order and
    groups are ordered by their first member, so the result is deterministic. A repeated
    id counts once, with its first text.

    Components chain: in a large set with many suggestions of one kind (street lights
    across a county) everything of that kind ends up together. Group a narrowed set — one
    town or grid, one thematic collection, one period — and let staff confirm.
    """
    items = list(items)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    index = SimilarityIndex()
    position_of: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        if item.id in position_of:
            continue
        # Each item is compared with the ones before it, so every pair is scored once.
        for other_id, _score in index.search(item, threshold=threshold, limit=None):
            a, b = root(i), root(position_of[other_id])
            if a != b:
                parent[max(a, b)] = min(a, b)
        index.add(item)
        position_of[item.id] = i

    groups: dict[int, list[Hashable]] = {}
    for item_id, i in position_of.items():
        groups.setdefault(root(i), []).append(item_id)
    return [groups[key] for key in sorted(groups)]
