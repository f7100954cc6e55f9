"""The demo world's words, rates and rhythms: the vocabularies (places, people,
departments, report texts, dispute reasons), the categories' rates and
profiles by hour, weekday and season, the dispatch deadlines, and the seeded
random helpers. The generator (``demo``) draws history from them and the live
simulator (``simulate``) carries the same world on, so both read this module
and neither reaches into the other's private names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from dashboard.db import schema

LOCAL_OFFSET = timedelta(hours=8)  # the demo world's clock: Asia/Shanghai

# --- vocabularies (data strings) ------------------------------------------------------

BRANCH = "东侨公安分局"
STATIONS = [  # (name, code); index 0 is the station-scale world
    ("五里亭", "WLT"),
    ("慈音", "CYN"),
    ("牛街庄", "NJZ"),
    ("金牛", "JNU"),
    ("河东", "HDG"),
    ("湖滨", "HBN"),
    ("金马", "JMA"),
    ("蕉南", "JNA"),
    ("城南", "CNA"),
    ("漳湾", "ZWN"),
]
WULITING_COMMUNITIES = ["五里亭", "东湖", "南岸", "北岸", "天湖", "塔山"]
COMMUNITY_STEMS = [
    "万安", "福源", "海滨", "凤凰", "龙湖", "富春", "华侨", "锦绣", "阳光", "鹤峰", "南埕", "鳌峰",
    "江滨", "青山", "玉湖", "碧水", "松林", "桃源", "梅溪", "樟湖", "怡园", "翠屏", "金山", "兰溪",
    "新港", "石后", "白鹭", "朝阳", "东门", "西门", "南门", "北门", "前岐", "后山", "大桥", "星湖",
    "月湖", "金溪", "紫云", "鹤林", "双溪", "清风", "春晖", "瑞园", "和平", "建新", "兴华", "长安",
    "永安", "福安", "三屿", "霞湾", "龙池", "东岭", "西岭", "南湖", "北湖", "观音", "古田", "九龙",
]
STREET_STEMS = [
    "福宁", "蕉城", "天湖", "东湖", "金马", "环城", "闽东", "八一五", "鹤峰", "北岸", "南岸", "兰溪",
    "海滨", "金山", "福安", "天王", "学院", "华侨", "万安", "富春", "新港", "工业", "创业", "星光",
    "湖滨", "塔山", "滨海", "东侨", "金溪", "南漈", "霍童", "洋中", "七都", "赤溪", "飞鸾", "漳湾",
    "城南", "石后", "三屿", "白鹤", "凤凰", "龙湖", "闽江", "宁川", "溪南", "安泰", "蕉南", "慈音",
]
STREET_SUFFIXES = ["路", "北路", "南路", "东路", "西路", "大道", "街", "巷"]
COMPOUND_STEMS = [
    "金湖", "翠湖", "天湖", "湖滨", "东湖", "南湖", "丽景", "锦绣", "名城", "盛世", "福苑", "华庭",
    "佳园", "怡景", "海天", "滨江", "江南", "书香", "世纪", "新城", "嘉园", "颐和", "和园", "瑞景",
    "悦府", "香榭", "枫林", "桂园", "紫荆", "梧桐", "龙湾", "凤凰", "金色", "蓝湾", "阳光", "东方",
    "碧桂", "银泰", "富华", "福海", "侨乡", "学府", "金域", "万象", "兴业", "宏景", "星河", "玉龙",
]
COMPOUND_SUFFIXES = ["小区", "花园", "苑", "家园", "公寓", "新村", "华府", "雅居", "名门", "豪庭"]
SURNAMES = list("陈林黄郑王李张吴刘蔡杨许周谢叶游缪阮钟魏江郭何高罗邱余章薛兰雷肖苏彭曾朱胡徐施潘卓翁詹")
SURNAME_W = np.array([9, 9, 7, 5, 6, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], float)
GIVEN_CHARS = list("建华明国伟志强勇军平文海林辉斌涛峰杰鹏磊宏春秀英玲芳燕丽霞红梅兰珍萍敏静婷雪琴娟慧鑫宇浩晨瑞佳欣思雨成德福荣清金水生光永新安良仁义忠诚俊凯丹颖洁")
assert len(SURNAMES) == len(SURNAME_W)

DEPARTMENTS = [  # (name, kind)
    ("东侨城市管理局", "城市管理"),
    ("东侨市场监督管理局", "市场监督"),
    ("东侨生态环境局", "生态环境"),
    ("东侨消防救援大队", "消防救援"),
    ("东侨烟草专卖局", "烟草专卖"),
    ("东侨住房和城乡建设局", "住建"),
    ("东侨司法所", "司法所"),
    ("东侨人力资源和社会保障局", "人社/劳动保障"),
    ("东侨物业服务中心", "物业"),
    ("国网东侨供电公司", "电力"),
    ("东侨华润燃气公司", "燃气"),
    ("东侨自来水公司", "供水"),
]
DEPT_TITLES = ["科长", "科员", "队长", "主任", "师傅", "专员"]

# Report categories: share, chance of transfer to a department, department options (indexes).
REPORT_CATS = {
    "矛盾纠纷": (0.18, 0.10, [6]),
    "治安隐患": (0.16, 0.05, [8]),
    "消防隐患": (0.14, 0.45, [3, 8]),
    "违章搭建": (0.08, 0.85, [0, 5]),
    "噪音扰民": (0.10, 0.35, [2, 0]),
    "设施损坏": (0.14, 0.62, [8, 5, 9, 10, 11]),
    "电诈线索": (0.05, 0.00, []),
    "求助": (0.08, 0.15, [7]),
    "其他": (0.07, 0.45, [1, 4, 0]),
}
assert tuple(REPORT_CATS) == schema.REPORT_CATEGORIES
URGENCY_P = {  # 一般, 紧急, 特急
    "矛盾纠纷": (0.84, 0.13, 0.03),
    "治安隐患": (0.83, 0.14, 0.03),
    "消防隐患": (0.76, 0.18, 0.06),
    "违章搭建": (0.94, 0.06, 0.00),
    "噪音扰民": (0.90, 0.10, 0.00),
    "设施损坏": (0.83, 0.13, 0.04),
    "电诈线索": (0.80, 0.15, 0.05),
    "求助": (0.74, 0.19, 0.07),
    "其他": (0.93, 0.07, 0.00),
}
REPORT_TEMPLATES = {
    "矛盾纠纷": [
        "{place}两户居民因{reason}发生争执，双方情绪激动，需民警介入调解。",
        "{place}居民反映与邻居因{reason}多次发生口角，请求协调处理。",
        "{place}有居民因{reason}在楼下争吵，围观群众较多。",
    ],
    "治安隐患": [
        "{place}单元门禁损坏，外来人员可随意进出，存在治安隐患。",
        "{place}近期有可疑人员夜间徘徊，居民反映较强烈。",
        "{place}路灯损坏多日，夜间照明不足，存在安全隐患。",
        "{place}电动车集中停放区无监控覆盖，建议加装摄像头。",
        "{place}有人员聚集打牌，疑似涉赌。",
    ],
    "消防隐患": [
        "{place}楼道内堆放大量杂物，堵塞消防通道。",
        "{place}有住户私拉电线给电动车充电（飞线充电），存在火灾隐患。",
        "{place}消防栓无水、灭火器过期，需更换维护。",
        "{place}沿街店铺存在“三合一”住人现象，消防隐患突出。",
        "{place}地下车库消防通道被车辆长期占用。",
    ],
    "违章搭建": [
        "{place}有业主擅自占用公共空间搭建杂物棚，业主反映强烈。",
        "{place}顶楼住户违规加盖彩钢瓦房。",
        "{place}一楼住户私自圈占绿地扩建院墙。",
        "{place}沿街商户违规搭建雨棚占用人行道。",
    ],
    "噪音扰民": [
        "{place}夜间广场舞音响声音过大，影响周边居民休息。",
        "{place}工地夜间违规施工，噪音扰民。",
        "{place}楼上住户深夜装修，居民多次投诉。",
        "{place}烧烤店夜间经营噪音扰民。",
    ],
    "设施损坏": [
        "{place}电梯故障停运，老人上下楼困难。",
        "{place}井盖缺失，存在行人跌落风险。",
        "{place}路面塌陷，需设置警示并尽快修复。",
        "{place}供水管道破裂漏水。",
        "{place}燃气管道有异味，疑似泄漏。",
        "{place}单元门禁系统损坏。",
    ],
    "电诈线索": [
        "{place}有老人反映接到自称“公检法”的电话，要求转账至“安全账户”。",
        "{place}发现有人散发“高息理财”传单，疑似诈骗。",
        "{place}居民反映被拉入“刷单返利”群，对方诱导转账。",
        "{place}有居民反映接到冒充“客服”的退款电话，索要验证码。",
    ],
    "求助": [
        "{place}独居老人行动不便，请求上门帮扶。",
        "{place}一名老人走失，家属请求协助寻找。",
        "{place}居民钥匙反锁屋内，屋内有小孩，请求帮助。",
        "{place}一名务工人员反映被拖欠工资，请求帮助维权。",
    ],
    "其他": [
        "{place}有流浪犬出没，存在伤人隐患。",
        "{place}无证摊贩占道经营，影响通行。",
        "{place}大树倾斜，台风天存在倒伏风险。",
        "{place}共享单车乱停乱放，堵塞通道。",
    ],
}
DISPUTE_REASONS = ["楼上卫生间漏水", "停车位占用", "装修噪音", "宠物扰民", "楼道堆放杂物", "房屋租赁押金", "拖欠工资", "宅基地界线"]
FEEDBACK_TEXTS = {
    "矛盾纠纷": ["已组织双方调解，达成和解。", "已上门了解情况，双方同意协商解决。"],
    "治安隐患": ["已加强巡逻并协调物业修复门禁。", "已核查，未发现异常，已加强夜间巡逻。", "已协调安装监控探头。"],
    "消防隐患": ["已督促清理楼道杂物，消防通道恢复畅通。", "已拆除飞线，宣传电动车安全充电。", "已联系物业更换灭火器。"],
    "违章搭建": ["已联合城管现场拆除违建杂物棚。", "已下达整改通知书，当事人承诺限期自拆。"],
    "噪音扰民": ["已上门劝导，噪音问题已解决。", "已责令工地停止夜间施工。"],
    "设施损坏": ["已通知物业维修，设施已恢复使用。", "已设置警示标志，维修单位已修复。"],
    "电诈线索": ["已上门开展反诈宣传，劝阻成功，未造成损失。", "已核查线索并录入反诈平台。"],
    "求助": ["已协助联系家属，问题已解决。", "已上门帮扶，群众表示感谢。"],
    "其他": ["已处理完毕。", "已协调相关单位处置。"],
}

DISPUTE_KIND_W = np.array([0.34, 0.16, 0.14, 0.10, 0.09, 0.07, 0.06, 0.04])
assert len(DISPUTE_KIND_W) == len(schema.DISPUTE_KINDS)
DISPUTE_SUMMARIES = {
    "邻里纠纷": ["两户邻居因{r}发生纠纷", "楼上楼下因{r}多次争吵"],
    "婚姻家庭": ["一对夫妻因{r}发生争吵", "家庭成员因{r}产生矛盾"],
    "物业纠纷": ["业主与物业因{r}产生矛盾", "多名业主因{r}与物业公司发生争执"],
    "劳资纠纷": ["务工人员反映被拖欠工资", "装修工人与雇主因工钱结算发生纠纷"],
    "债务纠纷": ["两人因借款未还发生纠纷", "合伙生意散伙后因欠款发生争执"],
    "交通事故": ["两车刮擦，双方就赔偿金额未达成一致", "电动车与行人相撞，双方就医疗费发生争执"],
    "消费纠纷": ["顾客与商家因{r}发生纠纷", "消费者因{r}与商户争执"],
    "其他纠纷": ["居民因{r}发生矛盾", "村民因{r}发生争执"],
}
DISPUTE_SUMMARY_REASONS = {
    "邻里纠纷": ["漏水", "噪音", "停车", "宠物", "楼道杂物"],
    "婚姻家庭": ["家庭琐事", "子女抚养", "赡养老人", "财产分割"],
    "物业纠纷": ["物业费", "停车管理", "电梯维修", "公共收益"],
    "消费纠纷": ["预付卡退费", "商品质量", "装修质量"],
    "其他纠纷": ["宅基地界线", "土地承包", "树木遮挡"],
}

# Incidents (110): rate now (per day per station), year-on-year change, hour profile, weekday profile,
# share drawn to hot spots.
INCIDENT_CATS = {
    #           now/day  yoy    hour profile              weekday   hot share
    "刑事": (0.8, -0.11, (0.5, [(0.8, 21, 4)]), "mixed", 0.30),
    "治安": (2.4, -0.25, (0.4, [(1.0, 22, 3), (0.5, 15, 3)]), "evening", 0.45),
    "电信诈骗": (1.2, -0.50, (0.1, [(1.0, 11, 2.5), (0.8, 16, 2.5)]), "workday", 0.08),
    "盗窃": (1.5, -0.35, (0.35, [(2.5, 2.5, 2), (0.6, 14, 3)]), "mixed", 0.55),
    "入室盗窃": (0.4, -0.42, (0.3, [(2.8, 2.5, 1.8), (0.4, 14, 3)]), "mixed", 0.50),
    "盗窃电动自行车": (1.0, -0.19, (0.35, [(2.5, 2.5, 2), (0.5, 19, 3)]), "mixed", 0.55),
    "侵财": (0.9, -0.20, (0.4, [(0.8, 14, 4), (0.6, 1, 2)]), "mixed", 0.40),
    "接触类": (0.8, -0.60, (0.3, [(1.5, 23, 2.5), (0.4, 15, 3)]), "evening", 0.50),
    "纠纷": (5.0, -0.08, (0.3, [(1.2, 20, 2.5), (0.5, 12, 3)]), "evening", 0.25),
    "求助": (4.0, 0.03, (0.4, [(0.8, 10, 3), (0.8, 20, 3)]), "mixed", 0.20),
}
assert tuple(INCIDENT_CATS) == schema.INCIDENT_CATEGORIES
WEEKDAY_PROFILES = {  # Monday .. Sunday, local
    "mixed": [1.0, 0.97, 0.97, 1.0, 1.03, 1.08, 1.05],
    "evening": [0.9, 0.88, 0.9, 0.95, 1.1, 1.3, 1.2],
    "workday": [1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.75],
}
INCIDENT_SUBTYPES = {
    "刑事": ["故意伤害", "抢劫", "寻衅滋事", "非法拘禁", "涉毒"],
    "治安": ["打架斗殴", "醉酒滋事", "赌博", "扰乱公共秩序", "噪音扰民"],
    "电信诈骗": ["刷单返利", "冒充公检法", "虚假投资理财", "冒充客服退款", "虚假网络贷款", "冒充熟人"],
    "盗窃": ["扒窃", "盗窃财物", "盗窃车内财物", "盗窃店铺财物"],
    "入室盗窃": ["撬门入室", "攀爬入室", "技术开锁入室"],
    "盗窃电动自行车": ["盗窃电动自行车", "盗窃电瓶"],
    "侵财": ["抢夺", "敲诈勒索", "故意损毁财物", "诈骗"],
    "接触类": ["殴打他人", "故意伤害", "抢劫", "猥亵"],
    "纠纷": ["邻里纠纷", "家庭纠纷", "经济纠纷", "交通纠纷", "消费纠纷"],
    "求助": ["人员走失", "开锁求助", "醉酒求助", "老人求助", "心理危机"],
}
INCIDENT_OUTCOMES = {
    "刑事": ["已立案侦查", "移交刑侦大队", "嫌疑人已抓获"],
    "治安": ["已调查处理", "行政处罚", "现场劝离", "批评教育"],
    "电信诈骗": ["已立案", "已止付冻结", "已劝阻未受损"],
    "盗窃": ["已立案", "已追回财物", "嫌疑人已抓获", "登记备案"],
    "入室盗窃": ["已立案", "已勘查现场", "嫌疑人已抓获"],
    "盗窃电动自行车": ["已立案", "已找回车辆", "登记备案"],
    "侵财": ["已立案", "已调查处理", "嫌疑人已抓获"],
    "接触类": ["已调查处理", "行政处罚", "已立案侦查"],
    "纠纷": ["现场调解成功", "移交社区调解", "告知诉讼途径"],
    "求助": ["已救助", "已送返", "已联系家属", "电话答复"],
}
NO_ARRIVAL = {"求助": 0.30, "电信诈骗": 0.25}  # handled by phone; others 1 %

# Hot spots: kind, affinity per incident category, patrol attraction (day, night).
HOTSPOT_KINDS = [
    ("农贸市场", {"盗窃": 3, "侵财": 2, "纠纷": 2, "治安": 1, "求助": 1}, (1.0, 0.2)),
    ("汽车站", {"盗窃": 3, "治安": 2, "求助": 2, "侵财": 1, "刑事": 1}, (0.8, 0.6)),
    ("酒吧街", {"接触类": 4, "治安": 3, "纠纷": 2, "刑事": 1}, (0.1, 1.0)),
    ("城中村", {"入室盗窃": 4, "盗窃电动自行车": 2, "盗窃": 1, "纠纷": 1}, (0.4, 0.8)),
    ("电动车集中停放点", {"盗窃电动自行车": 5, "盗窃": 1}, (0.3, 0.9)),
    ("商业广场", {"盗窃": 2, "电信诈骗": 1, "侵财": 2, "纠纷": 1, "求助": 1}, (0.9, 0.3)),
]

WORKER_KIND_W = np.array([0.20, 0.0, 0.20, 0.06, 0.08, 0.03, 0.08, 0.12, 0.06, 0.04, 0.03, 0.06, 0.02, 0.02])
assert len(WORKER_KIND_W) == len(schema.GRID_WORKER_KINDS)
REPORTER_W = {"网格员": 5, "网格长": 3, "楼栋长": 2, "综治协管员": 2, "信息员": 2, "外卖骑手": 0.5, "快递员": 0.5}
COLLECTOR_W = {"网格员": 5, "网格长": 3, "楼栋长": 4, "信息员": 2, "综治协管员": 2, "社区党员": 1}
CAMERA_KIND_W = np.array([0.35, 0.25, 0.3, 0.1])

# Geometry of one station: GX × GY grids over STATION_W_KM × STATION_H_KM.
CENTER = (26.66, 119.55)  # 五里亭 (lat, lon)
GX, GY = 8, 5
STATION_W_KM, STATION_H_KM = 4.4, 3.2
JITTER = 0.2  # fraction of a cell; < 0.25 keeps every quad convex
DISTRICT_COLS = 5  # district: 5 × 2 stations
COMMUNITY_BLOCKS = [((0, 3), (2, 5)), ((3, 6), (2, 5)), ((6, 8), (2, 5)), ((0, 3), (0, 2)), ((3, 6), (0, 2)), ((6, 8), (0, 2))]
PATROL_DAYS = 90
PATROL_STEP_S = 120  # one GPS point every 2 minutes

# Dispatch deadlines (限时反馈), seconds, by urgency 一般/紧急/特急.
DEADLINE_OFFICER = (72 * 3600, 24 * 3600, 2 * 3600)
DEADLINE_DEPT = (14 * 86400, 24 * 3600, 2 * 3600)

DAY = 86400
YEAR = 365.25 * DAY
NULL_T = np.iinfo(np.int64).min  # NaT when viewed as datetime64: written as NULL
NEVER = np.int64(2**61)
EPOCH = datetime(1970, 1, 1)

# Stage keys for the random streams.
S_LAYOUT, S_PLACES, S_PEOPLE, S_REPORTS, S_TASKS, S_DISPUTES, S_INCIDENTS, S_PATROL, S_CAMERAS, S_BASE, S_NAMES = range(11)


# --- small helpers -------------------------------------------------------------------


def seeded_rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *map(int, keys)])


def epoch_seconds(dt: datetime) -> int:
    return int((dt - EPOCH).total_seconds())


def to_datetimes(a: np.ndarray) -> list:
    """int64 seconds since the epoch (NULL_T = NULL) -> list of naive datetimes / None."""
    return np.asarray(a, dtype=np.int64).view("datetime64[s]").tolist()


def local_hour(t: np.ndarray) -> np.ndarray:
    return ((t + 8 * 3600) // 3600) % 24


def local_weekday(t: np.ndarray) -> np.ndarray:
    return ((t + 8 * 3600) // DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def year_phase(t: np.ndarray) -> np.ndarray:
    """Days since 1 January (local)."""
    d = (np.asarray(t) + 8 * 3600).astype("datetime64[s]")
    return (d - d.astype("datetime64[Y]")).astype("timedelta64[s]").astype(np.int64) / DAY


def seasonal(t: np.ndarray, amp: float) -> np.ndarray:
    """Summer high, winter low (peak mid-July)."""
    return 1.0 + amp * np.cos(2 * np.pi * (year_phase(t) - 196) / 365.25)


def hour_profile(base: float, bumps: Sequence[tuple[float, float, float]]) -> np.ndarray:
    h = np.arange(24) + 0.5
    p = np.full(24, base)
    for amp, centre, width in bumps:
        d = np.abs(h - centre)
        d = np.minimum(d, 24 - d)
        p += amp * np.exp(-(d**2) / (2 * width**2))
    return p / p.mean()


REPORT_HOURS = hour_profile(0.08, [(1.0, 10, 1.5), (0.9, 15.5, 1.8), (0.25, 20, 1.5)])
WORK_HOURS = hour_profile(0.03, [(1.0, 10, 1.5), (0.9, 15.5, 1.8)])


def poisson_times(rng: np.random.Generator, slots: np.ndarray, rates: np.ndarray, end: int) -> np.ndarray:
    """Event times of an inhomogeneous Poisson process given expected counts per hour slot."""
    counts = rng.poisson(rates)
    t = np.repeat(slots, counts) + rng.integers(0, 3600, int(counts.sum()))
    return np.sort(t[t < end], kind="stable")


def lognormal_seconds(rng: np.random.Generator, median_s, sigma: float, n: int) -> np.ndarray:
    return np.round(np.asarray(median_s, dtype=float) * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.choice(len(SURNAMES), n, p=SURNAME_W / SURNAME_W.sum())
    g1 = rng.integers(0, len(GIVEN_CHARS), n)
    g2 = rng.integers(0, len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    return [
        SURNAMES[a] + GIVEN_CHARS[b] + (GIVEN_CHARS[c] if t else "")
        for a, b, c, t in zip(s.tolist(), g1.tolist(), g2.tolist(), two.tolist())
    ]


def phone_numbers(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.choice(np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 158, 159, 176, 177, 180, 181, 182, 186, 187, 188, 189, 199]), n)
    rest = rng.integers(0, 10**8, n)
    return [f"{a}{b:08d}" for a, b in zip(pre.tolist(), rest.tolist())]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(rng: np.random.Generator) -> str:
    region = ("350902", "350921", "350922", "350981", "350982")[int(rng.integers(0, 5))]
    born = datetime(1945, 1, 1) + timedelta(days=int(rng.integers(0, 60 * 365)))
    body = f"{region}{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11]
    return body + check
