"""Demo disputes for the demo county: ~300 believable cases with consistent timelines.

Every case goes through the real services (``register_case``, ``transition_case``,
``assign_mediator``...), acting as the person who would do it, so each has the same
``CaseEvent`` timeline a real one would. Afterwards the clocks are set back: the case is
registered some time in the last ten months and every event, notification and date of the
case moves to when that step happened. Finally the real deadline sweep runs, so the few
cases left lying around are overdue (and escalated) exactly as the policy says.

The canonical story (DESIGN.md §1) is one of them: a student's deposit held back by a
sublessor (二房东) in 东湖社区第1网格, found through the police platform and mediated by
the grid worker and the resident police officer together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mediation.accounts.services import CurrentUser, load_user
from mediation.cases import assignment, services, workflow
from mediation.cases.submissions import IntakeSubmission
from mediation.cases.tables import Case, CaseEvent, CaseMediator, Notification
from mediation.clock import county_zone, local_date, local_now
from mediation.db import bulk_write_transaction
from mediation.grid.tables import Grid, Mediator, Staff, TeamMember
from mediation.validators import id_check_char

DEMO_COUNT = 300
STORY_KEY = "demo-story-deposit"
STORY_SUMMARY = "大学生提前退租，二房东拒不退还3000元押金"
STORY_GRID = "330482001001-01"
TOWN_CENTRE_TOWN = "330482001"  # centre1 staffs the 当湖街道 centre; centre2 the county's

# Final statuses as shares of the demo; what is left over is closed. Open cases with a
# mediator count towards the mediators' loads, so they stay well under the total capacity
# (tests and people trying the demo still need free mediators).
STATUS_SHARES = [
    ("registered", 0.04),
    ("accepted", 0.035),
    ("declined", 0.06),
    ("mediating", 0.027),
    ("settled", 0.007),
    ("terminated", 0.01),
    ("performing", 0.01),
    ("performed", 0.01),
    ("breached", 0.007),
]
LEVEL_SHARES = [("county", 0.03), ("town", 0.07), ("community", 0.12)]
SOURCE_WEIGHTS = {
    "door_knocking": 30,
    "walk_in": 24,
    "phone": 10,
    "police_referral": 10,
    "hotline_12345": 10,
    "direct_report_point": 6,
    "suggestion": 3,
    "referral": 7,
}

# ---------------------------------------------------------------- people and places

SURNAMES = "沈陆顾朱徐张王钱金屠褚俞陈李刘杨黄吴周孙马胡郭何林罗郑高冯蒋蔡潘姚戴邵汤蒋"
MALE = (
    "建华 国强 卫东 志明 金龙 阿根 建林 永康 伟 磊 杰 斌 浩然 宇轩 俊杰 子豪 海峰 国平 "
    "荣富 根宝 堃 昇 喆 赟 翀 文彬 晓东 立新 振华 德明 家豪 雪林 金海 伟民"
).split()
FEMALE = (
    "美娟 秀英 雪芬 丽萍 玉珍 桂英 金妹 海燕 晓燕 静 敏 芳 玥 珺 旻 婕 欣怡 梓萱 一诺 "
    "佳琪 雨桐 慧琴 月娥 小红 彩凤 玲 玥彤 菊芳"
).split()
# Rare characters a system must store, show, search and print (DESIGN.md §4).
SPECIAL_NAMES = [
    ("林堃", "M"),
    ("沈玥", "F"),
    ("顾昇", "M"),
    ("𠮷永庆", "M"),
    ("陆喆", "M"),
    ("金赟", "M"),
    ("屠旻", "F"),
    ("褚珺", "F"),
    ("钱芃", "F"),
    ("俞淼", "M"),
]
LOCAL_CODES = ["330482", "330482", "330482", "330421", "330402", "330481"]
MIGRANT_CODES = ["342422", "412726", "513030", "522427", "362330", "421127"]
BIRTH_YEARS = {
    "elder": (1938, 1956),
    "adult": (1962, 1990),
    "young": (1988, 2001),
    "student": (2003, 2007),
}
MOBILE_PREFIXES = [
    "130",
    "131",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "187",
    "188",
    "189",
    "198",
]

URBAN_PLACES = {
    "东湖社区": ["梅园小区", "东湖花苑", "东湖路"],
    "西门社区": ["西门新村", "胜利路", "解放西路"],
    "南市社区": ["南市新村", "南河头", "百寿路"],
    "钟埭社区": ["钟埭新村", "钟埭老街", "兴钟路"],
    "新埭社区": ["新埭新村", "新埭老街", "泖口路"],
}
# The post of an organisation's legal representative (person in charge), by kind.
ORG_POSTS = {
    "shop": "经营者",
    "restaurant": "经营者",
    "clinic": "主任",
    "dental": "主任",
    "farm": "场主",
    "village": "村委会主任",
}
ORG_TEMPLATES = {
    "property": "平湖市{word}物业服务有限公司",
    "builder": "嘉兴{word}建筑劳务有限公司",
    "factory": "平湖市{word}服装有限公司",
    "shop": "{street}{word}烧烤店",
    "restaurant": "{street}{word}餐饮店",
    "gym": "平湖{word}健身会所",
    "store": "平湖市{word}家电商行",
    "clinic": "平湖{word}诊所",
    "dental": "平湖{word}口腔门诊部",
    "farm": "平湖市{word}家庭农场",
    "insurer": "中国人民财产保险股份有限公司平湖支公司",
    "village": "{village}村民委员会",
    "decorator": "平湖市{word}装饰工程有限公司",
    "workshop": "平湖市{word}箱包加工厂",
    "courier": "{street}{word}快递驿站",
}
ORG_WORDS = ["恒达", "新兴", "金利", "顺发", "嘉和", "宏远", "瑞丰", "永盛", "康泰", "华联"]


@dataclass
class GridInfo:
    id: int
    code: str
    name: str
    number: int  # 1..3 within its community
    community: str
    community_code: str
    town: str
    town_code: str
    is_village: bool
    path: str = ""


@dataclass
class People:
    """Generates parties: names (some rare characters), valid ID numbers, phones."""

    rng: random.Random
    count: int = 0
    used_phones: set[str] = field(default_factory=set)

    def name(self, gender: str | None = None) -> tuple[str, str]:
        self.count += 1
        if self.count % 9 == 4:
            special = SPECIAL_NAMES[(self.count // 9) % len(SPECIAL_NAMES)]
            if gender is None or special[1] == gender:
                return special
        gender = gender or self.rng.choice("MF")
        given = self.rng.choice(MALE if gender == "M" else FEMALE)
        return self.rng.choice(SURNAMES) + given, gender

    def id_number(self, gender: str, age: str = "adult", migrant: bool = False) -> str:
        region = self.rng.choice(MIGRANT_CODES if migrant else LOCAL_CODES)
        lo, hi = BIRTH_YEARS[age]
        born = date(self.rng.randint(lo, hi), 1, 1) + timedelta(days=self.rng.randint(0, 364))
        seq = f"{self.rng.randint(0, 99):02d}"
        sex = self.rng.choice("13579" if gender == "M" else "02468")
        body = f"{region}{born:%Y%m%d}{seq}{sex}"
        return body + id_check_char(body)

    def mobile(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def landline(self) -> str:
        return f"0573-85{self.rng.randint(0, 999_999):06d}"


# ---------------------------------------------------------------- scenarios
#
# Party specs: (role, who). who is "adult", "elder", "young", "student", "migrant"
# (a worker or tenant from another province) or "org:<kind>" (see ORG_TEMPLATES).
# Templates use {a} {b} {c}: applicant(s), respondent(s), third party; {addr}: the place;
# {v}: village/community; {amt}: amount in dispute; {paid}: amount agreed; {n}: a count.


@dataclass(frozen=True)
class Scenario:
    category: str
    summary: str
    facts: str
    parties: tuple[tuple[str, str], ...]
    resolution: str
    failure: str = "双方分歧较大，{b}坚持己见，调解无法继续。已告知{a}可依法向人民法院起诉。"
    where: str = "any"  # "urban", "village" or "any"
    amount: tuple[int, int] | None = None
    colours: tuple[int, int, int] = (2, 12, 86)  # red, yellow, green weights
    sources: tuple[str, ...] = ()
    risk: bool = False
    n: tuple[int, int] = (3, 6)
    kin: tuple[int, ...] = ()  # parties (by position) of the first party's family name
    genders: tuple[str, ...] = ()  # "M", "F" or "" per party position


S = Scenario
SCENARIOS: list[Scenario] = [
    # ---- 邻里
    S(
        "neighbour",
        "{place}楼上夜间噪音扰民，邻里多次争吵",
        "{a}（住{addr}）反映，楼上住户{b}家近两个月经常在夜里十一点后拖动桌椅、孩子在屋内"
        "跑跳，{a}家中老人患有高血压，长期失眠。{a}曾上楼敲门沟通，双方在楼道发生口角，"
        "{a}拨打过110。网格员走访时双方情绪较大，均表示愿意由社区出面调解。",
        (("applicant", "adult"), ("respondent", "adult")),
        "双方达成口头协议：{b}家在客厅和儿童房铺设地垫，晚上十点后不在室内跑跳、拖动家具；"
        "{a}今后有意见先通过网格员沟通，不再上门争吵。",
        sources=("door_knocking", "walk_in", "police_referral", "hotline_12345"),
        where="urban",
        colours=(1, 15, 84),
    ),
    S(
        "neighbour",
        "{place}楼上卫生间渗漏致楼下天花板受损",
        "{addr}，楼上{b}家卫生间防水层老化，渗水导致楼下{a}家卫生间及过道天花板发霉、"
        "墙面起皮，{a}要求赔偿维修费用{amt}元。{b}认为是公共下水管道的问题，应由物业负责，"
        "双方多次协商未果。物业公司已上门查看，初步判断为楼上地漏周边渗水。",
        (("applicant", "adult"), ("respondent", "adult"), ("third_party", "org:property")),
        "{b}负责重做卫生间防水，并一次性赔偿{a}天花板及墙面维修费用{paid}元；"
        "物业公司配合提供维修期间的闭水试验。",
        where="urban",
        amount=(1500, 8000),
        sources=("door_knocking", "walk_in", "phone"),
    ),
    S(
        "neighbour",
        "楼道堆放杂物、私拉电线给电动车充电，邻里矛盾",
        "{a}反映同单元{b}长期在楼道堆放纸板、旧家具，并从家中窗户私拉电线给电动自行车充电，"
        "存在消防隐患。{a}提醒后{b}认为多管闲事，双方在业主群里互相指责。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "org:property")),
        "{b}一周内清理楼道杂物，电动自行车改到小区集中充电棚充电；物业公司加强楼道巡查，"
        "双方在业主群里互相致歉。",
        where="urban",
        sources=("door_knocking", "direct_report_point", "suggestion"),
    ),
    S(
        "neighbour",
        "空调外机正对邻居卧室窗户，噪音和热风扰民",
        "{b}新装的空调外机安装在{a}家卧室窗外约一米处，夏季夜间运行噪音大、热风直吹，"
        "{a}要求移机，{b}称安装位置是物业指定的，移机费用{amt}元应由{a}承担。",
        (("applicant", "adult"), ("respondent", "young")),
        "{b}将空调外机移至北侧墙面，移机费用由双方各承担一半，{a}支付{b}{paid}元。",
        where="urban",
        amount=(600, 1600),
    ),
    S(
        "neighbour",
        "村民在宅前砌墙，堵塞邻居出行通道",
        "{b}在自家宅前空地砌起围墙，将{a}家多年来出行使用的通道堵住一半，{a}家三轮车无法通过。"
        "{a}认为通道是集体土地，{b}称是自家自留地。双方多次争吵，村干部劝说未果。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "org:village")),
        "经村委会现场丈量，{b}将围墙向内退让一米，保留宽二点五米的通道供双方通行，"
        "双方签订通行协议，由村委会存档。",
        where="village",
        colours=(5, 30, 65),
    ),
    S(
        "neighbour",
        "邻居饲养大型犬未拴绳，多次惊吓老人小孩",
        "{b}在家中饲养一条大型犬，每天早晚遛狗时不牵绳，{a}家孙子放学路上被犬只扑过两次，"
        "受到惊吓。{a}要求{b}将犬只送走，{b}认为狗没有咬人。",
        (("applicant", "elder"), ("respondent", "adult")),
        "{b}承诺遛狗时全程牵绳、佩戴嘴套，并到派出所办理犬只登记；{a}表示接受。",
        sources=("door_knocking", "hotline_12345"),
    ),
    # ---- 房屋宅基地
    S(
        "housing_land",
        "翻建房屋地基越界，前后邻居宅基地界址争议",
        "{a}与{b}系前后邻居。{b}今年翻建房屋时，地基向{a}家一侧扩出约四十公分，{a}认为侵占"
        "其宅基地并影响采光，多次阻止施工，双方家属险些发生肢体冲突。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "org:village")),
        "经村委会、自然资源所现场测量，按原宅基地使用证界址，{b}拆除越界部分围墙，"
        "向后退回四十公分；{a}不再阻挠施工，双方互不追究。",
        failure="{b}拒绝按宅基地使用证界址退让，双方分歧较大，告知双方可向镇政府申请确权处理。",
        where="village",
        colours=(20, 50, 30),
        risk=True,
    ),
    S(
        "housing_land",
        "租客退租，房东以墙面损坏为由扣押押金",
        "{a}租住{b}位于{addr}的房屋，押金{amt}元。退租时{b}以墙面有钉孔、地板划伤为由"
        "拒绝退还押金。{a}认为属于正常使用痕迹，双方各执一词。",
        (("applicant", "migrant"), ("respondent", "adult")),
        "双方确认墙面修补费用，{b}扣除修补费后退还{a}押金{paid}元，当场通过微信转账。",
        where="urban",
        amount=(1500, 5000),
        sources=("walk_in", "phone", "hotline_12345"),
    ),
    S(
        "housing_land",
        "屋檐滴水、排水沟改道引发相邻纠纷",
        "{b}家翻修屋顶后，雨水从屋檐直接滴落到{a}家院内，{b}还把排水沟改到两家之间，"
        "雨天{a}家院子积水。{a}多次要求整改无果。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}在屋檐加装檐沟，排水改走自家门前的明沟；{a}配合开挖，费用由{b}承担。",
        where="village",
    ),
    S(
        "housing_land",
        "二手房买卖后卖方迟迟不迁出户口",
        "{a}从{b}处购买{addr}住房一套，合同约定过户后三十日内卖方迁出户口。已过户四个月，"
        "{b}家仍有两人户口未迁出，影响{a}孩子入学报名，{a}要求按合同支付违约金{amt}元。",
        (("applicant", "young"), ("respondent", "adult")),
        "{b}承诺三十日内迁出全部户口，{a}同意将违约金降为{paid}元，户口迁出当日付清。",
        where="urban",
        amount=(10000, 40000),
    ),
    S(
        "housing_land",
        "父母去世后兄弟姐妹对老宅归属有争议",
        "{a}与{b1}、{b2}系兄弟姐妹。父母去世后留下老宅一处，{a}一直居住并照顾老人，"
        "主张老宅归其所有；{b1}、{b2}要求按份分割或折价补偿，估价约{amt}元。",
        (("applicant", "adult"), ("respondent", "adult"), ("respondent", "adult")),
        "老宅归{a}所有，{a}分别补偿{b1}、{b2}各{paid}元，分两期付清。",
        amount=(150000, 400000),
        kin=(1, 2),
        colours=(3, 25, 72),
    ),
    # ---- 合同
    S(
        "contract",
        "装修完工后业主以质量问题拒付尾款",
        "{a}承接{b}位于{addr}的房屋装修，合同价款十二万元。完工后{b}以卫生间瓷砖空鼓、"
        "墙面开裂为由拒付尾款{amt}元，{a}认为属于小问题，可以维修。",
        (("applicant", "org:decorator"), ("respondent", "adult")),
        "{a}七日内对空鼓瓷砖和墙面裂缝进行返工，{b}验收合格后支付尾款{paid}元。",
        where="urban",
        amount=(8000, 30000),
    ),
    S(
        "contract",
        "朋友之间借款到期未还",
        "{b}因做生意向朋友{a}借款{amt}元，约定一年内归还，有借条为证。到期后{b}以生意亏损为由"
        "一直拖延，{a}多次上门催讨，双方关系紧张。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}分六期归还借款{paid}元，每月底前通过银行转账支付，{a}放弃利息。",
        amount=(20000, 80000),
    ),
    S(
        "contract",
        "购买二手车后发现是事故车，买方要求退车",
        "{a}从{b}处购买二手小轿车一辆，价款{amt}元。使用一个月后在4S店检查发现车辆曾发生"
        "严重事故，{b}交易时未告知，{a}要求退车退款。",
        (("applicant", "young"), ("respondent", "adult")),
        "车辆不再退回，{b}补偿{a}{paid}元。",
        amount=(30000, 70000),
    ),
    S(
        "contract",
        "收购葡萄后拖欠种植户货款",
        "{b}今年八月从{a}处收购葡萄，货款{amt}元，当时只付了三成，余款约定一个月内付清，"
        "至今未付。{a}一家以种葡萄为生，急需这笔钱。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}于十五日内支付{a}余款{paid}元。",
        where="village",
        amount=(10000, 40000),
    ),
    # ---- 生产经营
    S(
        "business",
        "合伙开小吃店散伙后分账不清",
        "{a}与{b}合伙在{addr}开小吃店，各出资五万元。经营一年后散伙，{a}认为{b}多拿了"
        "店里的设备和最后两个月的营业款，要求补偿{amt}元。",
        (("applicant", "adult"), ("respondent", "adult")),
        "双方对账后确认，{b}补偿{a}{paid}元，店内剩余设备归{b}所有。",
        amount=(15000, 60000),
    ),
    S(
        "business",
        "沿街餐饮店占道经营、夜间噪音影响居民休息",
        "{place}附近沿街的{b}夏季在人行道摆放桌椅经营夜宵到凌晨，食客喧哗、油烟大，楼上居民"
        "{a}等多次投诉。店主认为自己合法经营。",
        (("applicant", "adult"), ("applicant", "elder"), ("respondent", "org:shop")),
        "店主承诺晚上十点后停止室外经营，不再占用人行道摆放桌椅，并加装油烟净化设备；"
        "综合执法中队和网格员每周巡查。",
        where="urban",
        sources=("hotline_12345", "door_knocking", "direct_report_point", "suggestion"),
        colours=(2, 30, 68),
    ),
    S(
        "business",
        "鱼塘承包到期后承包户拒不退塘",
        "{b}承包{v}集体鱼塘，合同已于今年到期。村里重新发包给{a}，但{b}以鱼未出塘为由"
        "拒绝退塘，{a}已交承包款{amt}元却无法进场。",
        (("applicant", "adult"), ("respondent", "adult"), ("third_party", "org:village")),
        "{b}在一个月内起鱼退塘，{a}补偿{b}鱼苗损失{paid}元，村委会监督交接。",
        where="village",
        amount=(20000, 60000),
    ),
    # ---- 损害赔偿
    S(
        "damages",
        "被邻居家犬只咬伤，医药费赔偿有争议",
        "{a}在{addr}附近被{b}家饲养的犬只咬伤小腿，打狂犬疫苗、清创共花费{amt}元。"
        "{b}认为{a}先逗狗，只愿承担一半。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}赔偿{a}医药费、误工费共计{paid}元，并对犬只进行登记和拴养。",
        amount=(1500, 6000),
    ),
    S(
        "damages",
        "阳台花盆坠落砸坏楼下停放车辆",
        "{b}家阳台上的花盆被大风吹落，砸坏{a}停放在楼下的小轿车前挡风玻璃和引擎盖，"
        "维修报价{amt}元。{b}认为是天灾，且{a}车辆停在非停车位。",
        (("applicant", "young"), ("respondent", "adult"), ("third_party", "org:property")),
        "{b}赔偿{a}车辆维修费{paid}元，并清理阳台外沿所有花盆。",
        where="urban",
        amount=(3000, 12000),
    ),
    S(
        "damages",
        "因琐事发生肢体冲突，一方轻微伤",
        "{a}与{b}因停车琐事发生争吵，继而互相推搡，{a}面部及手臂受伤，经鉴定为轻微伤，"
        "医疗费、误工费等共计{amt}元。派出所出警后转来调解，双方情绪仍然激动。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}向{a}赔礼道歉，赔偿医疗费、误工费等共计{paid}元，{a}出具谅解书。",
        sources=("police_referral",),
        amount=(3000, 20000),
        colours=(45, 40, 15),
        risk=True,
    ),
    # ---- 山林土地
    S(
        "forest_land",
        "承包地田埂归属不清，相邻农户起争执",
        "{a}与{b}的承包地相邻。{b}今年春耕时把两家之间的田埂铲平种上了油菜，{a}认为田埂"
        "属于自家承包地，双方在田头争吵，{b}的儿子推了{a}一把。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "org:village")),
        "按二轮土地承包合同及附图，村委会重新放样，恢复原田埂，田埂两侧各五十公分归两家各自"
        "使用；{b}向{a}道歉。",
        where="village",
        colours=(8, 40, 52),
    ),
    S(
        "forest_land",
        "家庭农场拖欠村民土地流转租金",
        "{b}流转{v}村民土地一百二十亩种植水稻，今年的流转租金{amt}元至今未付，涉及二十余户"
        "村民，村民代表{a}等多次到村委会反映，情绪激动。",
        (("applicant", "elder"), ("applicant", "adult"), ("respondent", "org:farm")),
        "{b}于年底前分两次付清流转租金{paid}元，村委会负责发放到户并公示。",
        where="village",
        amount=(40000, 120000),
        colours=(25, 50, 25),
    ),
    # ---- 征地拆迁
    S(
        "land_requisition",
        "征迁安置补偿款在家庭成员间分配有争议",
        "{a}一家老宅被列入征迁范围，补偿款{amt}元。{a}与弟弟{b}对补偿款分配有争议：{a}"
        "认为自己出资翻建过房屋应多分，{b}认为户籍在册人员应平均分配。",
        (("applicant", "adult"), ("respondent", "adult"), ("third_party", "elder")),
        "经调解，补偿款按户籍在册人员平均分配，{a}另得翻建补偿{paid}元。",
        kin=(1, 2),
        genders=("M", "M", "M"),
        amount=(300000, 900000),
        colours=(10, 50, 40),
    ),
    S(
        "land_requisition",
        "青苗及地上附着物补偿款归属争议",
        "{v}部分土地被征收，承包户{a}与实际耕种人{b}对青苗及大棚等附着物补偿款{amt}元的归属"
        "有争议：{a}认为地是自己的，{b}认为大棚和苗木是自己投入的。",
        (("applicant", "adult"), ("respondent", "adult"), ("third_party", "org:village")),
        "附着物补偿款{paid}元归{b}所有，其余青苗补偿款归{a}，由村委会分别发放。",
        where="village",
        amount=(20000, 80000),
    ),
    # ---- 环境污染
    S(
        "pollution",
        "餐饮店油烟直排，楼上住户不堪其扰",
        "{b}的排烟管道直接对着楼上住户{a}家的窗户，做饭时间油烟倒灌，{a}家窗帘、墙面发黄，"
        "老人咳嗽加重。{a}多次拨打12345投诉。",
        (("applicant", "elder"), ("respondent", "org:restaurant")),
        "{b}出资加装油烟净化器，排烟管道改造至楼顶高空排放，三十日内完成；"
        "并补偿{a}窗帘清洗费用{paid}元。",
        where="urban",
        amount=(500, 2000),
        sources=("hotline_12345", "direct_report_point", "suggestion"),
    ),
    S(
        "pollution",
        "村内小作坊夜间加工噪音扰民",
        "{b}在{v}民房内开设箱包加工作坊，缝纫机、切割机常常开到深夜，周边村民{a}等人"
        "多次反映无法休息。",
        (("applicant", "adult"), ("applicant", "elder"), ("respondent", "org:workshop")),
        "作坊晚上九点后停止机器加工，车间门窗加装隔音棉；一个月后由网格员回访噪音情况。",
        where="village",
        sources=("door_knocking", "direct_report_point"),
    ),
    S(
        "pollution",
        "养殖场异味影响周边村民生活",
        "{b}在{v}经营生猪养殖，夏季臭味明显，苍蝇多，周边二十多户村民意见很大，代表{a}"
        "要求搬迁或整改。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "org:village")),
        "{b}三个月内完成粪污处理设施改造，每天清运粪便；村委会每月组织村民代表查看。",
        where="village",
        colours=(10, 45, 45),
    ),
    # ---- 劳动争议
    S(
        "labour",
        "{n}名务工人员被拖欠工资共{amt}元",
        "{a}等{n}名外地务工人员在{b}承包的工地做泥工，工程已完工，工资{amt}元至今未结清。"
        "{b}称总包单位{c}未付工程款。工人们多次讨薪无果，扬言要集体到镇政府上访。",
        (
            ("applicant", "migrant"),
            ("applicant", "migrant"),
            ("applicant", "migrant"),
            ("respondent", "adult"),
            ("third_party", "org:builder"),
        ),
        "{b}于十日内支付拖欠工资{paid}元，总包单位{c}从应付工程款中直接代发到工人银行卡。",
        failure="包工头{b}失联，无法继续调解。已告知工人向劳动保障监察部门投诉或申请劳动仲裁。",
        amount=(40000, 180000),
        colours=(40, 45, 15),
        n=(5, 14),
        sources=("walk_in", "hotline_12345", "referral", "phone"),
    ),
    S(
        "labour",
        "员工被辞退后要求支付经济补偿",
        "{a}在{b}工作三年，公司以订单减少为由口头辞退，未支付经济补偿。{a}要求按工作年限"
        "支付补偿金{amt}元，公司只同意支付一个月工资。",
        (("applicant", "young"), ("respondent", "org:factory")),
        "{b}支付{a}经济补偿{paid}元，双方解除劳动关系。",
        amount=(8000, 30000),
    ),
    S(
        "labour",
        "工人在厂内受伤，工伤待遇有争议",
        "{a}在{b}操作设备时右手受伤，经认定为工伤九级。公司未缴纳工伤保险，对一次性伤残"
        "补助金等费用{amt}元有异议。",
        (("applicant", "migrant"), ("respondent", "org:workshop")),
        "{b}一次性支付{a}各项工伤待遇共计{paid}元，双方解除劳动关系。",
        amount=(40000, 120000),
        colours=(5, 40, 55),
    ),
    # ---- 消费
    S(
        "consumer",
        "健身房闭店，会员预付卡余额无法退还",
        "{b}突然闭店，{a}等会员的预付卡余额共计{amt}元无法退还，部分会员聚集在店门口，"
        "网格员和民警到场劝说。",
        (("applicant", "young"), ("applicant", "adult"), ("respondent", "org:gym")),
        "经营者承诺分三期退还会员余额，共计{paid}元，市场监管所监督履行。",
        amount=(5000, 30000),
        colours=(15, 45, 40),
        sources=("hotline_12345", "walk_in", "referral"),
    ),
    S(
        "consumer",
        "新买冰箱出现质量问题，商家拒绝退换",
        "{a}在{b}购买冰箱一台，价格{amt}元，使用二十天后不制冷，商家只同意维修，{a}要求退货。",
        (("applicant", "elder"), ("respondent", "org:store")),
        "{b}为{a}更换同型号新冰箱，并补偿{paid}元。",
        amount=(2000, 8000),
    ),
    S(
        "consumer",
        "快递驿站丢失包裹，赔偿金额有争议",
        "{a}的包裹（内有手机一部，价值{amt}元）在{b}签收后丢失，驿站只同意按快递保价规则"
        "赔偿三百元。",
        (("applicant", "young"), ("respondent", "org:courier")),
        "{b}赔偿{a}{paid}元。",
        where="urban",
        amount=(1500, 6000),
    ),
    # ---- 医疗
    S(
        "medical",
        "诊所输液后出现不良反应，家属要求赔偿",
        "{a}因感冒在{b}输液，输液后出现皮疹、呼吸困难，转到平湖市第一人民医院住院治疗五天，"
        "花费{amt}元。家属认为诊所用药不当，多次到诊所理论。",
        (("applicant", "elder"), ("respondent", "org:clinic")),
        "{b}承担{a}住院医疗费及护理费共计{paid}元，{a}家属不再到诊所聚集。",
        amount=(10000, 50000),
        colours=(15, 55, 30),
        sources=("walk_in", "phone", "referral"),
    ),
    S(
        "medical",
        "种植牙效果不满意，患者要求退费",
        "{a}在{b}做了两颗种植牙，费用{amt}元，术后三个月仍咬合疼痛，要求退费，诊所认为手术"
        "本身没有问题。",
        (("applicant", "adult"), ("respondent", "org:dental")),
        "{b}免费为{a}调整咬合并退还部分费用{paid}元。",
        amount=(8000, 26000),
    ),
    # ---- 道路交通事故
    S(
        "traffic",
        "电动自行车与小轿车碰撞，赔偿数额有争议",
        "{a}骑电动自行车与{b}驾驶的小轿车在路口发生碰撞，{a}小腿骨折。交警认定{b}负主要责任，"
        "双方对误工费、护理费等赔偿总额{amt}元有争议。",
        (("applicant", "adult"), ("respondent", "adult"), ("third_party", "org:insurer")),
        "保险公司在交强险和商业险范围内赔付{paid}元，{b}另行支付{a}营养费三千元。",
        amount=(10000, 60000),
        sources=("police_referral", "referral"),
        colours=(3, 30, 67),
    ),
    S(
        "traffic",
        "电动车撞伤行人，医疗费用承担有争议",
        "{b}骑电动车在小区门口撞倒步行的{a}，{a}手腕骨折，医疗费{amt}元。{b}称{a}突然横穿，"
        "只愿承担一半费用。",
        (("applicant", "elder"), ("respondent", "young")),
        "{b}承担{a}医疗费、护理费共计{paid}元，分两期付清。",
        amount=(3000, 20000),
        sources=("police_referral", "walk_in"),
    ),
    # ---- 物业
    S(
        "property_mgmt",
        "业主以服务不到位为由拖欠物业费两年",
        "{b}以小区绿化差、楼道灯长期不亮为由，两年未交物业费共计{amt}元。{a}多次催缴，"
        "双方在物业办公室发生争吵。",
        (("applicant", "org:property"), ("respondent", "adult")),
        "物业公司一个月内修好楼道灯并整改绿化，{b}补交物业费{paid}元，滞纳金免除。",
        where="urban",
        amount=(2400, 6000),
    ),
    S(
        "property_mgmt",
        "地下车库渗水泡坏车辆，业主要求物业赔偿",
        "暴雨时小区地下车库进水，{a}停放的小轿车被泡，维修花费{amt}元。{a}认为物业排水设施"
        "维护不到位，{b}称属于不可抗力。",
        (("applicant", "adult"), ("respondent", "org:property")),
        "{b}承担{a}车辆维修费的一半，计{paid}元，并在汛期前加装挡水板和排水泵。",
        where="urban",
        amount=(5000, 20000),
    ),
    S(
        "property_mgmt",
        "小区电梯频繁故障，业主与物业矛盾激化",
        "{place}电梯一个月内困人三次，业主{a}等联名要求物业更换电梯、公开维修资金使用情况，"
        "部分业主拒交物业费，在小区门口拉横幅。",
        (("applicant", "elder"), ("applicant", "adult"), ("respondent", "org:property")),
        "物业公司公开近三年维修资金账目，申请维修资金更换主板和曳引机，三个月内完成；"
        "业主代表参与验收。",
        where="urban",
        colours=(20, 60, 20),
        sources=("hotline_12345", "direct_report_point", "suggestion"),
    ),
    # ---- 婚姻家庭
    S(
        "marriage_family",
        "子女对老人赡养费分摊和轮流照顾有分歧",
        "{a}年事已高，老伴去世后独居。子女{b1}、{b2}对赡养费分摊和谁来照顾有分歧，{b1}"
        "认为自己出嫁了不应承担，{b2}认为老宅给了大哥应由大哥负责。老人到社区哭诉。",
        (("applicant", "elder"), ("respondent", "adult"), ("respondent", "adult")),
        "子女每人每月支付赡养费{paid}元，老人由{b1}、{b2}两家轮流照顾，每家三个月；"
        "社区每季度回访。",
        amount=(600, 1500),
        sources=("walk_in", "door_knocking"),
        kin=(1, 2),
        genders=("M", "F", "M"),
    ),
    S(
        "marriage_family",
        "离婚后对孩子探望时间安排有争议",
        "{a}与{b}离婚后女儿随{b}生活。{a}反映{b}以孩子学习紧张为由多次拒绝探望，双方在学校"
        "门口发生争执。",
        (("applicant", "young"), ("respondent", "young")),
        "双方约定{a}每月第二、第四个周末探望，寒暑假各带孩子生活一周，接送由{a}负责。",
        genders=("M", "F"),
    ),
    S(
        "marriage_family",
        "婆媳矛盾激化，老人要求儿子儿媳搬出",
        "{a}与儿媳{b}长期不和，近日因带孩子的问题发生激烈争吵，{a}要求儿子一家搬出老房子，"
        "儿子夹在中间左右为难。",
        (("applicant", "elder"), ("respondent", "adult"), ("third_party", "adult")),
        "双方互相谅解，儿子一家暂住老房，年底前搬入新房；平时孩子由{b}接送，老人周末照看。",
        colours=(3, 20, 77),
        genders=("F", "F", "M"),
    ),
    # ---- 其他
    S(
        "other",
        "广场舞音响音量过大影响周边居民",
        "每晚七点到九点，{b}带领的舞蹈队在{addr}附近广场跳舞，音响音量很大，附近居民{a}等"
        "反映孩子无法写作业，多次与舞蹈队争吵。",
        (("applicant", "adult"), ("respondent", "elder")),
        "舞蹈队音响限定在六十分贝以下，八点半前结束，并换到远离住宅楼的广场东侧。",
        sources=("direct_report_point", "hotline_12345", "suggestion"),
        where="urban",
    ),
    S(
        "other",
        "村民微信群内言语辱骂引发矛盾",
        "{b}在{v}村民微信群里发语音辱骂{a}，称其占用集体场地，{a}认为名誉受损，要求{b}公开"
        "道歉，两家人在村口对骂。",
        (("applicant", "adult"), ("respondent", "adult")),
        "{b}在村民微信群里公开向{a}道歉，双方握手言和。",
        where="village",
        sources=("door_knocking", "phone"),
    ),
]

DECLINES = [
    (
        "before_court",
        "",
        "经核实，{a}已就此事向平湖市人民法院起诉，法院已立案，告知其等待法院处理。",
    ),
    ("before_police", "", "此事已由派出所作为治安案件受理，告知当事人等待公安机关处理结果。"),
    ("before_agency", "", "{a}已向相关行政机关反映并已受理，告知其等待行政机关处理结果。"),
    ("out_of_scope", "", "所反映事项属于行政复议范围，不属于人民调解受理范围，已告知救济途径。"),
    (
        "other",
        "申请人撤回申请",
        "登记后{a}表示双方已自行和解，不再需要调解，撤回申请。",
    ),
]
TERMINATIONS = [
    ("positions_too_far", "", "litigation"),
    ("party_unreachable", "", "litigation"),
    ("party_refuses", "", "litigation"),
    ("refuses_to_sign", "", "arbitration"),
    ("other", "被申请人已向法院提起诉讼", "litigation"),
]
ACCEPT_NOTES = [
    "经核实，纠纷属于人民调解受理范围，双方均同意调解。",
    "已电话联系双方当事人，均同意由社区组织调解。",
    "网格员与驻点民警一起上门了解情况，双方同意调解，予以受理。",
    "材料齐全，受理。约双方本周内到调解室。",
]
START_NOTES = [
    "在{v}人民调解室召开首次调解会，双方当事人均到场。",
    "采取“背靠背”方式分别做双方工作后，组织面对面调解。",
    "邀请村（居）民代表和法律顾问参加调解。",
    "网格员陪同调解员上门，在当事人家中进行调解。",
]
PERFORMANCE_NOTES = [
    "双方在调解员见证下开始履行协议，网格员负责跟踪。",
    "已告知双方可在协议生效后三十日内共同申请司法确认。",
]
MONEY_PERFORMANCE_NOTES = [
    "协议约定的款项分期支付，网格员负责跟踪履行情况。",
    *PERFORMANCE_NOTES,
]
PERFORMED_NOTES = [
    "回访确认协议约定事项已全部履行完毕。",
    "网格员上门查看，协议约定事项已落实，双方均表示满意。",
]
MONEY_PERFORMED_NOTES = [
    "{a}确认已收到全部款项。",
    "回访确认款项已按协议付清。",
]
BREACH_NOTES = [
    "{b}未按协议约定履行，矛盾再次出现。",
    "约定期限已过，{b}未落实协议约定事项，网格员上门催告后仍未履行。",
]
MONEY_BREACH_NOTES = [
    "{b}未按约定支付第二期款项，网格员电话催告后仍未履行。",
    "约定付款期限已过，{b}仍未付款。",
]
CLOSE_NOTES = [
    "回访：双方对调解结果满意，关系已缓和。",
    "回访：当事人表示满意，未再发生矛盾。",
    "电话回访，当事人对处理结果基本满意。",
    "回访记录已归档，结案。",
]
COLOUR_REASONS = {
    "yellow": "双方矛盾有激化苗头，由社区书记包案跟进。",
    "red": "当事人扬言采取过激行为，存在民转刑风险，立即通报派出所和街道矛调中心。",
}
OBJECTION_REASON = "申请人认为调解员与被申请人系同村亲戚，要求更换调解员。"


# ---------------------------------------------------------------- plans


@dataclass
class Step:
    action: str
    day: int  # days after the registration day
    facts: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Plan:
    scenario: Scenario
    grid: GridInfo
    final: str
    level: str = "grid"
    colour: str = "green"
    source: str = "door_knocking"
    reg_day: date = date.min  # drawn once the steps are known
    steps: list[Step] = field(default_factory=list)
    refuses: bool = False
    overdue_intended: bool = False


def _quotas(count: int) -> list[str]:
    finals: list[str] = []
    for status, share in STATUS_SHARES:
        finals += [status] * max(1, round(share * count))
    finals += ["closed"] * max(1, count - len(finals))
    return finals[:count] if len(finals) > count else finals


def _path(rng: random.Random, plan: Plan) -> list[Step]:
    """The moves after registration that lead to the plan's final status, with day gaps."""
    labour = plan.scenario.category == "labour"
    fast = plan.colour == "red"
    steps: list[tuple[str, int, dict]] = []

    def add(action: str, gap: int, **facts: Any) -> None:
        steps.append((action, gap, facts))

    def mediate(start_gap: int | None = None) -> None:
        add("assign", rng.choice((0, 0, 1)))
        if rng.random() < 0.03:
            add("object", 1)
            add("assign", 1)
        add("start_mediation", start_gap if start_gap is not None else rng.randint(1, 3))
        if plan.colour != "red" and rng.random() < 0.05:
            add("colour", rng.randint(1, 4), colour="red" if plan.colour == "yellow" else "yellow")

    def settle(gap: int | None = None, oral: bool | None = None) -> None:
        if oral is None:
            oral = rng.random() < 0.2
        if gap is None:
            gap = rng.randint(2, 9) if labour else rng.randint(2, 20)
        add("settle", gap, agreement_form="oral" if oral else "written")
        add("start_performance", 0 if oral else rng.randint(0, 2))

    def terminate(gap: int | None = None) -> None:
        reason, text, advice = rng.choice(TERMINATIONS)
        # Only channels open to the category: no arbitration for family or neighbour disputes
        # (Arbitration Law Art. 3), labour arbitration for labour disputes.
        open_channels = [c.value for c in workflow.channels_for(plan.scenario.category)]
        if advice not in open_channels:
            advice = open_channels[0]
        facts = {"termination_reason": reason, "referral_advice": advice}
        if text:
            facts["termination_text"] = text
        add("terminate", gap if gap is not None else rng.randint(6, 25), **facts)

    final = plan.final
    if final == "registered":
        return []
    if final == "declined":
        reason, text, _note = rng.choice(DECLINES)
        facts = {"decline_reason": reason}
        if text:
            facts["decline_text"] = text
        add("decline", rng.randint(0, 2), **facts)
        return _to_steps(steps)
    add("accept", 0 if fast else rng.choice((0, 1, 1, 2)))
    if final == "accepted":
        return _to_steps(steps)
    if plan.refuses:  # a party refuses mediation (Art. 17): it ends without a session
        terminate(rng.randint(2, 6))
        steps[-1][2].update(
            termination_reason="party_refuses",
            referral_advice=workflow.channels_for(plan.scenario.category)[0].value,
        )
        steps[-1][2].pop("termination_text", None)
        if final == "closed":
            add("close", rng.randint(7, 25), follow_up_recorded=True)
        return _to_steps(steps)
    mediate()
    extended = (
        not labour
        and not plan.overdue_intended
        and rng.random() < (0.3 if final == "mediating" else 0.05)
    )
    if extended:  # talks drag on; both sides agree to more time (MoJ rules Art. 33)
        add("extend", rng.randint(18, 27), days=rng.choice((15, 20, 30)))
    if final == "mediating":
        return _to_steps(steps)
    if final == "terminated":
        terminate()
        return _to_steps(steps)
    if final == "closed" and rng.random() < 0.22:
        terminate()
        add("close", rng.randint(7, 30), follow_up_recorded=True)
        return _to_steps(steps)
    breach_then = "breach" if final == "breached" else None
    if final == "closed":
        roll = rng.random()
        breach_then = "remediate" if roll < 0.07 else "terminate" if roll < 0.12 else None
    settle(rng.randint(2, 12) if extended else None, oral=False if breach_then else None)
    oral = steps[-2][2].get("agreement_form") == "oral"
    if final in ("settled",):
        steps.pop()  # performance has not started yet
        return _to_steps(steps)
    if final == "performing":
        return _to_steps(steps)
    if breach_then:
        add("record_breach", rng.randint(10, 40))
        if final == "breached":
            return _to_steps(steps)
        if breach_then == "terminate":
            terminate(rng.randint(3, 10))
            add("close", rng.randint(7, 20), follow_up_recorded=True)
            return _to_steps(steps)
        add("remediate", rng.randint(2, 7))
        settle(rng.randint(2, 10), oral=False)
    add("record_performed", 0 if oral else rng.randint(3, 45))
    if final == "performed":
        return _to_steps(steps)
    add("close", rng.randint(7, 30), follow_up_recorded=True)
    return _to_steps(steps)


def _to_steps(raw: list[tuple[str, int, dict]]) -> list[Step]:
    day = 0
    result = []
    for action, gap, facts in raw:
        day += gap
        result.append(Step(action, day, dict(facts)))
    return result


def _insert_escalations(rng: random.Random, plan: Plan) -> None:
    """Climb to the plan's level: red cases at once (led by the town), others after accepting."""
    climbs = ["grid", "community", "town", "county"].index(plan.level)
    if not climbs:
        return
    after = (
        0 if plan.colour == "red" else 1 if plan.steps and plan.steps[0].action == "accept" else 0
    )
    base_day = plan.steps[after - 1].day if after else 0
    escalations = [
        Step("escalate", base_day + (0 if i == 0 else rng.randint(0, 2))) for i in range(climbs)
    ]
    day = base_day
    for esc in escalations:
        day = max(day, esc.day)
        esc.day = day
    shift = escalations[-1].day - base_day
    for step in plan.steps[after:]:
        step.day += shift
    plan.steps[after:after] = escalations


def _registration_day(rng: random.Random, plan: Plan, today: date) -> date:
    """Back from today so the last move lies at a believable distance for the status."""
    span = plan.steps[-1].day if plan.steps else 0
    since_last = {
        "registered": (0, 1),
        "accepted": (0, 3),
        "declined": (3, 290),
        "mediating": (1, 24),
        "settled": (1, 6),
        "terminated": (1, 14),
        "performing": (3, 40),
        "performed": (1, 12),
        "breached": (2, 25),
        "closed": (2, 290),
    }[plan.final]
    lo, hi = since_last
    if plan.overdue_intended:
        lo, hi = {"registered": (5, 9), "accepted": (12, 20), "mediating": (36, 45)}[plan.final]
    gap = rng.randint(lo, max(lo, min(hi, 300 - span)))
    if (
        plan.final == "mediating"
        and plan.scenario.category == "labour"
        and not plan.overdue_intended
    ):
        # Labour disputes: 15 days from registration, so the case must be young.
        gap = rng.randint(0, max(0, 12 - span))
    return today - timedelta(days=span + gap)


def _pick_grid(
    rng: random.Random, scenario: Scenario, grids: list[GridInfo], used: dict[int, int]
) -> GridInfo:
    fits = [
        g for g in grids if scenario.where == "any" or (scenario.where == "village") == g.is_village
    ]
    least = min(used[g.id] for g in fits)
    choice = rng.choice([g for g in fits if used[g.id] <= least + 1])
    used[choice.id] += 1
    return choice


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _make_plans(rng: random.Random, count: int, grids: list[GridInfo], today: date) -> list[Plan]:
    finals = _quotas(count)
    rng.shuffle(finals)
    used = {g.id: 0 for g in grids}
    categories = sorted({s.category for s in SCENARIOS})
    by_category = {c: [s for s in SCENARIOS if s.category == c] for c in categories}
    plans = []
    overdue_left = {"registered": 2, "accepted": 2, "mediating": 2} if count >= 100 else {}
    for i, final in enumerate(finals):
        # Every category at least once, then by how common a category is in practice.
        if i < len(categories):
            scenario = rng.choice(by_category[categories[i]])
        else:
            scenario = rng.choice(SCENARIOS)
        grid = _pick_grid(rng, scenario, grids, used)
        colour = rng.choices(("red", "yellow", "green"), weights=scenario.colours)[0]
        sources = {s: w for s, w in SOURCE_WEIGHTS.items() if s in scenario.sources}
        source = _weighted(rng, sources or SOURCE_WEIGHTS)
        plan = Plan(scenario, grid, final, colour=colour, source=source)
        if overdue_left.get(final):
            overdue_left[final] -= 1
            plan.overdue_intended = True
        plans.append(plan)
    _ensure_coverage(rng, plans)
    # Levels: red cases are led by the town; a share of the others climbs the ladder.
    for plan in plans:
        if plan.colour == "red" and plan.final not in ("registered", "declined"):
            plan.level = "town"
    climbers = [p for p in plans if p.level == "grid" and p.final not in ("registered", "declined")]
    rng.shuffle(climbers)
    start = 0
    for level, share in LEVEL_SHARES:
        n = max(1, round(share * len(plans)))
        already = sum(1 for p in plans if p.level == level)
        for plan in climbers[start : start + max(0, n - already)]:
            plan.level = level
        start += max(0, n - already)
    # A few accepted cases wait because a party refuses; a few closed ones ended that way.
    for plan in plans:
        if plan.final == "accepted" and rng.random() < 0.25:
            plan.refuses = True
        elif plan.final == "closed" and rng.random() < 0.04:
            plan.refuses = True
    for plan in plans:
        plan.steps = _path(rng, plan)
        _insert_escalations(rng, plan)
        plan.reg_day = _registration_day(rng, plan, today)
    # Numbers follow the order of registration, as they would have been issued.
    plans.sort(key=lambda p: p.reg_day)
    return plans


def _ensure_coverage(rng: random.Random, plans: list[Plan]) -> None:
    """Every colour and source at least once, however the dice fell."""
    for colour in ("red", "yellow", "green"):
        if not any(p.colour == colour for p in plans):
            rng.choice([p for p in plans if p.final == "closed"]).colour = colour
    for source in SOURCE_WEIGHTS:
        if not any(p.source == source for p in plans):
            candidates = [p for p in plans if not p.scenario.sources] or plans
            rng.choice(candidates).source = source


# ---------------------------------------------------------------- running a plan


@dataclass
class Cast:
    """The demo people as signed-in users, and who does what for a grid."""

    users: dict[str, CurrentUser]
    worker_of: dict[int, str]
    police_of: dict[int, str]
    mediator_user: dict[int, str]  # Mediator profile id -> username
    mediators: list[assignment.MediatorFacts] = field(default_factory=list)

    def worker(self, grid: GridInfo) -> CurrentUser:
        return self.users[self.worker_of[grid.id]]

    def police(self, grid: GridInfo) -> CurrentUser:
        return self.users[self.police_of[grid.id]]

    def centre(self, grid: GridInfo) -> CurrentUser:
        return self.users["centre1" if grid.town_code == TOWN_CENTRE_TOWN else "centre2"]

    def county(self) -> CurrentUser:
        return self.users["centre2"]


@dataclass
class Clock:
    """Where a case's story stands in time, and the rows written since the last step."""

    case_id: int
    at: datetime
    last_event: int = 0
    last_notification: int = 0
    last_assignment: int = 0


async def _stamp(clock: Clock, at: datetime, now: datetime, notifications: bool = True) -> None:
    """Move what the last step wrote (events, notifications) to when it happened."""
    rows = (
        await CaseEvent.update({CaseEvent.at: at})
        .where(CaseEvent.case == clock.case_id, CaseEvent.id > clock.last_event)
        .returning(CaseEvent.id)
    )
    if rows:
        clock.last_event = max(r["id"] for r in rows)
    if not notifications:
        return
    rows = (
        await Notification.update(
            {Notification.created_at: at, Notification.read: at < now - timedelta(days=3)}
        )
        .where(Notification.case == clock.case_id, Notification.id > clock.last_notification)
        .returning(Notification.id)
    )
    if rows:
        clock.last_notification = max(r["id"] for r in rows)


class Runner:
    def __init__(self, rng: random.Random, cast: Cast, now: datetime) -> None:
        self.rng = rng
        self.cast = cast
        self.now = now
        self.people = People(rng)
        self.loads: dict[int, int] = {}
        self.active: list[int] = []
        self.objected: set[int] = set()

    # ---- times

    def _times(self, plan: Plan) -> list[datetime]:
        """Registration time and one time per step: office hours, increasing, never future."""
        times = []
        day_of = [0] + [s.day for s in plan.steps]
        previous = None
        for i, offset in enumerate(day_of):
            day = plan.reg_day + timedelta(days=offset)
            if previous is not None and local_date(previous) == day:
                at = previous + timedelta(minutes=self.rng.randint(20, 150))
            else:
                hour = self.rng.randint(8, 16) if i else self.rng.randint(8, 17)
                at = datetime.combine(day, time(hour, self.rng.randint(0, 59)), county_zone())
            times.append(at)
            previous = at
        # Never in the future: squeeze today's steps back before now, keeping their order.
        limit = self.now - timedelta(minutes=2)
        for i in range(len(times) - 1, -1, -1):
            if times[i] > limit:
                times[i] = limit
            limit = times[i] - timedelta(minutes=3)
        return times

    async def _stamp(self, clock: Clock, at: datetime, notifications: bool = True) -> None:
        await _stamp(clock, at, self.now, notifications)

    # ---- parties and texts

    def _party(
        self, role: str, who: str, plan: Plan, address: str, gender: str = ""
    ) -> services.PartyInput:
        if who.startswith("org:"):
            kind = who[4:]
            street = _street(plan.grid)
            name = ORG_TEMPLATES[kind].format(
                word=self.rng.choice(ORG_WORDS), street=street, village=plan.grid.community
            )
            rep, _g = self.people.name()
            return services.PartyInput(
                role=role,
                kind="organisation",
                name=name,
                phone=self.people.landline() if kind != "shop" else self.people.mobile(),
                address=_org_address(self.rng, plan.grid, kind),
                legal_rep=rep,  # printed as 法定代表人（负责人）：<rep>，职务：<post>
                legal_rep_title=ORG_POSTS.get(kind, "总经理"),
            )
        name, gender = self.people.name(gender or None)
        migrant = who == "migrant"
        age = {"migrant": "adult", "elder": "elder"}.get(who, who)
        with_id = self.rng.random() < 0.85
        return services.PartyInput(
            role=role,
            kind="person",
            name=name,
            id_number=self.people.id_number(gender, age, migrant) if with_id else "",
            phone=self.people.mobile() if self.rng.random() < 0.95 else "",
            address=address if role != "third_party" else _home(self.rng, plan.grid),
        )

    def _case_input(self, plan: Plan) -> tuple[services.CaseInput, dict[str, str]]:
        address = _home(self.rng, plan.grid)
        genders = plan.scenario.genders
        parties = [
            self._party(role, who, plan, address, genders[i] if i < len(genders) else "")
            for i, (role, who) in enumerate(plan.scenario.parties)
        ]
        for i in plan.scenario.kin:  # one family: the same family name
            parties[i].name = parties[0].name[0] + parties[i].name[1:]
        # Respondents live elsewhere in the same grid, except where the story says otherwise.
        for p in parties:
            if p.role == "respondent" and p.kind == "person":
                p.address = _home(self.rng, plan.grid)
        if plan.refuses:
            next(p for p in parties if p.role == "respondent").refuses_mediation = True
        amount = None
        paid = 0
        if plan.scenario.amount:
            lo, hi = plan.scenario.amount
            step = 100 if hi <= 20000 else 1000
            amount = self.rng.randint(lo // step, hi // step) * step
            paid = max(step, int(amount * self.rng.uniform(0.45, 0.9)) // step * step)
        n = self.rng.randint(*plan.scenario.n)
        names = {
            role: "、".join(p.name for p in parties if p.role == role)
            for role in ("applicant", "respondent", "third_party")
        }
        respondents = [p.name for p in parties if p.role == "respondent"]
        context = {
            "b1": respondents[0],
            "b2": respondents[-1],
            "a": names["applicant"],
            "b": names["respondent"],
            "c": names["third_party"] or names["respondent"],
            "addr": address,
            "place": _short_place(address),
            "v": plan.grid.community,
            "amt": amount or 0,
            "paid": paid,
            "n": n,
        }
        summary = plan.scenario.summary.format(**context)[:200]
        facts = plan.scenario.facts.format(**context)
        if plan.final != "registered" and self.rng.random() < 0.3:
            facts += "网格员已拍照取证，并分别听取了双方意见。"
        inp = services.CaseInput(
            category=plan.scenario.category,
            summary=summary,
            facts=facts,
            grid_id=plan.grid.id,
            source=plan.source,
            colour=plan.colour,
            public_security_risk=plan.scenario.risk and plan.colour == "red",
            amount=Decimal(amount) if amount else None,
            location=address,
            parties=parties,
        )
        return inp, {k: str(v) for k, v in context.items()}

    # ---- one case

    async def run(self, plan: Plan, key: str) -> int:
        self.active = []
        self.objected = set()
        inp, context = self._case_input(plan)
        grid = plan.grid
        registrar = self._registrar(plan)
        times = self._times(plan)
        case_id = await services.register_case(inp, registrar, key)
        clock = Clock(case_id, times[0])
        await self._stamp(clock, times[0])
        dates: dict[str, date | None] = {}
        level = "grid"
        mediator: CurrentUser | None = None
        for step, at in zip(plan.steps, times[1:], strict=True):
            actor = self._actor(step.action, plan, level, mediator)
            if step.action == "escalate":
                await services.transition_case(
                    actor, case_id, "escalate", {}, note=_escalate_note(level)
                )
                level = ["grid", "community", "town", "county"][
                    ["grid", "community", "town", "county"].index(level) + 1
                ]
            elif step.action == "assign":
                mediator = await self._assign(plan, case_id, clock, at)
            elif step.action == "object":
                self.objected.update(self.active)
                self.active = []
                row = (
                    await CaseMediator.select(CaseMediator.id)
                    .where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
                    .first()
                )
                if row:
                    await services.object_to_mediator(
                        self.cast.worker(grid), case_id, row["id"], OBJECTION_REASON
                    )
                mediator = None
            elif step.action == "extend":
                await services.extend_mediation(actor, case_id, step.facts["days"], True, True)
            elif step.action == "colour":
                colour = step.facts["colour"]
                await services.change_colour(
                    self.cast.police(grid), case_id, colour, COLOUR_REASONS[colour]
                )
            else:
                facts = dict(step.facts)
                note = self._note(step.action, facts, plan, context)
                await services.transition_case(actor, case_id, step.action, facts, note=note)
                the_day = local_date(at)
                if step.action == "accept":
                    dates.setdefault("accepted_on", the_day)
                elif step.action == "start_mediation":
                    dates.setdefault("mediation_started_on", the_day)
                elif step.action in ("close", "decline"):
                    dates["closed_on"] = the_day
                elif step.action in ("settle", "terminate"):
                    dates["concluded_on"] = the_day
            clock.at = at
            # Only these moves notify anyone; the others wrote events alone.
            await self._stamp(clock, at, step.action in ("escalate", "assign", "colour"))
        values: dict[Any, Any] = {
            Case.registered_on: local_date(times[0]),
            Case.registered_at: times[0],
            Case.updated_at: times[-1],
        }
        column = {
            "accepted_on": Case.accepted_on,
            "mediation_started_on": Case.mediation_started_on,
            "closed_on": Case.closed_on,
            "concluded_on": Case.concluded_on,
        }
        for name, value in dates.items():
            values[column[name]] = value
        await Case.update(values).where(Case.id == case_id)
        await IntakeSubmission.update({IntakeSubmission.created_at: times[0]}).where(
            IntakeSubmission.case == case_id
        )
        if plan.final not in ("closed", "declined"):
            for mediator_id in self.active:  # open cases keep their mediators busy
                self.loads[mediator_id] = self.loads.get(mediator_id, 0) + 1
        return case_id

    def _registrar(self, plan: Plan) -> CurrentUser:
        if plan.source == "police_referral":
            return self.cast.police(plan.grid)
        if plan.source in ("hotline_12345", "referral") and self.rng.random() < 0.5:
            return self.cast.centre(plan.grid)
        return self.cast.worker(plan.grid)

    def _actor(
        self, action: str, plan: Plan, level: str, mediator: CurrentUser | None
    ) -> CurrentUser:
        grid = plan.grid
        if action == "escalate":
            return {
                "grid": self.cast.worker(grid),
                "community": self.cast.centre(grid),
            }.get(level, self.cast.county())
        if action in ("accept", "decline"):
            if level in ("town", "county"):
                return self.cast.centre(grid) if level == "town" else self.cast.county()
            return self.cast.worker(grid)
        if action in ("start_mediation", "settle", "terminate", "remediate", "extend"):
            if mediator is not None:
                return mediator
            return self.cast.centre(grid) if level in ("town", "county") else self.cast.worker(grid)
        return self.cast.worker(grid)  # performance, breach, follow-up and closing

    def _likely_mediators(self, plan: Plan, objected: set[int]) -> list[assignment.Suggestion]:
        """The ranking ``suggest_mediators`` would give, from loads kept in memory.

        It saves asking the database twice per assignment; ``assign_mediator`` still checks
        the choice against the real suggestions and refuses a wrong one.
        """
        facts = assignment.CaseFacts(
            category_code=plan.scenario.category,
            region_path=plan.grid.path,
            objected_mediator_ids=frozenset(objected),
        )
        candidates = [
            replace(m, current_load=self.loads.get(int(m.id), 0)) for m in self.cast.mediators
        ]
        return assignment.rank_mediators(facts, candidates)

    async def _assign(self, plan: Plan, case_id: int, clock: Clock, at: datetime):
        centre = self.cast.centre(plan.grid) if plan.level != "county" else self.cast.county()
        suggestions = self._likely_mediators(plan, self.objected)
        pick = None
        if suggestions:
            pick = (
                suggestions[0]
                if len(suggestions) == 1 or self.rng.random() < 0.7
                else (suggestions[1])
            )
            try:
                await services.assign_mediator(centre, case_id, int(pick.mediator.id))
            except services.CaseError:
                pick = None
        if pick is None:  # the memory was wrong: ask the service
            suggestions = await services.suggest_mediators(centre, case_id)
            if not suggestions:
                raise RuntimeError("demo: no mediator free for a case; lower the open shares")
            pick = suggestions[0]
            await services.assign_mediator(centre, case_id, int(pick.mediator.id))
        self.active = [int(pick.mediator.id)]
        rows = (
            await CaseMediator.update({CaseMediator.assigned_at: at})
            .where(CaseMediator.case == case_id, CaseMediator.id > clock.last_assignment)
            .returning(CaseMediator.id)
        )
        if rows:
            clock.last_assignment = max(r["id"] for r in rows)
        user = self.cast.users.get(self.cast.mediator_user.get(int(pick.mediator.id), ""))
        return user if user is not None and user.can_see_path(plan.grid.path) else None

    def _note(self, action: str, facts: dict, plan: Plan, context: dict[str, str]) -> str:
        rng = self.rng
        if action == "accept":
            return rng.choice(ACCEPT_NOTES)
        if action == "decline":
            for reason, _text, note in DECLINES:
                if reason == facts.get("decline_reason"):
                    return note.format(**context)
            return ""
        if action == "start_mediation":
            return rng.choice(START_NOTES).format(**context)
        if action == "remediate":
            return "协议未履行，经双方同意再次组织调解。"
        if action == "settle":
            text = plan.scenario.resolution.format(**context)
            if facts.get("agreement_form") == "oral":
                return "达成口头协议：" + text
            return "达成书面调解协议：" + text
        if action == "terminate":
            if facts.get("termination_reason") == "party_refuses":
                return "被申请人明确表示拒绝调解，终止调解，已告知申请人可依法向人民法院起诉。"
            return plan.scenario.failure.format(**context)
        money = plan.scenario.amount is not None
        if action == "start_performance":
            return rng.choice(MONEY_PERFORMANCE_NOTES if money else PERFORMANCE_NOTES)
        if action == "record_performed":
            return rng.choice(MONEY_PERFORMED_NOTES if money else PERFORMED_NOTES).format(**context)
        if action == "record_breach":
            return rng.choice(MONEY_BREACH_NOTES if money else BREACH_NOTES).format(**context)
        if action == "close":
            return rng.choice(CLOSE_NOTES)
        return ""


def _escalate_note(level: str) -> str:
    return {
        "grid": "网格内多次调解未果，提交社区人民调解委员会。",
        "community": "矛盾复杂，涉及多方，提请街道（镇）矛调中心牵头化解。",
        "town": "涉及面广，提请市矛调中心协调相关部门共同化解。",
    }.get(level, "")


def _street(grid: GridInfo) -> str:
    if grid.is_village:
        return grid.community
    places = URBAN_PLACES.get(grid.community) or [grid.community]
    roads = [p for p in places if p.endswith(("路", "街", "头"))]
    return (roads or places)[0]


def _home(rng: random.Random, grid: GridInfo) -> str:
    if grid.is_village:
        return f"{grid.town}{grid.community}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"
    places = URBAN_PLACES.get(grid.community) or [f"{grid.community}小区"]
    place = rng.choice(places)
    if place.endswith(("路", "街", "头")):
        return f"{grid.town}{place}{rng.randint(1, 300)}号"
    building = rng.randint(grid.number * 3 - 2, grid.number * 3)
    return (
        f"{grid.town}{place}{building}幢{rng.randint(1, 3)}单元"
        f"{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    )


def _org_address(rng: random.Random, grid: GridInfo, kind: str) -> str:
    if kind == "insurer":
        return "平湖市当湖街道胜利路436号"
    if kind == "village":
        return f"{grid.town}{grid.community}村委会"
    return f"{grid.town}{_street(grid)}{rng.randint(1, 300)}号"


def _short_place(address: str) -> str:
    """梅园小区5幢 from 当湖街道梅园小区5幢2单元301室; a road address stays as it is."""
    for marker in ("幢",):
        if marker in address:
            head = address.split(marker)[0] + marker
            for town_suffix in ("街道", "镇"):
                if town_suffix in head:
                    head = head.split(town_suffix, 1)[1]
            return head
    return address


# ---------------------------------------------------------------- the canonical story


async def _story(cast: Cast, grids: list[GridInfo], now: datetime, loads: dict[int, int]) -> int:
    """The student, the sublessor and the grid+police team (DESIGN.md §1), step by step."""
    grid = next(g for g in grids if g.code == STORY_GRID)
    worker, police, centre = cast.worker(grid), cast.police(grid), cast.centre(grid)
    body = "34010420040317" + "081"
    student_id = body + id_check_char(body)
    inp = services.CaseInput(
        category="housing_land",
        summary=STORY_SUMMARY,
        facts=(
            "申请人周昇系在平湖就读的大学生，经中介介绍向二房东钱卫国转租当湖街道梅园小区2幢"
            "1单元402室的一个单间，月租1200元，押金3000元，约定租期一年。因学校安排实习，"
            "周昇提前两个月退租并提前一个月告知，二房东以违约为由拒不退还押金，随后电话停机、"
            "微信拉黑。房东孙玥表示房屋整租给了钱卫国，押金与她无关。周昇到东湖社区求助。"
        ),
        grid_id=grid.id,
        source="walk_in",
        colour="green",
        amount=Decimal("3000"),
        location="当湖街道梅园小区2幢1单元402室",
        parties=[
            services.PartyInput(
                role="applicant",
                name="周昇",
                id_number=student_id,
                phone="15857312046",
                address="当湖街道梅园小区2幢1单元402室（已退租）",
            ),
            services.PartyInput(
                role="respondent",
                name="钱卫国",
                phone="13757390318",
                address="平湖市当湖街道（经公安平台查询核实）",
                representative="",
            ),
            services.PartyInput(
                role="third_party",
                name="孙玥",
                phone="13967321580",
                address="当湖街道梅园小区2幢1单元402室（房屋所有权人）",
            ),
        ],
    )
    # A Wednesday afternoon about three weeks ago; the joint session is on the Saturday.
    day = local_date(now) - timedelta(days=24)
    day -= timedelta(days=(day.weekday() - 2) % 7)
    registered = datetime.combine(day, time(15, 40), county_zone())
    case_id = await services.register_case(inp, worker, STORY_KEY)
    clock = Clock(case_id, registered)
    await _stamp(clock, registered, now)

    async def move(user: CurrentUser, action: str, facts: dict, note: str, when: datetime) -> None:
        await services.transition_case(user, case_id, action, facts, note=note)
        await _stamp(clock, when, now)

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(hour, minute), county_zone())

    await move(
        worker,
        "accept",
        {},
        "二房东电话停机、已搬离原住处。网格员联系驻点民警，由民警通过公安平台查询，"
        "找到二房东钱卫国现住址和新的联系电话，钱卫国同意到社区调解。",
        at(1, 10, 20),
    )
    suggestions = await services.suggest_mediators(centre, case_id)
    chosen = next((s for s in suggestions if "housing_land" in s.mediator.skills), suggestions[0])
    await services.assign_mediator(centre, case_id, int(chosen.mediator.id))
    loads[int(chosen.mediator.id)] = loads.get(int(chosen.mediator.id), 0) + 1
    await CaseMediator.update({CaseMediator.assigned_at: at(1, 11, 5)}).where(
        CaseMediator.case == case_id
    )
    await _stamp(clock, at(1, 11, 5), now)
    await move(
        police,
        "start_mediation",
        {},
        "周六上午在东湖社区调解室，网格员与驻点民警联合调解（警网融合），房东孙玥到场说明"
        "转租情况。民警讲解了转租和押金的法律规定。",
        at(3, 9, 30),
    )
    await move(
        worker,
        "settle",
        {"agreement_form": "written"},
        "经调解，双方确认周昇提前退租给二房东造成一个月空置损失，二房东钱卫国扣除一个月"
        "租金1200元后退还押金1800元，三日内通过微信转账付清。签订人民调解协议书一式三份。",
        at(3, 11, 45),
    )
    await move(
        worker,
        "start_performance",
        {},
        "协议约定三日内退还1800元，网格员负责跟踪。",
        at(3, 11, 50),
    )
    await move(
        worker,
        "record_performed",
        {},
        "周昇确认已收到钱卫国微信转账1800元，押金纠纷履行完毕。待一周后回访结案。",
        at(5, 16, 10),
    )
    last = at(5, 16, 10)
    await Case.update(
        {
            Case.registered_on: local_date(registered),
            Case.registered_at: registered,
            Case.accepted_on: local_date(at(1, 10)),
            Case.mediation_started_on: local_date(at(3, 9)),
            Case.updated_at: last,
        }
    ).where(Case.id == case_id)
    await IntakeSubmission.update({IntakeSubmission.created_at: registered}).where(
        IntakeSubmission.case == case_id
    )
    return case_id


# ---------------------------------------------------------------- loading


async def _grids() -> list[GridInfo]:
    rows = await Grid.select(
        Grid.id,
        Grid.code,
        Grid.name,
        Grid.region._.code,
        Grid.region._.name,
        Grid.region._.path,
        Grid.region._.parent._.code,
        Grid.region._.parent._.name,
    ).order_by(Grid.id)
    result = []
    for r in rows:
        result.append(
            GridInfo(
                id=r["id"],
                code=r["code"],
                name=r["name"],
                number=int(r["code"].rsplit("-", 1)[-1]) if "-" in r["code"] else 1,
                community=r["region.name"],
                community_code=r["region.code"],
                town=r["region.parent.name"] or "",
                town_code=r["region.parent.code"] or "",
                is_village=(r["region.name"] or "").endswith("村"),
                path=r["region.path"] or "",
            )
        )
    return result


async def _cast(grids: list[GridInfo]) -> Cast:
    staff = await Staff.select(Staff.id, Staff.username).where(Staff.active.eq(True))
    users = {}
    for s in staff:
        user = await load_user(s["id"])
        if user is not None:
            users[s["username"]] = user
    by_id = {u.id: name for name, u in users.items()}
    worker_of: dict[int, str] = {}
    police_of: dict[int, str] = {}
    for m in await TeamMember.select(TeamMember.grid, TeamMember.staff, TeamMember.role).order_by(
        TeamMember.id
    ):
        target = worker_of if m["role"] == "grid_worker" else police_of
        if m["staff"] in by_id:
            target.setdefault(m["grid"], by_id[m["staff"]])
    rows = await Mediator.select(
        Mediator.id,
        Mediator.staff,
        Mediator.staff._.region._.path,
        Mediator.skills,
        Mediator.available,
        Mediator.max_cases,
    ).output(load_json=True)
    mediators = {m["id"]: by_id.get(m["staff"], "") for m in rows}
    profiles = [
        assignment.MediatorFacts(
            id=m["id"],
            name=mediators[m["id"]],
            region_path=m["staff.region.path"] or "",
            skills=frozenset(m["skills"] or []),
            available=m["available"],
            max_load=m["max_cases"],
        )
        for m in rows
    ]
    for g in grids:
        if g.id not in worker_of or g.id not in police_of:
            raise RuntimeError(f"demo: grid {g.code} has no grid worker or police officer")
    return Cast(users, worker_of, police_of, mediators, profiles)


async def demo_cases_present() -> bool:
    return await Case.exists().where(Case.summary == STORY_SUMMARY)


async def load_demo_cases(count: int = DEMO_COUNT, seed: int = 2026) -> int:
    """Register ``count`` demo cases (the story included); 0 if they are there already."""
    if await demo_cases_present():
        return 0
    grids = await _grids()
    if not grids:
        return 0
    rng = random.Random(seed)
    now = local_now()
    today = local_date(now)
    async with bulk_write_transaction():
        cast = await _cast(grids)
        plans = _make_plans(rng, max(count - 1, 1), grids, today)
        runner = Runner(rng, cast, now)
        for row in await CaseMediator.select(CaseMediator.mediator).where(
            CaseMediator.active.eq(True),
            CaseMediator.case.status.is_in(services.OPEN_STATUSES),
        ):
            runner.loads[row["mediator"]] = runner.loads.get(row["mediator"], 0) + 1
        story_day = today - timedelta(days=24)
        created = 0
        story_done = False
        for i, plan in enumerate(plans):
            if not story_done and plan.reg_day and plan.reg_day > story_day:
                await _story(cast, grids, now, runner.loads)
                story_done = True
                created += 1
            await runner.run(plan, f"demo-case-{seed}-{i:05d}")
            created += 1
        if not story_done:
            await _story(cast, grids, now, runner.loads)
            created += 1
        await _sweep_and_backdate(now)
    return created


async def _sweep_and_backdate(now: datetime) -> None:
    """Run the real deadline sweep, then date what it wrote to the day after each deadline."""
    last = await CaseEvent.select(CaseEvent.id).order_by(CaseEvent.id, ascending=False).first()
    last_event = last["id"] if last else 0
    last = (
        await Notification.select(Notification.id)
        .order_by(Notification.id, ascending=False)
        .first()
    )
    last_notification = last["id"] if last else 0
    await services.sweep_deadlines()
    events = await CaseEvent.select(CaseEvent.id, CaseEvent.case).where(CaseEvent.id > last_event)
    for case_id in sorted({e["case"] for e in events}):
        case = await Case.select(*Case.all_columns()).where(Case.id == case_id).first()
        assert case is not None  # it has events
        previous = (
            await CaseEvent.select(CaseEvent.at)
            .where(CaseEvent.case == case_id, CaseEvent.id <= last_event)
            .order_by(CaseEvent.id, ascending=False)
            .first()
        )
        clocks = await services.clocks_for(case)
        late = [
            c.clock.due
            for c in clocks
            if c.state.is_overdue and not c.state.done and c.clock.due is not None
        ]
        due = min(late) if late else local_date(now)
        at = datetime.combine(due + timedelta(days=1), time(0, 15), county_zone())
        if previous and at <= previous["at"]:
            at = previous["at"] + timedelta(minutes=15)
        at = min(at, now)
        await CaseEvent.update({CaseEvent.at: at}).where(
            CaseEvent.case == case_id, CaseEvent.id > last_event
        )
        await Notification.update(
            {Notification.created_at: at, Notification.read: at < now - timedelta(days=3)}
        ).where(Notification.case == case_id, Notification.id > last_notification)
        await Case.update({Case.updated_at: at}).where(Case.id == case_id)
