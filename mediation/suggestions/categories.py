"""Subject areas of people's suggestions; also the Open311 services (one per area)."""

from __future__ import annotations

from mediation import i18n

# Suggestion categories, the Open311 services: (code, Chinese name, English name,
# Chinese description, keywords, group, code of the demo department that usually handles it).
SUGGESTION_CATEGORIES: list[tuple[str, str, str, str, str, str, str]] = [
    (
        "urban_construction",
        "城乡建设",
        "Urban and rural construction",
        "住房保障、老旧小区改造、加装电梯、市政设施、农村人居环境。",
        "老旧小区, 加装电梯, 市政设施, 雨污管网, 住房",
        "城乡建设与管理",
        "zjj",
    ),
    (
        "transport",
        "交通出行",
        "Transport",
        "道路通行、公交线路与站点、停车设施、交通安全设施。",
        "公交, 停车, 道路, 红绿灯, 斑马线",
        "城乡建设与管理",
        "jtj",
    ),
    (
        "city_management",
        "市容管理",
        "City appearance and enforcement",
        "占道经营、违章搭建、油烟噪声扰民、垃圾分类、公共厕所。",
        "占道经营, 违章搭建, 垃圾分类, 市容, 执法",
        "城乡建设与管理",
        "zfj",
    ),
    (
        "environment",
        "生态环境",
        "Environment",
        "河道水质、大气与扬尘、工业异味、农村生活污水。",
        "河道, 水质, 扬尘, 异味, 污染",
        "生态环境",
        "sthj",
    ),
    (
        "employment",
        "就业社保",
        "Jobs and social security",
        "就业创业、技能培训、社会保险、劳动者权益保障。",
        "就业, 培训, 社保, 工资, 新就业形态",
        "民生保障",
        "rsj",
    ),
    (
        "market",
        "市场监管",
        "Markets and consumer safety",
        "食品安全、计量与价格、预付卡消费、特种设备安全。",
        "食品安全, 公平秤, 预付卡, 电梯, 消费",
        "民生保障",
        "scjgj",
    ),
    (
        "health_elderly",
        "医疗养老",
        "Health and elderly care",
        "社区医疗、居家养老、老年助餐、无障碍设施。",
        "养老, 助餐, 卫生服务站, 医疗",
        "民生保障",
        "",
    ),
    (
        "education",
        "教育文化",
        "Education and culture",
        "学位与托育、校园周边、公共文化设施。",
        "幼儿园, 托育, 学校, 图书馆, 文化礼堂",
        "民生保障",
        "",
    ),
    (
        "community",
        "基层治理",
        "Community governance",
        "社区服务、物业管理、业委会、网格治理。",
        "物业, 业委会, 社区服务, 网格",
        "基层治理",
        "zjj",
    ),
    (
        "economy",
        "经济发展",
        "Economy and business environment",
        "营商环境、政务服务、产业与农业发展。",
        "营商环境, 政务服务, 企业, 农业",
        "经济发展",
        "",
    ),
    ("other", "其他", "Other", "不属于以上类别的意见建议。", "其他", "其他", ""),
]
CATEGORY_CODES = frozenset(c[0] for c in SUGGESTION_CATEGORIES)


def category_name(code: str) -> str | None:
    for c in SUGGESTION_CATEGORIES:
        if c[0] == code:
            return c[2] if i18n.get_locale() == "en" else c[1]
    return None


def category_choices() -> list[tuple[str, str]]:
    """(code, name in the current locale) for a select."""
    english = i18n.get_locale() == "en"
    return [(c[0], c[2] if english else c[1]) for c in SUGGESTION_CATEGORIES]
