"""Realistic sample contexts for the print templates, used by tests, the benchmark and previews.

The shape of the agreement context is documented at the top of
``templates/documents/agreement.html``.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

SAMPLE_VERIFY_BASE = "https://tiaojie.pinghu.example.gov.cn/verify/"

_AGREEMENT = {
    "committee": "平湖市当湖街道人民调解委员会",
    "number": "（2026）当湖调字第12号",
    "parties": [
        {
            "role": "申请人",
            "kind": "person",
            "name": "王堃",
            "gender": "男",
            "ethnicity": "汉族",
            "birth_date": date(2004, 5, 12),
            "id_number_display": "330482200405120017",
            "occupation": "嘉兴南湖学院学生",
            "address": "浙江省平湖市当湖街道东湖路88号3幢402室",
            "phone": "13857301234",
        },
        {
            "role": "申请人",
            "kind": "person",
            "name": "张𠮷昇",
            "gender": "男",
            "ethnicity": "汉族",
            "birth_date": date(2004, 11, 3),
            "id_number_display": "33048220041103003X",
            "occupation": "嘉兴南湖学院学生",
            "address": "浙江省平湖市当湖街道东湖路88号3幢402室",
            "phone": "13957305678",
        },
        {
            "role": "被申请人",
            "kind": "person",
            "name": "李玥",
            "gender": "女",
            "ethnicity": "汉族",
            "birth_date": date(1988, 2, 21),
            "id_number_display": "330482198802210026",
            "occupation": "个体经营",
            "address": "浙江省平湖市当湖街道新华中路120弄6号",
            "phone": "13757309876",
        },
    ],
    "facts": [
        "2025年9月1日，申请人王堃、张𠮷昇向被申请人李玥（该房屋承租人，经房东同意转租）转租"
        "平湖市当湖街道东湖路88号3幢402室房屋一间，月租金1,200元，押金1,500元，租期至2026年6月30日。",
        "2026年2月，因实习地点变更，三方协商提前解除转租关系，二申请人于2月28日搬离并结清租金。"
        "被申请人以墙面污损、门锁损坏为由拒绝退还押金，协商未果，申请人于3月2日申请调解。",
    ],
    "disputes": [
        "被申请人是否应当退还押金1,500元；房屋墙面污损、门锁损坏的责任及修复费用如何承担。",
    ],
    "responsibilities": [
        "经现场查看，墙面污损系正常使用痕迹，门锁损坏系锁芯老化所致，二申请人对此不负赔偿责任；"
        "被申请人扣留押金缺乏依据，应予退还。二申请人搬离时未按约定交还全部钥匙，负有相应责任。",
    ],
    "clauses": [
        {
            "obligor": "李玥",
            "obligee": "王堃、张𠮷昇",
            "obligation": "退还房屋押金",
            "amount": Decimal("1500"),
            "method": "银行转账至王堃本人名下账户",
            "place": "平湖市当湖街道人民调解委员会",
            "deadline": date(2026, 3, 20),
        },
        {
            "obligor": "王堃、张𠮷昇",
            "obligee": "李玥",
            "obligation": "交还房屋钥匙两把",
            "method": "当面交付",
            "place": "平湖市当湖街道东湖路88号3幢402室",
            "deadline": date(2026, 3, 15),
        },
        {
            "text": "本协议履行完毕后，各方就本次转租押金纠纷再无其他争议。",
        },
    ],
    "mediators": ["陈𡈽", "沈秀英"],
    "copies": 4,
    "signed_on": date(2026, 3, 12),
    "verification": {
        "code": "7K3M-Q9TX",
        "url": SAMPLE_VERIFY_BASE + "7K3M-Q9TX",
        "digest": "9f2c4e7a1b3d5f60",
    },
}


def sample_agreement_context() -> dict:
    """A deposit dispute: two students against their sublessor (二房东) in 当湖街道, 平湖市.

    Names carry rare characters on purpose (堃, 玥, 昇, and 𠮷 U+20BB7 / 𡈽 U+2123D from CJK
    Extension B). Returns a fresh deep copy, so callers may modify it.
    """
    return {"agreement": copy.deepcopy(_AGREEMENT)}


def long_agreement_context(clause_count: int = 125) -> dict:
    """The sample agreement with many clauses (125 give 9 A4 pages): a long document for the
    benchmark and the pagination tests."""
    context = sample_agreement_context()
    agreement = context["agreement"]
    base = agreement["clauses"][:2]
    clauses = []
    for index in range(clause_count):
        clause = copy.deepcopy(base[index % 2])
        if clause.get("amount") is not None:
            clause["amount"] = Decimal(100 + 37 * index) + Decimal("0.50") * (index % 2)
        clauses.append(clause)
    clauses.append(agreement["clauses"][-1])
    agreement["clauses"] = clauses
    agreement["facts"] = agreement["facts"] * 3
    return context
