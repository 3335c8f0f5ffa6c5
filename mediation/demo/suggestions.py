"""Demo people's suggestions for the demo county: points, thematic collections, ~150 suggestions.

Every suggestion goes through the real services (``submit_suggestion``, ``move``,
``group_with``, ``rate``, ``reroute_to_case``), acting as the person who would do it: the
kiosk or website (no one), centre staff (admin, or centre1 inside 当湖街道), the department's
handler (handler1 for 住建局, handler2 for 人社局; staff for departments without one). All
steps of all suggestions run in the order of their planned times, and after each step what
it wrote is moved back to when it happened: the suggestion's receipt date, clocks and
creation time, the events' times, the reply time, and — for a grievance turned into a dispute
case — the case's registration, events and notifications. The flags the nightly sweep would
have set (``overdue``) are set from those dates.

The demo county (``mediation.demo.load_demo``) must be loaded first. Loading twice changes
nothing: the direct-report points mark the demo as present.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from mediation.accounts.services import CurrentUser, load_user
from mediation.cases.deadlines import is_working_day
from mediation.cases.services import today
from mediation.cases.submissions import IntakeSubmission
from mediation.cases.tables import Case, CaseEvent, Notification
from mediation.clock import county_zone, local_date, local_now
from mediation.db import bulk_write_transaction
from mediation.grid.tables import Department, Grid, Region, Staff
from mediation.suggestions import common, rules, services
from mediation.suggestions.tables import (
    DirectReportPoint,
    Suggestion,
    SuggestionEvent,
    SuggestionTopic,
)

COUNTY_CODE = "330482"
DANGHU = "330482001"  # centre1 staffs the 当湖街道 centre

# code, name, region code, address
# code, name, community or town, address, opening hours, host organisation, contact, phone
POINTS = [
    (
        "ZBD-330482001001",
        "东湖社区党群服务中心直报点",
        "330482001001",
        "平湖市当湖街道东湖路88号东湖社区党群服务中心一楼",
        "周一至周五 8:30–11:30，13:30–17:00",
        "东湖社区居民委员会",
        "沈丽华",
        "0573-85010801",
    ),
    (
        "ZBD-330482002",
        "钟埭街道便民服务中心直报点",
        "330482002",
        "平湖市钟埭街道钟埭大道1号便民服务中心大厅",
        "周一至周六 8:30–17:00（法定节假日除外）",
        "钟埭街道社会治理中心",
        "陆建明",
        "0573-85020802",
    ),
    (
        "ZBD-330482101",
        "新埭镇文化礼堂直报点",
        "330482101001",
        "平湖市新埭镇新埭大街文化礼堂西侧",
        "每周二、四、六 9:00–16:00",
        "新埭镇人民建议征集工作站",
        "顾晓燕",
        "0573-85030803",
    ),
]
# Which point serves a town.
POINT_OF_TOWN = {
    "330482001": "ZBD-330482001001",
    "330482002": "ZBD-330482002",
    "330482101": "ZBD-330482101",
}

PLACES: dict[str, tuple[list[str], list[str]]] = {
    "330482001001": (["东湖花园", "梅园小区", "东湖新村"], ["东湖路", "胜利路", "梅兰路"]),
    "330482001002": (["西门新村", "府前小区", "西大街小区"], ["西大街", "环城西路", "府前路"]),
    "330482001003": (["南市小区", "南河头公寓", "新华苑"], ["南市街", "新华南路", "南河头"]),
    "330482002001": (["钟埭新苑", "钟溪花园", "埭上小区"], ["钟埭大道", "钟溪路", "兴平路"]),
    "330482002201": (["沈家弄村集中居住点", "沈家弄新村"], ["沈家弄路", "村道东西线"]),
    "330482101001": (["新埭花苑", "泖河小区", "新埭老街片区"], ["新埭大街", "泖河路", "振兴路"]),
    "330482101201": (["鱼圻塘村农民公寓", "鱼圻塘集中居住区"], ["鱼圻塘路", "村中心路"]),
    "330482101202": (["旧埭村安置小区", "旧埭自然村"], ["旧埭路", "旧埭桥堍"]),
}
# Where suggestions come from: the town seat has more people.
COMMUNITY_WEIGHTS = {
    "330482001001": 22,
    "330482001002": 14,
    "330482001003": 12,
    "330482002001": 14,
    "330482002201": 7,
    "330482101001": 12,
    "330482101201": 6,
    "330482101202": 5,
}


@dataclass(frozen=True)
class Template:
    category: str
    department: str  # demo department code; "" when none of the demo departments fits
    title: str
    reason: str
    measures: str
    kind: str = "policy"  # policy | grievance | advice | empty
    scope: str = "local"  # local (a community) | county
    collection: str = ""  # renovation | livelihood: fits that thematic collection
    case_category: str = ""  # grievance: the dispute category
    advice: str = ""  # advice: where the proposer should turn


T = Template
TEMPLATES: list[Template] = [
    T(
        "urban_construction",
        "zjj",
        "{xiaoqu}老旧多层住宅加装电梯",
        "{xiaoqu}建于上世纪九十年代，均为六层无电梯住宅，六十岁以上住户超过三成。"
        "不少老人腿脚不便，上下楼十分困难，有的常年无法下楼。",
        "建议将{xiaoqu}纳入加装电梯年度计划，由社区牵头逐幢征求意见，落实财政补助，"
        "简化规划和施工审批，并引入“代建代运营”模式减轻居民出资压力。",
        collection="renovation",
    ),
    T(
        "urban_construction",
        "zjj",
        "{xiaoqu}雨污管网改造",
        "{xiaoqu}雨水和污水管道混接，每逢大雨一楼住户家中污水倒灌，"
        "小区主干道积水超过二十厘米，车辆和行人通行困难。",
        "建议对{xiaoqu}实施雨污分流改造，同步疏通{road}沿线市政管网，"
        "汛期前组织一次全面排查，并在低洼处增设强排设施。",
        collection="renovation",
    ),
    T(
        "urban_construction",
        "zjj",
        "{xiaoqu}增设电动自行车集中充电棚",
        "{xiaoqu}电动自行车保有量大，但没有集中充电设施，居民从楼道私拉电线、"
        "把电池带回家充电的现象普遍，存在较大火灾隐患。",
        "建议利用{xiaoqu}东侧空地建设带智能断电和监控的集中充电棚，"
        "由物业统一管理，同时开展楼道充电专项清理。",
        collection="renovation",
    ),
    T(
        "urban_construction",
        "zjj",
        "{xiaoqu}外墙瓷砖脱落隐患整治",
        "近期{xiaoqu}多幢楼外墙瓷砖脱落，有一块砸坏了楼下停放的汽车，"
        "居民经过时提心吊胆，担心伤人。",
        "建议尽快对{xiaoqu}外墙开展安全排查，对空鼓脱落部位先行拆除并设置警示围挡，"
        "再结合老旧小区改造统一翻新外立面。",
        collection="renovation",
    ),
    T(
        "urban_construction",
        "zjj",
        "{road}人行道破损修复",
        "{road}人行道地砖大面积松动破损，下雨后一踩就溅水，"
        "老人和推婴儿车的居民经常被绊，盲道也被截断。",
        "建议对{road}人行道进行整体修复，更换透水砖，恢复连续盲道，并加强对占用人行道停车的管理。",
        collection="livelihood",
    ),
    T(
        "transport",
        "jtj",
        "优化{road}路口红绿灯配时",
        "{road}与主干道交叉口早晚高峰拥堵严重，左转车辆排队常超过三百米，"
        "绿灯时间过短，行人过街也很紧张。",
        "建议增设左转专用相位，高峰期适当延长左转绿灯时间，并根据车流量试行智能信号控制。",
    ),
    T(
        "transport",
        "jtj",
        "开通{town}至平湖高铁站的公交专线",
        "{town}居民去平湖高铁站需要换乘两次公交，单程超过一个小时，"
        "早班车发车太晚，赶不上早上的高铁。",
        "建议开通{town}至高铁站的直达公交专线，首班车提前到早上六点，并与高铁到发时刻衔接。",
        scope="local",
        collection="livelihood",
    ),
    T(
        "transport",
        "jtj",
        "{xiaoqu}周边增设夜间临时停车泊位",
        "{xiaoqu}建成时没有规划停车位，现在居民车辆越来越多，"
        "晚上车辆停满消防通道，救护车、消防车进不来。",
        "建议在{road}非高峰时段施划夜间临时停车泊位，协调周边单位停车场夜间错时向居民开放。",
        collection="renovation",
    ),
    T(
        "transport",
        "jtj",
        "{road}学校门口增设减速带和斑马线",
        "{road}小学门口车速快，没有斑马线和减速带，上下学时段孩子过马路非常危险，家长反映强烈。",
        "建议在学校门口增设减速带、斑马线和“前方学校”警示标志，上下学高峰安排交警或护学岗值守。",
        collection="livelihood",
    ),
    T(
        "transport",
        "jtj",
        "{road}公交站台增设遮阳避雨棚",
        "{road}沿线多个公交站只有一根站牌，没有候车亭和座椅，"
        "夏天暴晒、雨天淋雨，老年人候车很辛苦。",
        "建议对{road}沿线公交站台进行改造，增设候车亭、座椅和电子站牌。",
        collection="livelihood",
    ),
    T(
        "city_management",
        "zfj",
        "{road}夜市油烟噪声扰民",
        "{road}夜市摊位一直经营到凌晨两点，油烟直排、音响声音很大，"
        "周边居民晚上无法休息，窗户都不敢开。",
        "建议规范{road}夜市经营时间和区域，统一安装油烟净化设备，"
        "晚上十点后禁止使用高音喇叭，并加强夜间巡查。",
    ),
    T(
        "city_management",
        "zfj",
        "{road}沿街店铺占道经营整治",
        "{road}沿街店铺把商品和桌椅摆到人行道上，行人只能走到机动车道，存在安全隐患，也影响市容。",
        "建议划定店外经营范围并标线管理，对屡教不改的店铺依法处罚，同时引导商户参与“门前三包”。",
    ),
    T(
        "city_management",
        "zfj",
        "{xiaoqu}楼顶违章搭建处理",
        "{xiaoqu}有住户在楼顶搭建彩钢板房，影响楼下住户采光和防水，"
        "遇到大风天气还有坍塌风险，多次向物业反映未果。",
        "建议执法部门对{xiaoqu}楼顶违建开展调查并依法拆除，"
        "同时建立小区违建发现、报告和处置的长效机制。",
        collection="renovation",
    ),
    T(
        "city_management",
        "zfj",
        "{community}垃圾分类投放点增设洗手池",
        "{community}垃圾分类投放点分类后手上容易沾到污物，附近没有洗手的地方，"
        "居民分类积极性受影响。",
        "建议在{community}各垃圾分类投放点增设洗手池和照明，并适当延长定时投放时间，方便上班族。",
        collection="livelihood",
    ),
    T(
        "city_management",
        "zfj",
        "{road}共享单车乱停放治理",
        "{road}地铁接驳点和商场门口共享单车堆放成片，占用盲道和人行道，早晚高峰行人几乎无法通行。",
        "建议在{road}增设共享单车电子围栏停放点，督促运营企业及时调度清运，对乱停放实行企业考核。",
    ),
    T(
        "environment",
        "sthj",
        "{community}河道水质发黑发臭",
        "{community}附近河道近期水质发黑，夏天气味很重，偶尔有死鱼漂浮，"
        "怀疑有生活污水或企业废水直排入河。",
        "建议对沿河排口开展排查并封堵违法排口，清淤疏浚河道，"
        "增设水质在线监测点并定期公布监测结果。",
    ),
    T(
        "environment",
        "sthj",
        "{town}工业园区夜间异味排查",
        "最近一个月{town}工业园区周边夜间经常闻到刺鼻气味，"
        "居民反映胸闷、咽喉不适，白天反而不明显。",
        "建议生态环境部门对园区企业开展夜间突击检查，加装废气在线监测，查明异味来源并依法处理。",
    ),
    T(
        "environment",
        "sthj",
        "{road}建筑工地扬尘治理",
        "{road}旁在建工地渣土车进出不冲洗，道路上全是泥土，"
        "刮风天尘土飞扬，周边居民家里一天就落满灰。",
        "建议督促工地落实围挡、喷淋、车辆冲洗等扬尘防治措施，对渣土车带泥上路依法查处。",
    ),
    T(
        "environment",
        "sthj",
        "农村生活污水处理设施运维管理",
        "{community}几个自然村的生活污水处理终端长期无人维护，设备停运，污水溢流到田间和沟渠。",
        "建议明确农村生活污水处理设施的运维主体和经费，建立定期巡检和第三方考核制度。",
    ),
    T(
        "employment",
        "rsj",
        "灵活就业人员社保缴费指导",
        "身边不少灵活就业人员不清楚如何以个人身份缴纳社保，"
        "到窗口办理时又要求多种材料，来回跑好几次。",
        "建议编制灵活就业人员参保“一张图”指南，在社区服务中心设置帮办点，推广线上全程办理。",
        scope="county",
    ),
    T(
        "employment",
        "rsj",
        "为大龄失业人员开设技能培训班",
        "{town}有不少四五十岁的失业人员，原来在工厂做普工，现在找工作难，又不知道去哪里参加培训。",
        "建议在{town}开设面向大龄失业人员的家政、养老护理、电工等实用技能培训，"
        "培训后对接本地用工企业。",
        collection="livelihood",
    ),
    T(
        "employment",
        "rsj",
        "加强外卖骑手职业伤害保障宣传",
        "外卖、快递骑手在送餐途中受伤的情况不少，很多骑手不知道已有职业伤害保障，"
        "受伤后也不知道怎么申请。",
        "建议联合平台企业在骑手站点开展职业伤害保障政策宣传，在骑手驿站设置咨询点，简化申请流程。",
        scope="county",
    ),
    T(
        "employment",
        "rsj",
        "建设新就业形态劳动者服务站",
        "快递员、网约车司机等新就业形态劳动者没有固定休息场所，夏天中午只能在路边树荫下休息。",
        "建议在商圈和交通枢纽附近建设“暖心驿站”，提供饮水、充电、休息和法律咨询服务。",
        scope="county",
        collection="livelihood",
    ),
    T(
        "market",
        "scjgj",
        "{road}菜市场设置公平秤",
        "{road}菜市场部分摊位缺斤短两，居民买菜后回家一称少了不少，市场里没有公平秤可以复核。",
        "建议在菜市场入口设置公平秤和投诉电话，定期抽查摊位计量器具，对作弊商户依法处罚并公示。",
    ),
    T(
        "market",
        "scjgj",
        "加强校园周边小卖部食品安全检查",
        "{community}学校周边小卖部出售“三无”辣条和来源不明的饮料，"
        "不少学生放学后购买，家长十分担心。",
        "建议对校园周边食品经营店开展专项检查，下架“三无”食品，建立校园周边食品安全长效监管机制。",
    ),
    T(
        "market",
        "scjgj",
        "防范预付卡消费“跑路”风险",
        "近来有健身房、理发店办了预付卡后突然关门，老板失联，消费者的钱追不回来。",
        "建议推行预付卡资金存管制度，限制单张预付卡金额，建立商家信用公示和风险预警机制。",
        scope="county",
    ),
    T(
        "market",
        "scjgj",
        "{xiaoqu}电梯维保质量监督",
        "{xiaoqu}电梯今年已经多次困人，维保单位每次来只是签个字就走，居民对电梯安全很担心。",
        "建议对{xiaoqu}电梯开展专项检查，督促维保单位按规定保养，"
        "推广电梯物联网监测和“保险+服务”模式。",
        collection="renovation",
    ),
    T(
        "community",
        "zjj",
        "规范{xiaoqu}物业收费公示",
        "{xiaoqu}物业费逐年上涨，但公共收益和维修资金使用情况从未公示，业主与物业矛盾越来越大。",
        "建议督促物业公司按季度公示收支和公共收益，由社区指导成立业委会并加强对物业服务的考核。",
        collection="renovation",
    ),
    T(
        "community",
        "zjj",
        "{xiaoqu}业委会换届选举指导",
        "{xiaoqu}业委会任期已满一年多仍未换届，部分委员已经搬走，小区大事无人牵头决策。",
        "建议街道和社区对{xiaoqu}业委会换届给予指导，公开候选人产生程序，推行线上投票提高参与率。",
    ),
    T(
        "health_elderly",
        "",
        "{community}居家养老服务中心增设老年食堂",
        "{community}独居和高龄老人较多，子女上班后老人吃饭成了难题，附近没有价格实惠的老年助餐点。",
        "建议在{community}居家养老服务中心增设老年食堂，对高龄、独居老人给予就餐补贴，"
        "行动不便的提供送餐上门。",
        collection="livelihood",
    ),
    T(
        "health_elderly",
        "",
        "社区卫生服务站延长周末门诊时间",
        "{community}卫生服务站周末只开半天，上班族只能周末看病配药，常常白跑一趟。",
        "建议社区卫生服务站周末全天开诊，或实行轮值开放，方便上班族就医。",
        collection="livelihood",
    ),
    T(
        "education",
        "",
        "{town}增加普惠性托育服务",
        "{town}三岁以下婴幼儿托位紧张，公办托育机构排队要等一年，民办托育价格又太高。",
        "建议利用闲置校舍和社区用房增设普惠性托育点，对托育机构给予运营补贴。",
        collection="livelihood",
    ),
    T(
        "economy",
        "",
        "优化小微企业开办“一件事”办理流程",
        "开办小微企业需要在多个窗口分别提交材料，部分材料重复提交，整个流程下来要一周左右。",
        "建议推行企业开办“一件事”集成办理，一次提交、全程网办，压缩到一个工作日内。",
        scope="county",
    ),
    # Not suggestions: personal grievances become dispute cases.
    T(
        "community",
        "",
        "楼上邻居长期夜间噪音，协商无果",
        "我住在{xiaoqu}，楼上住户每天晚上十一点后还在拖动家具、孩子跑跳，"
        "我已经上门沟通三次，对方态度很差，家里老人长期失眠。",
        "希望社区和有关部门出面协调，让对方注意夜间噪音。",
        kind="grievance",
        case_category="neighbour",
    ),
    T(
        "community",
        "",
        "物业公司拒不退还装修押金",
        "我在{xiaoqu}的房子装修完工已半年，验收合格，物业公司以各种理由拖延退还2000元装修押金。",
        "请求有关部门督促物业公司退还押金。",
        kind="grievance",
        case_category="property_mgmt",
    ),
    T(
        "employment",
        "",
        "个人被拖欠三个月工资",
        "我在{road}一家装修公司做木工，老板已经拖欠我三个月工资共一万八千元，现在电话也不接。",
        "希望政府帮忙讨回工资。",
        kind="grievance",
        case_category="labour",
    ),
    T(
        "urban_construction",
        "",
        "与邻居宅基地界址纠纷",
        "我家与邻居在{community}的宅基地相邻，邻居翻建房屋时把围墙往我家这边移了半米，"
        "双方多次争吵，差点动手。",
        "希望村里和有关部门上门测量，调解处理。",
        kind="grievance",
        case_category="housing_land",
    ),
    # Not suggestions: matters for a court, review or another channel.
    T(
        "other",
        "",
        "对法院民事判决结果不服",
        "我与他人的借款纠纷案件，法院一审判决我承担全部还款责任，我认为判决不公。",
        "要求政府出面重新处理这个案件。",
        kind="advice",
        advice="该事项属于司法程序范围，建议人民建议征集渠道不予受理。"
        "请在法定期限内向上一级人民法院提起上诉；如需法律援助，可到平湖市法律援助中心咨询。",
    ),
    T(
        "other",
        "",
        "要求撤销对本人的行政处罚",
        "我在{road}开的小店因占道经营被罚款五百元，我认为处罚过重。",
        "要求撤销处罚决定并退还罚款。",
        kind="advice",
        advice="对行政处罚决定不服的，可自收到决定书之日起六十日内依法申请行政复议，"
        "或在六个月内向人民法院提起行政诉讼。已告知建议人复议机关和联系方式。",
    ),
    T(
        "transport",
        "",
        "对交通事故责任认定有异议",
        "我在{road}骑电动车与小汽车相撞，交警认定我负主要责任，我不认可。",
        "请求重新认定事故责任。",
        kind="advice",
        advice="对道路交通事故认定书有异议的，可自收到认定书之日起三日内向上一级公安机关"
        "交通管理部门提出书面复核申请。已告知建议人复核程序。",
    ),
    T(
        "employment",
        "",
        "要求认定工伤",
        "我在工厂上班时手指被机器压伤，公司不给申报工伤。",
        "请求帮助认定工伤。",
        kind="advice",
        advice="工伤认定由社会保险行政部门依申请作出，用人单位未申报的，"
        "职工本人或近亲属可在事故发生之日起一年内直接向平湖市人力资源和社会保障局申请。",
    ),
    # Closed without a reply.
    T(
        "other",
        "",
        "建议",
        "好",
        "无",
        kind="empty",
    ),
]

REPLIES = {
    "adopted": [
        "您好！您提出的“{title}”的建议已被采纳。经{department}实地调研，该事项已列入"
        "{year}年度实施计划，预计{month}月底前完成，届时将在{community}公告栏公示进展。"
        "感谢您对{county}建设的关心和支持。",
        "感谢您的建议。经研究，{department}已采纳该建议，并会同{town}制定了实施方案，"
        "相关工作已经启动，我们将持续跟进并及时向您反馈。",
    ],
    "partly_adopted": [
        "您好！关于“{title}”的建议，{department}已组织研究。其中部分措施可在现有政策框架内"
        "实施，已纳入近期工作安排；其余内容涉及资金和规划调整，将在下一年度统筹考虑。",
        "您的建议部分采纳。{department}将先在{community}开展试点，根据试点效果再决定是否"
        "全面推开，感谢您的理解与支持。",
    ],
    "for_reference": [
        "您好！您的建议对改进相关工作具有参考价值，{department}已将其转交业务科室，"
        "在编制明年工作计划时统筹研究。",
        "感谢您的宝贵意见。该事项涉及多个部门职责，{department}已将您的建议作为参考，"
        "提交相关专题会议研究。",
    ],
    "not_adopted": [
        "您好！经{department}调查核实，“{title}”涉及的地块已有规划安排，暂不具备实施条件，"
        "故未予采纳。我们将继续关注相关情况，感谢您的理解。",
        "感谢您的建议。经评估，该建议与现行政策规定不一致，暂不予采纳。如有其他意见，"
        "欢迎继续通过人民建议征集渠道反映。",
    ],
}
SECOND_REPLY = (
    "您对上次答复提出了不满意意见。{department}再次组织实地核查，并约请{community}及相关"
    "单位当面会商，现补充答复：已明确整改责任人和完成时限，将于{month}月底前完成整改，"
    "届时将再次向您反馈。"
)

SURNAMES = "陈王李张刘杨黄吴周徐孙马朱胡郭何林罗高郑沈陆顾钱金屠褚俞蒋蔡潘姚戴邵汤冯"
GIVEN = (
    "建平 秀珍 国华 美芳 志刚 丽娟 海明 雪英 伟忠 春燕 永明 金凤 晓峰 玉兰 建中 "
    "桂芳 卫星 慧敏 立群 红梅 文杰 婷婷 浩 佳怡 宇航 欣然 子涵 梦瑶 国庆 月华"
).split()

# Final status of a suggestion: shares of the demo (every one appears at least once).
FINALS = [
    ("received", 0.07),
    ("registered", 0.06),
    ("transferred", 0.07),
    ("handling", 0.10),
    ("reopened_handling", 0.015),
    ("replied", 0.13),
    ("reopened_replied", 0.015),
    ("rerouted_case", 0.03),
    ("rerouted_advice", 0.03),
    ("closed", 0.04),
]  # the rest: concluded
# How many days ago a suggestion with that final status came in.
AGE = {
    "received": (0, 3),
    "registered": (1, 6),
    "transferred": (3, 12),
    "handling": (6, 27),
    "reopened_handling": (35, 60),
    "replied": (14, 45),
    "reopened_replied": (45, 85),
    "rerouted_case": (3, 9),
    "rerouted_advice": (5, 200),
    "closed": (5, 200),
    "concluded": (25, 240),
}
# A few are left lying around: past the 5-working-day routing or the 30-day conclusion clock.
LATE_AGE = {"received": (9, 16), "registered": (10, 18), "handling": (33, 52)}
OUTCOMES = [("adopted", 30), ("partly_adopted", 28), ("for_reference", 26), ("not_adopted", 16)]
CHANNELS = [("web", 34), ("phone", 22), ("hotline_12345", 17), ("letter", 7), ("open311", 6)]


@dataclass
class Plan:
    index: int
    template: Template
    final: str
    community: str  # region code of the community the suggestion is about
    day0: date
    channel: str = "web"
    point: str = ""
    collection: str = ""
    confidential: bool = False
    consent: bool = False
    name: str = ""
    phone: str = ""
    reply_by_phone: bool = False
    outcome: str = ""
    leader: Plan | None = None
    members: list[Plan] = field(default_factory=list)
    # Filled in while running.
    sid: int = 0
    code: str = ""
    secret: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)
    days: dict[str, date] = field(default_factory=dict)


@dataclass
class Op:
    at: datetime
    order: int
    plan: Plan
    action: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the plans need from the database: places, people, departments, points, topics."""

    now: datetime
    started: datetime
    regions: dict[str, dict]  # code -> {id, name, path, parent code}
    departments: dict[str, dict]  # code -> {id, name}
    users: dict[str, CurrentUser]
    points: dict[str, int]
    topics: dict[str, int]
    grids: dict[str, int]  # community code -> its first grid
    last_event: int = 0


# ---------------------------------------------------------------- planning


def _finals(count: int) -> list[str]:
    finals: list[str] = []
    for status, share in FINALS:
        finals += [status] * max(1, round(share * count))
    finals += ["concluded"] * max(1, count - len(finals))
    return finals[:count]


def _weighted(rng: random.Random, pairs) -> str:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return rng.choices([k for k, _w in items], weights=[w for _k, w in items])[0]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("35789") + "".join(str(rng.randint(0, 9)) for _ in range(9))


def _templates(kind: str, needs_department: bool) -> list[Template]:
    return [
        t
        for t in TEMPLATES
        if t.kind == kind and (t.department or not needs_department or kind != "policy")
    ]


def _plans(rng: random.Random, count: int, on: date) -> list[Plan]:
    finals = _finals(count)
    rng.shuffle(finals)
    late_left = {"received": 2, "registered": 1, "handling": 3}
    plans = []
    for index, final in enumerate(finals):
        kind = {"rerouted_case": "grievance", "rerouted_advice": "advice"}.get(final, "policy")
        if final == "closed" and rng.random() < 0.35:
            kind = "empty"
        routed = final not in ("received", "registered", "closed", "rerouted_case")
        template = rng.choice(_templates(kind, needs_department=routed))
        low, high = AGE[final]
        if late_left.get(final):
            late_left[final] -= 1
            low, high = LATE_AGE[final]
        plan = Plan(
            index=index,
            template=template,
            final=final,
            community=_weighted(rng, COMMUNITY_WEIGHTS),
            day0=on - timedelta(days=rng.randint(low, high)),
        )
        _who(rng, plan)
        plans.append(plan)
    _collections(rng, plans, on)
    _groups(rng, plans, on)
    return plans


def _who(rng: random.Random, plan: Plan) -> None:
    """Channel, point, proposer and flags."""
    grievance = plan.template.kind == "grievance"
    if rng.random() < 0.33 and plan.template.scope == "local":
        plan.channel = "direct_report_point"
        plan.point = POINT_OF_TOWN[plan.community[:9]]
    else:
        plan.channel = _weighted(rng, CHANNELS)
    plan.confidential = not grievance and rng.random() < 0.07
    plan.consent = not plan.confidential and rng.random() < 0.65
    anonymous = not grievance and plan.channel in ("web", "open311") and rng.random() < 0.3
    if not anonymous:
        plan.name = _name(rng)
        if grievance or plan.channel != "letter" or rng.random() < 0.5:
            plan.phone = _mobile(rng)
    plan.reply_by_phone = bool(plan.phone) and rng.random() < 0.3
    plan.outcome = _weighted(rng, OUTCOMES)


def _collection_window(on: date) -> dict[str, tuple[date, date]]:
    """The open call (民生实事, open now) and the closed one (老旧小区改造, closed last month)."""
    last_month_end = on.replace(day=1) - timedelta(days=1)
    start = last_month_end.replace(day=1)
    for _ in range(2):
        start = (start - timedelta(days=1)).replace(day=1)
    return {
        "livelihood": (on - timedelta(days=45), on + timedelta(days=25)),
        "renovation": (start, last_month_end),
    }


def _collections(rng: random.Random, plans: list[Plan], on: date) -> None:
    windows = _collection_window(on)
    for name, (opens, closes) in windows.items():
        eligible = [
            p for p in plans if p.template.collection == name and opens <= p.day0 <= min(closes, on)
        ]
        for plan in eligible:
            if rng.random() < 0.8:
                plan.collection = name
        # Every collection has answers: move a few concluded or replied ones into its window.
        spare = [
            p
            for p in plans
            if p.final in ("concluded", "replied")
            and not p.collection
            and p.template.kind == "policy"
        ]
        fitting = [t for t in TEMPLATES if t.collection == name and t.department]
        # The open call is young: only what is still being handled can answer it.
        latest = min(closes, on - timedelta(days=20))
        for plan in rng.sample(spare, k=min(len(spare), max(0, 6 - len(eligible)))):
            if latest <= opens:
                break
            plan.template = rng.choice(fitting)
            plan.final = "replied" if name == "livelihood" else plan.final
            plan.day0 = opens + timedelta(days=rng.randint(0, (latest - opens).days))
            plan.collection = name


def _groups(rng: random.Random, plans: list[Plan], on: date) -> None:
    """Similar suggestions from the same community are grouped: one reply reaches them all."""
    for final, size in (("concluded", 3), ("concluded", 2), ("concluded", 2), ("replied", 2)):
        candidates = [
            p
            for p in plans
            if p.final == final
            and p.leader is None
            and not p.members
            and not p.collection
            and p.template.kind == "policy"
            and p.template.department
        ]
        if len(candidates) < size:
            continue
        leader = rng.choice(candidates)
        others = [p for p in candidates if p is not leader][: size - 1]
        # Old enough for the whole story (members, shared reply, ratings) to lie in the past.
        leader.day0 = min(leader.day0, on - timedelta(days=50 if final == "concluded" else 40))
        for offset, member in enumerate(others, start=1):
            member.template = leader.template
            member.community = leader.community
            member.collection = leader.collection
            member.day0 = leader.day0 + timedelta(days=offset)
            member.leader = leader
            member.outcome = leader.outcome
            if member.point:
                member.point = POINT_OF_TOWN[member.community[:9]]
            leader.members.append(member)


# ---------------------------------------------------------------- schedule


def _working(day: date, gap: int) -> date:
    """``gap`` working days after ``day`` (0: the day itself, or the next working day)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    while gap > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            gap -= 1
    return day


def _office(rng: random.Random, day: date) -> datetime:
    minute = rng.randint(8 * 60 + 40, 17 * 60 + 10)
    return datetime.combine(day, time(minute // 60, minute % 60), county_zone())


def _anytime(rng: random.Random, day: date) -> datetime:
    minute = rng.randint(7 * 60, 22 * 60)
    return datetime.combine(day, time(minute // 60, minute % 60), county_zone())


def _schedule(rng: random.Random, plan: Plan) -> list[tuple[str, date, dict]]:
    """The steps of one suggestion after its submission: (action, day, facts)."""
    t = plan.template
    steps: list[tuple[str, date, dict]] = []
    final = plan.final
    if final == "received":
        return steps
    if final == "closed" and t.kind != "empty" and rng.random() < 0.4:
        reason = "withdrawn"
        steps.append(("close", _working(plan.day0, rng.randint(0, 3)), {"close_reason": reason}))
        return steps
    day = _working(plan.day0, rng.randint(0, 2))
    steps.append(("register", day, {}))
    if final == "registered":
        return steps
    if final == "closed":
        reason = "no_content" if t.kind == "empty" else rng.choice(["withdrawn", "other"])
        facts = {"close_reason": reason}
        if reason == "other":
            facts["close_text"] = "建议人反映的问题已由社区当场协调解决，建议人同意不再办理。"
        steps.append(("close", _working(day, rng.randint(0, 3)), facts))
        return steps
    if final == "rerouted_case":
        steps.append(("reroute_case", _working(day, rng.randint(0, 2)), {}))
        return steps
    if final == "rerouted_advice":
        facts = {"reroute_to": "advice", "advice_text": t.advice}
        steps.append(("reroute", _working(day, rng.randint(0, 3)), facts))
        return steps
    if rng.random() < 0.06:  # first sent to the wrong department, which sends it back
        day = _working(day, rng.randint(1, 2))
        wrong = rng.choice([c for c in ("zfj", "jtj", "scjgj") if c != t.department])
        steps.append(("transfer", day, {"department": wrong}))
    day = _working(day, rng.randint(1, 3))
    steps.append(("transfer", day, {"department": t.department}))
    if final == "transferred":
        return steps
    day = _working(day, rng.randint(1, 4))
    steps.append(("start_handling", day, {}))
    if final == "handling":
        return steps
    # Most replies come well within the 30 days; a few are late.
    late = rng.random() < 0.1
    reply_day = plan.day0 + timedelta(days=rng.randint(31, 40) if late else rng.randint(9, 27))
    day = _working(max(reply_day, day + timedelta(days=1)), 0)
    steps.append(("reply", day, {"outcome": plan.outcome}))
    return steps + _after_reply(rng, plan, day)


def _after_reply(rng: random.Random, plan: Plan, day: date) -> list[tuple[str, date, dict]]:
    steps: list[tuple[str, date, dict]] = []
    final = plan.final
    if final.startswith("reopened"):
        day = day + timedelta(days=rng.randint(1, 5))
        steps.append(("rate", day, {"rating": "not_satisfied"}))
        if final == "reopened_handling":
            return steps
        day = _working(day + timedelta(days=rng.randint(6, 15)), 0)
        steps.append(("reply", day, {"outcome": "partly_adopted", "second": True}))
        if rng.random() < 0.5:
            steps.append(
                ("rate", day + timedelta(days=rng.randint(1, 4)), {"rating": "basically_satisfied"})
            )
        return steps
    rated = rng.random() < (0.75 if final == "concluded" else 0.45)
    if rated:
        rating = rng.choices(["satisfied", "basically_satisfied"], weights=[62, 38])[0]
        day = day + timedelta(days=rng.randint(1, 6))
        steps.append(("rate", day, {"rating": rating}))
    if final == "concluded":
        steps.append(("conclude", _working(day + timedelta(days=rng.randint(2, 8)), 0), {}))
    return steps


def _ops(rng: random.Random, plans: list[Plan], now: datetime) -> list[Op]:
    ops: list[Op] = []
    for plan in plans:
        if plan.leader is not None:
            continue  # scheduled with its leader
        group = [plan, *plan.members]
        schedules = {id(p): _schedule(rng, p) for p in group}
        if plan.members:
            _align_group(rng, plan, schedules)
        for p in group:
            ops += _times(rng, p, schedules[id(p)], now)
    return ops


def _align_group(rng: random.Random, leader: Plan, schedules: dict[int, list]) -> None:
    """Members are registered and grouped before the leader's reply; from then on they follow
    the leader (transfer, handling, the reply, the conclusion) and are only rated on their
    own."""
    lead = schedules[id(leader)]
    steps = {a: d for a, d, _f in lead}
    reply_index = next(i for i, (a, _d, _f) in enumerate(lead) if a == "reply")
    latest_member_group = steps["register"]
    for member in leader.members:
        own = schedules[id(member)]
        register = max(_working(member.day0, rng.randint(0, 1)), steps["register"])
        latest_member_group = max(latest_member_group, register)
        aligned: list[tuple[str, date, dict]] = [
            ("register", register, {}),
            ("group", register, {}),
        ]
        schedules[id(member)] = aligned + [(a, d, f) for a, d, f in own if a == "rate"]
    reply_day = max(lead[reply_index][1], _working(latest_member_group, 1))
    shift = reply_day - lead[reply_index][1]
    schedules[id(leader)] = lead[:reply_index] + [
        (a, d + shift, f) for a, d, f in lead[reply_index:]
    ]
    # Members are rated after the shared reply.
    for member in leader.members:
        schedules[id(member)] = [
            (a, max(d, reply_day) + timedelta(days=rng.randint(1, 3)) if a == "rate" else d, f)
            for a, d, f in schedules[id(member)]
        ]


def _times(rng: random.Random, plan: Plan, steps: list, now: datetime) -> list[Op]:
    """Submission and steps with times: office hours for staff, increasing, never future."""
    if plan.channel in ("web", "open311"):
        first = _anytime(rng, plan.day0)
    else:
        first = _office(rng, plan.day0)
    times = [first]
    previous = first
    for action, day, _facts in steps:
        at = _anytime(rng, day) if action == "rate" else _office(rng, day)
        if action == "group":
            at = previous + timedelta(minutes=rng.randint(5, 40))
        if at <= previous:
            at = previous + timedelta(minutes=rng.randint(15, 120))
        times.append(at)
        previous = at
    limit = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    for i in range(len(times) - 1, -1, -1):
        if times[i] > limit:
            times[i] = limit
        limit = times[i] - timedelta(minutes=3)
    ops = [Op(times[0], plan.index * 100, plan, "submit")]
    for n, ((action, _day, facts), at) in enumerate(zip(steps, times[1:], strict=True), 1):
        ops.append(Op(at, plan.index * 100 + n, plan, action, dict(facts)))
    return ops


# ---------------------------------------------------------------- running


async def _context() -> Context | None:
    regions = {
        r["code"]: r
        for r in await Region.select(
            Region.id, Region.code, Region.name, Region.path, Region.parent.code
        )
    }
    if COUNTY_CODE not in regions or any(code not in regions for code in PLACES):
        return None
    users = {}
    for username in ("admin", "centre1", "handler1", "handler2"):
        row = await Staff.select(Staff.id).where(Staff.username == username).first()
        user = await load_user(row["id"]) if row else None
        if user is None:
            return None
        users[username] = user
    departments = {
        d["code"]: d
        for d in await Department.select(Department.id, Department.code, Department.name)
    }
    grids: dict[str, int] = {}
    for g in await Grid.select(Grid.id, Grid.region.code).order_by(Grid.code):
        grids.setdefault(g["region.code"], g["id"])
    now = local_now()
    last = (
        await SuggestionEvent.select(SuggestionEvent.id)
        .order_by(SuggestionEvent.id, ascending=False)
        .first()
    )
    return Context(
        now=now,
        started=now - timedelta(seconds=1),
        regions=regions,
        departments=departments,
        users=users,
        points={},
        topics={},
        grids=grids,
        last_event=last["id"] if last else 0,
    )


def _staff(ctx: Context, plan: Plan) -> CurrentUser:
    path = _region(ctx, plan)["path"]
    centre1 = ctx.users["centre1"]
    return centre1 if centre1.can_see_path(path) else ctx.users["admin"]


def _handler(ctx: Context, plan: Plan) -> CurrentUser:
    username = {"zjj": "handler1", "rsj": "handler2"}.get(plan.template.department)
    return ctx.users[username] if username else _staff(ctx, plan)


def _region(ctx: Context, plan: Plan) -> dict:
    if plan.template.scope == "county":
        return ctx.regions[COUNTY_CODE]
    return ctx.regions[plan.community]


def _fill(ctx: Context, rng: random.Random, plan: Plan) -> None:
    community = ctx.regions[plan.community]
    town = ctx.regions[community["parent.code"]]
    xiaoqu, roads = PLACES[plan.community]
    words = {
        "community": community["name"],
        "town": town["name"],
        "county": ctx.regions[COUNTY_CODE]["name"],
        "xiaoqu": rng.choice(xiaoqu),
        "road": rng.choice(roads),
    }
    if plan.leader is not None:
        words.update(plan.leader.words)  # the same matter in the same place
    t = plan.template
    plan.words = words
    plan.texts = {
        "topic": t.title.format(**words),
        "reason": t.reason.format(**words),
        "measures": t.measures.format(**words),
    }


async def _do(ctx: Context, rng: random.Random, op: Op) -> None:
    plan = op.plan
    if op.action == "submit":
        await _submit(ctx, rng, op)
        return
    if op.action == "group":
        leader = plan.leader
        assert leader is not None  # only a member of a group is grouped
        await services.group_with(_staff(ctx, plan), plan.sid, leader.sid)
        # It caught up with what its leader had done so far.
        for action in ("transfer", "start_handling", "reply", "conclude"):
            if action in leader.days:
                plan.days.setdefault(action, local_date(op.at))
    elif op.action == "rate":
        await services.rate(plan.code, plan.secret, op.facts["rating"])
    elif op.action == "reroute_case":
        await _reroute_case(ctx, op)
    else:
        facts = dict(op.facts)
        actor = _staff(ctx, plan)
        if op.action in ("start_handling", "reply"):
            actor = _handler(ctx, plan)
        if op.action == "transfer":
            facts["department"] = str(ctx.departments[facts["department"]]["id"])
        if op.action == "reply":
            facts["reply_text"] = _reply_text(ctx, rng, plan, op)
            facts.pop("second", None)
        await services.move(actor, plan.sid, op.action, facts)
        if op.action == "reply":
            await Suggestion.update({Suggestion.replied_at: op.at}).where(
                Suggestion.replied_at >= ctx.started
            )
        for member in plan.members:  # grouped members moved with their leader
            if "group" in member.days and op.action != "close":
                member.days.setdefault(op.action, local_date(op.at))
    plan.days.setdefault(op.action, local_date(op.at))


async def _submit(ctx: Context, rng: random.Random, op: Op) -> None:
    plan = op.plan
    _fill(ctx, rng, plan)
    region = _region(ctx, plan)
    values = {
        "topic": plan.texts["topic"],
        "reason": plan.texts["reason"],
        "measures": plan.texts["measures"],
        "name": plan.name,
        "phone": plan.phone,
        "reply_by_phone": "1" if plan.reply_by_phone else "",
        "confidential": "1" if plan.confidential else "",
        "consent_to_publish": "1" if plan.consent else "",
        "category": plan.template.category,
        "region": str(region["id"]),
        "call": str(ctx.topics[plan.collection]) if plan.collection else "",
    }
    actor = None
    if plan.channel in ("phone", "letter", "hotline_12345"):
        actor = _staff(ctx, plan)  # entered by staff from the call or the letter
    point = ctx.points[plan.point] if plan.point else None
    _cleaned, errors, receipt = await services.submit_suggestion(values, plan.channel, point, actor)
    if errors or receipt is None:
        raise RuntimeError(f"demo suggestion refused: {errors}")
    plan.code, plan.secret = receipt
    received = local_date(op.at)
    if int(plan.code[3:7]) != received.year:  # the receipt code carries the year of receipt
        code = rules.new_tracking_code(received.year)
        digest = rules.hash_secret(plan.secret, common.signing_key(), code=code)
        await Suggestion.update(
            {Suggestion.tracking_code: code, Suggestion.secret_digest: digest}
        ).where(Suggestion.tracking_code == plan.code)
        plan.code = code
    clocks = rules.suggestion_clocks(received, services.POLICY)
    row = (
        await Suggestion.update(
            {
                Suggestion.received_on: received,
                Suggestion.route_due: clocks.route_due,
                Suggestion.conclude_due: clocks.conclude_due,
                Suggestion.created_at: op.at,
            }
        )
        .where(Suggestion.tracking_code == plan.code)
        .returning(Suggestion.id)
    )
    plan.sid = row[0]["id"]
    plan.days["submit"] = received


async def _reroute_case(ctx: Context, op: Op) -> None:
    plan = op.plan
    actor = _staff(ctx, plan)
    last_case_event = await _max_id(CaseEvent)
    last_notification = await _max_id(Notification)
    case_id = await services.reroute_to_case(
        actor, plan.sid, ctx.grids[plan.community], plan.template.case_category
    )
    await Case.update(
        {Case.registered_on: local_date(op.at), Case.registered_at: op.at, Case.updated_at: op.at}
    ).where(Case.id == case_id)
    await CaseEvent.update({CaseEvent.at: op.at}).where(
        CaseEvent.case == case_id, CaseEvent.id > last_case_event
    )
    await Notification.update({Notification.created_at: op.at}).where(
        Notification.case == case_id, Notification.id > last_notification
    )
    await IntakeSubmission.update({IntakeSubmission.created_at: op.at}).where(
        IntakeSubmission.case == case_id
    )


async def _max_id(table) -> int:
    row = await table.select(table.id).order_by(table.id, ascending=False).first()
    return row["id"] if row else 0


def _reply_text(ctx: Context, rng: random.Random, plan: Plan, op: Op) -> str:
    words: dict[str, Any] = dict(plan.words)
    words["title"] = plan.texts["topic"]
    words["department"] = ctx.departments[plan.template.department]["name"]
    due = local_date(op.at) + timedelta(days=rng.randint(60, 200))
    words["year"] = due.year
    words["month"] = due.month
    if op.facts.get("second"):
        return SECOND_REPLY.format(**words)
    return rng.choice(REPLIES[op.facts["outcome"]]).format(**words)


async def _stamp(ctx: Context, at: datetime) -> None:
    rows = (
        await SuggestionEvent.update({SuggestionEvent.at: at})
        .where(SuggestionEvent.id > ctx.last_event)
        .returning(SuggestionEvent.id)
    )
    if rows:
        ctx.last_event = max(r["id"] for r in rows)


async def _create_points_and_topics(ctx: Context, on: date) -> None:
    for code, name, region_code, address, hours, host, contact, phone in POINTS:
        point = DirectReportPoint(
            code=code,
            name=name,
            region=ctx.regions[region_code]["id"],
            address=address,
            opening_hours=hours,
            host_organisation=host,
            contact_name=contact,
            contact_phone=phone,
            active=True,
            device_token_digest="",
        )
        await point.save()
        ctx.points[code] = point.id
    windows = _collection_window(on)
    year = on.year + 1 if on.month >= 9 else on.year
    admin = ctx.users["admin"]
    opens, closes = windows["livelihood"]
    ctx.topics["livelihood"] = await services.create_topic(
        admin,
        f"{year}年民生实事项目征集",
        f"为办好{year}年民生实事，现面向全市公开征集民生实事候选项目建议。"
        "建议可涉及教育、医疗、养老、交通、住房、就业等领域，请写明项目名称、实施地点和理由。",
        opens,
        closes,
    )
    opens, _closes = windows["renovation"]
    # Open while the demo files its answers; closed (last month) afterwards.
    ctx.topics["renovation"] = await services.create_topic(
        admin,
        "老旧小区改造意见征集",
        "我市将对2000年前建成的老旧小区实施综合改造，现就改造内容、加装电梯、停车和充电设施、"
        "物业管理等征求居民意见建议。",
        opens,
        on,
    )


async def _flag_overdue(plans: list[Plan], on: date) -> None:
    """What the nightly sweep would have flagged: routing or conclusion past its clock."""
    late = []
    for plan in plans:
        clocks = rules.suggestion_clocks(plan.days["submit"], services.POLICY)
        routed = min(
            (
                plan.days[a]
                for a in ("transfer", "reroute", "reroute_case", "close")
                if a in plan.days
            ),
            default=None,
        )
        concluded = min(
            (plan.days[a] for a in ("reply", "reroute", "reroute_case", "close") if a in plan.days),
            default=None,
        )
        if (routed or on) > clocks.route_due or (concluded or on) > clocks.conclude_due:
            late.append(plan.sid)
    if late:
        await Suggestion.update({Suggestion.overdue: True}).where(Suggestion.id.is_in(late))


async def load_demo_suggestions(count: int = 150, seed: int = 2026) -> int:
    """Load the demo suggestions once; returns how many were created (0 if already there)."""
    if await DirectReportPoint.exists().where(DirectReportPoint.code == POINTS[0][0]):
        return 0
    ctx = await _context()
    if ctx is None:
        return 0  # the demo county is not loaded
    on = today()
    rng = random.Random(seed)
    plans = _plans(rng, count, on)
    ops = _ops(rng, plans, ctx.now)
    ops.sort(key=lambda op: (op.at, op.order))
    # One transaction: all or nothing (a failed load leaves no half demo), and fast on SQLite.
    async with bulk_write_transaction():
        await _create_points_and_topics(ctx, on)
        for op in ops:
            await _do(ctx, rng, op)
            await _stamp(ctx, op.at)
        _opens, closes = _collection_window(on)["renovation"]
        await SuggestionTopic.update({SuggestionTopic.closes_on: closes}).where(
            SuggestionTopic.id == ctx.topics["renovation"]
        )
        await _flag_overdue(plans, on)
        await services.sweep_suggestions(on)
    return len(plans)
