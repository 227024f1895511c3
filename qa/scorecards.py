"""Scorecards: sections of items, each with its maximum points, guidance and whether it is a fatal
item (致命项: failing it zeroes the call); the auto-QA rules that pre-fill items; grading.

The default is the handbook's recommended scorecard (§4.4: nine sections, 100 points, seven fatal
errors) in zh-CN and en. A stored scorecard is immutable (crm.models.Scorecard): editing makes a
new version, and an evaluation keeps the version it was scored on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE = r"^[a-z0-9_.-]{1,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Item(_Strict):
    code: str = Field(pattern=CODE)
    en: str = Field(min_length=1, max_length=200)
    zh: str = Field(min_length=1, max_length=200)
    max_points: float = Field(ge=0, le=100)
    guidance_en: str = ""
    guidance_zh: str = ""
    fatal: bool = False  # failing it zeroes the whole call

    @model_validator(mode="after")
    def _fatal_has_no_points(self) -> Item:
        if self.fatal and self.max_points:
            raise ValueError(f"{self.code}: a fatal item carries no points (failing it zeroes the call)")
        if not self.fatal and not self.max_points:
            raise ValueError(f"{self.code}: an item that is not fatal needs points")
        return self


class Section(_Strict):
    code: str = Field(pattern=CODE)
    en: str = Field(min_length=1, max_length=200)
    zh: str = Field(min_length=1, max_length=200)
    items: list[Item] = Field(min_length=1)


class Phrases(_Strict):
    en: list[str] = []
    zh: list[str] = []

    def for_language(self, lang: str) -> list[str]:
        return self.zh if lang.startswith("zh") else self.en


class Rule(_Strict):
    """An auto-QA check that pre-fills one item (qa/rules.py): full points when it passes, none when it fails."""

    kind: Literal["greeting", "closing", "disclosure", "forbidden", "silence", "talk_over", "hold", "outbound_opening"]
    item: str = Field(pattern=CODE)
    direction: Literal["inbound", "outbound"] | None = Field(default=None, description="only calls of this direction; none: every call")
    phrases: Phrases = Phrases()
    after: Phrases = Field(default=Phrases(), description="hold: what the agent says on coming back (phrases: before the hold)")
    within_s: float | None = Field(default=None, gt=0, description="greeting/disclosure/outbound_opening: from the start; closing: before the end")
    max_s: float | None = Field(default=None, gt=0, description="silence: the longest allowed")
    max_count: int | None = Field(default=None, ge=0, description="talk_over: interruptions allowed")


class ScorecardDefinition(_Strict):
    key: str = Field(pattern=CODE)
    en: str = Field(min_length=1, max_length=200)
    zh: str = Field(min_length=1, max_length=200)
    sections: list[Section] = Field(min_length=1)
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _consistent(self) -> ScorecardDefinition:
        codes = [i.code for s in self.sections for i in s.items]
        if len(set(codes)) != len(codes):
            raise ValueError("item codes must be unique in a scorecard")
        for rule in self.rules:
            if rule.item not in codes:
                raise ValueError(f"rule {rule.kind}: unknown item {rule.item}")
        if not any(not i.fatal for s in self.sections for i in s.items):
            raise ValueError("a scorecard needs at least one item with points")
        return self

    def items(self) -> dict[str, Item]:
        return {i.code: i for s in self.sections for i in s.items}

    @property
    def max_total(self) -> float:
        return sum(i.max_points for i in self.items().values())


class GradeError(ValueError):
    """The grades do not fit the scorecard; the message names the item."""


def grade(definition: ScorecardDefinition, given: dict[str, dict]) -> tuple[dict[str, dict], float, bool]:  # type: ignore[type-arg]
    """Check an inspector's grades against the scorecard: every item graded, points within the
    item's range, fatal items passed or failed. Answers (items, total, fatal): the total is 0 when
    a fatal item failed."""
    items = definition.items()
    unknown = sorted(set(given) - set(items))
    if unknown:
        raise GradeError(f"{unknown[0]}: not an item of this scorecard")
    graded: dict[str, dict] = {}  # type: ignore[type-arg]
    for code, item in items.items():
        if code not in given:
            raise GradeError(f"{code}: not graded")
        entry = given[code]
        comment = str(entry.get("comment", ""))[:2000]
        if item.fatal:
            failed = entry.get("failed")
            if not isinstance(failed, bool):
                raise GradeError(f"{code}: a fatal item is passed or failed (failed: true/false)")
            graded[code] = {"failed": failed, "points": 0.0, "comment": comment}
            continue
        points = entry.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= item.max_points:
            raise GradeError(f"{code}: points must be between 0 and {item.max_points:g}")
        graded[code] = {"points": float(points), "comment": comment}
    fatal = any(entry.get("failed") for entry in graded.values())
    total = 0.0 if fatal else round(sum(entry["points"] for entry in graded.values()), 2)
    return graded, total, fatal


def _item(code: str, en: str, zh: str, points: float, guidance_en: str = "", guidance_zh: str = "") -> Item:
    return Item(code=code, en=en, zh=zh, max_points=points, guidance_en=guidance_en, guidance_zh=guidance_zh)


def _fatal(code: str, en: str, zh: str) -> Item:
    return Item(code=code, en=en, zh=zh, max_points=0, fatal=True)


DEFAULT_SCORECARD = ScorecardDefinition(
    key="default",
    en="Call quality monitoring form",
    zh="呼叫质量监控表",
    sections=[
        Section(code="opening", en="Opening", zh="开场白", items=[
            _item("opening.greeting", "Greets promptly", "及时问候", 2, "Within 3 rings; 'Hello, …'", "三声铃响内接起,使用问候语"),
            _item("opening.identify", "Gives company name and agent ID", "报公司名称和工号", 2),
            _item("opening.offer_help", "Asks how to help (outbound: whether now is a good time)", "询问需要什么帮助(呼出:询问是否方便接听)", 1),
        ]),
        Section(code="attitude", en="Attitude", zh="服务态度", items=[
            _item("attitude.warm", "Warm and patient", "热情耐心", 8),
            _item("attitude.no_interrupting", "Does not interrupt or talk over", "不打断、不抢话", 6),
            _item("attitude.soothes", "Soothes emotions, apologises when needed", "安抚情绪,适时致歉", 6),
        ]),
        Section(code="voice", en="Voice", zh="语音语调", items=[
            _item("voice.clarity", "Clear standard speech", "普通话标准、吐字清晰", 5),
            _item("voice.pace", "Moderate speed and tone, no drawl", "语速适中、语调自然、不拖音", 5),
        ]),
        Section(code="courtesy", en="Courtesy language", zh="礼貌用语与禁语", items=[
            _item("courtesy.polite", "Uses polite words (请、您好、谢谢、对不起、再见)", "使用十字用语", 5),
            _item("courtesy.no_forbidden", "No forbidden words or jargon", "无服务禁语、无行话", 5),
        ]),
        Section(code="communication", en="Communication", zh="沟通技巧", items=[
            _item("communication.listens", "Listens and understands (no 3 repeats)", "认真倾听,准确理解(不让客户重复三次)", 5),
            _item("communication.guides", "Guides and asks effectively", "有效引导与询问", 5),
            _item("communication.confirms", "Confirms the customer understood", "确认客户是否理解", 5),
        ]),
        Section(code="business", en="Business competence", zh="业务能力", items=[
            _item("business.accurate", "Information accurate", "信息准确", 8),
            _item("business.complete", "Information complete", "信息全面", 5),
            _item("business.confirmed", "Confirmed with the customer", "与客户核实", 4),
            _item("business.no_exaggeration", "No exaggeration", "无夸大", 3),
            _item("business.process", "Correct process and system entry", "流程与系统录入正确", 5),
        ]),
        Section(code="hold_transfer", en="Hold and transfer", zh="保持/转接规范", items=[
            _item("hold_transfer.permission", "Asks before hold, apologises on return", "保持前征询,回来致歉", 2),
            _item("hold_transfer.no_dead_air", "No long unexplained silence (back within 60 s)", "无长时间冷场(60 秒内回复)", 2),
            _item("hold_transfer.warm", "Warm transfer with notes", "转接时说明并交接", 1),
        ]),
        Section(code="closing", en="Closing", zh="结束语", items=[
            _item("closing.further_help", "Offers further help", "询问是否还有其他需要", 2),
            _item("closing.thanks", "Thanks and says goodbye", "致谢并道别", 2),
            _item("closing.customer_first", "Lets the customer hang up first", "客户先挂机", 1),
        ]),
        Section(code="record", en="Wrap-up record", zh="记录完整", items=[
            _item("record.complete", "Call record completed, customer info updated", "呼入/呼出记录完整,客户信息已更新", 5),
        ]),
        Section(code="fatal", en="Fatal errors", zh="致命错误", items=[
            _fatal("fatal.abuse", "Insults, abuses or argues with the customer", "辱骂、顶撞客户(含挂机后)"),
            _fatal("fatal.hang_up", "Hangs up on the customer on purpose", "故意挂断客户电话"),
            _fatal("fatal.data_leak", "Leaks customer data or looks it up without need", "泄露客户信息或无故查询客户资料"),
            _fatal("fatal.false_info", "Seriously wrong information or unauthorised promise", "提供严重错误信息或擅自承诺"),
            _fatal("fatal.agent_id", "Refuses or misstates the agent ID", "拒报或错报工号"),
            _fatal("fatal.unregistered", "Fails to register a complaint or request", "未登记投诉或服务请求"),
            _fatal("fatal.sarcasm", "Sarcasm or discrimination", "讽刺、歧视客户"),
        ]),
    ],
    rules=[
        Rule(kind="greeting", item="opening.greeting", within_s=10, phrases=Phrases(
            en=["hello", "good morning", "good afternoon", "thank you for calling", "welcome"],
            zh=["您好", "你好", "欢迎致电", "很高兴为您服务"])),
        Rule(kind="disclosure", item="opening.identify", within_s=20, phrases=Phrases(
            en=["my name is", "agent number", "this is"], zh=["工号", "我是", "我的工号是", "号为您服务"])),
        Rule(kind="outbound_opening", item="opening.offer_help", direction="outbound", within_s=30, phrases=Phrases(
            en=["is this a good time", "is now a good time", "do you have a moment", "good time to talk"],
            zh=["请问您现在方便接电话吗", "现在方便接电话吗", "您现在方便吗", "现在方便吗", "方便接听吗"])),
        Rule(kind="forbidden", item="courtesy.no_forbidden", phrases=Phrases(
            en=["shut up", "stupid", "not my problem", "whatever", "i don't know", "hurry up"],
            zh=["喂", "不清楚", "不明白", "听懂了吧", "不可以", "后台", "这边"])),
        Rule(kind="closing", item="closing.thanks", within_s=20, phrases=Phrases(
            en=["thank you for calling", "goodbye", "bye", "have a nice day"], zh=["感谢您的来电", "再见"])),
        Rule(kind="hold", item="hold_transfer.permission", phrases=Phrases(
            en=["please hold", "one moment", "may i put you on hold", "bear with me"],
            zh=["请您稍等", "请稍等", "稍等一下", "请稍候"],
        ), after=Phrases(
            en=["thank you for waiting", "thanks for holding", "sorry to keep you waiting"],
            zh=["让您久等了", "久等了", "感谢您的耐心等待"])),
        Rule(kind="silence", item="hold_transfer.no_dead_air", max_s=10),
        Rule(kind="talk_over", item="attitude.no_interrupting", max_count=3),
    ],
)  # fmt: skip
