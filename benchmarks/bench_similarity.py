"""Benchmark of suggestion similarity: index build and look-up time on synthetic corpora.

Run on demand: ``.venv/bin/python benchmarks/bench_similarity.py [sizes...]``
(default sizes 10000 and 50000). The corpus is generated from a fixed seed out of places,
objects, problems and stock phrases, so common words recur as they do in real intake.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from mediation.suggestions.similarity import (
    SuggestionText,
    build_index,
    find_similar,
    group_similar,
)

PLACES = (
    "人民路 解放路 中山路 城东 城西 新华街 东湖社区 西门社区 阳光花园 幸福里 "
    "实验小学 第二中学 滨河公园 中心广场 东河 南河 村口 菜市场 农贸市场 汽车站 "
    "火车站 人民医院 体育馆 文化宫 工业园区 开发区 老街 新村 花园小区 锦绣家园"
).split()
OBJECTS = (
    "路灯 电梯 公交站 公交线路 垃圾投放点 垃圾桶 停车位 摊贩 红绿灯 斑马线 减速带 "
    "人行道 盲道 下水道 井盖 健身器材 公共厕所 老年食堂 助餐点 充电桩 监控 护栏 "
    "绿化带 树木 河道 广场舞 工地 菜市场 快递柜 共享单车 电动车 消防通道 楼道"
).split()
PROBLEMS = (
    "不亮 坏了 发臭 太少 拥堵 占道 噪音太大 没人管 乱停乱放 积水 破损 缺失 "
    "太远 不方便 存在隐患 收费太贵 排队太久 堵塞 漏水 倒塌 太吵 很脏"
).split()
STOCK = (
    "建议 希望 关于 相关部门 尽快 解决 加强管理 我们 居民 反映 问题 能否 请 "
    "每天 晚上 早上 严重影响 出行 安全 生活"
).split()
MEASURES = (
    "增设 维修 更换 清理 整治 调整 规划 安排人员 定期检查 加强巡查 划定区域 "
    "出台政策 给予补贴 设置标志 延长时间 增加班次 迁移位置 集中管理"
).split()


def synthetic_corpus(size: int, seed: int = 311) -> list[SuggestionText]:
    rng = random.Random(seed)
    items = []
    for i in range(size):
        place, thing, problem = rng.choice(PLACES), rng.choice(OBJECTS), rng.choice(PROBLEMS)
        topic = f"{rng.choice(STOCK)}{place}{thing}{problem}"
        # Mostly about the topic's own place and thing, with asides about others.
        reason = "，".join(
            f"{place if rng.random() < 0.6 else rng.choice(PLACES)}"
            f"{thing if rng.random() < 0.6 else rng.choice(OBJECTS)}"
            f"{rng.choice(PROBLEMS)}{rng.choice(STOCK)}"
            for _ in range(rng.randint(2, 5))
        )
        measures = "，".join(
            f"{rng.choice(MEASURES)}{rng.choice(OBJECTS)}" for _ in range(rng.randint(1, 3))
        )
        items.append(SuggestionText(i, topic, f"{place}{thing}{problem}，{reason}", measures))
    return items


def bench(size: int, queries: int = 200) -> None:
    corpus = synthetic_corpus(size)
    started = time.perf_counter()
    index = build_index(corpus)
    built = time.perf_counter() - started

    probes = synthetic_corpus(queries, seed=size + 1)
    timings = []
    hits = 0
    for probe in probes:
        started = time.perf_counter()
        hits += len(find_similar(probe, index))
        timings.append(time.perf_counter() - started)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{size:>7,} suggestions: index built in {built:6.2f} s; find_similar median "
        f"{median * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, worst {timings[-1] * 1000:6.1f} ms "
        f"({hits / queries:.1f} hits per query)"
    )


def bench_grouping(size: int) -> None:
    corpus = synthetic_corpus(size, seed=7)
    started = time.perf_counter()
    groups = group_similar(corpus)
    elapsed = time.perf_counter() - started
    largest = max(len(group) for group in groups)
    print(
        f"{size:>7,} suggestions grouped in {elapsed:6.2f} s "
        f"({len(groups):,} groups, the largest of {largest})"
    )


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 50_000]
    for size in sizes:
        bench(size)
    bench_grouping(1_000)
