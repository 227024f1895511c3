"""Ticket types: complaints (客户投诉) and after-sales requests (售后服务), configured, not coded.

One lifecycle engine (crm.tickets) runs every type. A type names its categories with the response
it promises (the handbook: reply within 24 h), the fields registered when it opens, and its steps in
order, each with the fields that step records (the complaint's 投诉处理追踪表: root cause, actions,
reply, follow-up; the after-sales 产品维修报告单 and 信息反馈表)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import LabelledCode, _Section

SEVERITIES = ("severe", "ordinary", "minor")  # 紧急程度: 严重 / 一般 / 轻微


class TicketField(LabelledCode):
    kind: Literal["text", "long_text", "date", "number", "choice"] = "text"
    choices: list[LabelledCode] = []
    required: bool = False

    @model_validator(mode="after")
    def _choices(self) -> TicketField:
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"field {self.code}: choices go with kind 'choice', and only with it")
        return self


class TicketCategory(LabelledCode):
    respond_h: float = Field(default=24, gt=0, le=24 * 90, description="The promise: the customer has a reply within this many hours.")


class TicketStep(LabelledCode):
    fields: list[TicketField] = []
    optional: bool = Field(default=False, description="May be passed over on the way to the next step.")


class TicketType(LabelledCode):
    prefix: str = Field(pattern=r"^[A-Z]{2,4}$", description="Ticket numbers read PREFIX-YYYYMMDD-000123.")
    categories: list[TicketCategory] = Field(min_length=1)
    fields: list[TicketField] = Field(default=[], description="Registered when the ticket opens.")
    steps: list[TicketStep] = Field(min_length=2, description="In order: it opens at the first and is closed at the last.")
    replied_step: str = Field(description="Reaching this step keeps the response promise.")
    closed_by: Literal["handler", "leader"] = Field(
        default="handler", description="leader: only a team leader, supervisor or admin closes it (handbook §1.4)."
    )
    escalates: bool = Field(default=False, description="A major one (重大投诉) goes to the supervisors, who alone handle and close it.")
    dispositions: list[str] = Field(default=[], description="A record form saved with one of these codes opens one.")
    handlings: list[str] = Field(default=[], description="… or with one of these 处理方式.")

    @model_validator(mode="after")
    def _consistent(self) -> TicketType:
        steps = [s.code for s in self.steps]
        if len(set(steps)) != len(steps):
            raise ValueError(f"ticket type {self.code}: step codes must be unique")
        if self.replied_step not in steps[1:]:
            raise ValueError(f"ticket type {self.code}: replied_step {self.replied_step!r} is not one of its steps after the first")
        if self.steps[0].optional or self.steps[-1].optional:
            raise ValueError(f"ticket type {self.code}: the first and last steps cannot be optional")
        for fields in [self.fields, *(s.fields for s in self.steps)]:
            codes = [f.code for f in fields]
            if len(set(codes)) != len(codes):
                raise ValueError(f"ticket type {self.code}: field codes must be unique within a form")
        categories = [c.code for c in self.categories]
        if len(set(categories)) != len(categories):
            raise ValueError(f"ticket type {self.code}: category codes must be unique")
        return self

    def step(self, code: str) -> TicketStep | None:
        return next((s for s in self.steps if s.code == code), None)

    def category(self, code: str) -> TicketCategory | None:
        return next((c for c in self.categories if c.code == code), None)


def _choice(code: str, en: str, zh: str, choices: list[tuple[str, str, str]], required: bool = False) -> TicketField:
    return TicketField(code=code, en=en, zh=zh, kind="choice", required=required,
                       choices=[LabelledCode(code=c, en=e, zh=z) for c, e, z in choices])  # fmt: skip


_OUTCOME = _choice("outcome", "Customer satisfied?", "回访情况", [("satisfied", "Satisfied", "满意"), ("dissatisfied", "Dissatisfied", "不满意")], True)

COMPLAINT = TicketType(
    code="complaint", en="Complaint", zh="客户投诉", prefix="TS",
    categories=[
        TicketCategory(code="quality", en="Product quality", zh="产品质量"),
        TicketCategory(code="attitude", en="Service attitude", zh="服务态度"),
        TicketCategory(code="delivery", en="Delivery", zh="物流配送"),
        TicketCategory(code="price", en="Price", zh="价格"),
        TicketCategory(code="contract", en="Contract terms", zh="合同条款"),
        TicketCategory(code="other", en="Other", zh="其他"),
    ],
    fields=[  # 客户投诉登记表
        _choice("channel", "Channel", "投诉渠道", [("phone", "Phone", "电话"), ("in_person", "In person", "面谈"), ("letter", "Letter", "信函"),
                                              ("email", "Email", "邮件"), ("online", "Online", "网络"), ("other", "Other", "其他")]),
        _choice("target", "About", "投诉对象", [("product", "Product", "产品"), ("staff", "Staff", "人员"), ("department", "Department", "部门")]),
        TicketField(code="order_ref", en="Contract / order / model", zh="合同编号/发货单号/产品型号"),
        TicketField(code="demand", en="Customer's demand", zh="客户要求", kind="long_text"),
    ],
    steps=[  # 投诉处理追踪表
        TicketStep(code="received", en="Received", zh="已受理"),
        TicketStep(code="investigating", en="Investigating", zh="调查中", fields=[
            TicketField(code="root_cause", en="Root cause", zh="原因分析", kind="long_text", required=True),
            TicketField(code="department", en="Responsible department", zh="责任部门"),
            _choice("validity", "Finding", "投诉性质", [("valid", "Valid", "有效投诉"), ("assisted", "Assisted", "协助处理"), ("group", "Group", "群诉"),
                                                      ("invalid", "Invalid", "无效投诉"), ("suggestion", "Suggestion", "意见建议")]),
        ]),
        TicketStep(code="handling", en="Handling", zh="处理中", fields=[
            TicketField(code="actions", en="Actions", zh="处理措施", kind="long_text", required=True),
        ]),
        TicketStep(code="replied", en="Replied to the customer", zh="已答复客户", fields=[
            TicketField(code="reply", en="Reply given", zh="答复内容", kind="long_text", required=True),
        ]),
        TicketStep(code="follow_up", en="Followed up", zh="已回访", fields=[_OUTCOME]),
        TicketStep(code="closed", en="Closed", zh="已结案", fields=[
            TicketField(code="prevention", en="Corrective and preventive actions", zh="纠正预防措施", kind="long_text"),
        ]),
    ],
    replied_step="replied", closed_by="leader", escalates=True, dispositions=["complaint"],
)  # fmt: skip

AFTER_SALES = TicketType(
    code="after_sales", en="After-sales request", zh="售后服务", prefix="AS",
    categories=[
        TicketCategory(code="repair", en="Repair", zh="维修"),
        TicketCategory(code="installation", en="Installation", zh="安装", respond_h=48),
        TicketCategory(code="returns", en="Return or exchange", zh="退换货"),
        TicketCategory(code="feedback", en="Feedback", zh="信息反馈"),
    ],
    fields=[  # 售后服务登记表
        TicketField(code="product", en="Product / model / serial", zh="产品/型号/序列号"),
        TicketField(code="purchased_on", en="Purchase date", zh="购买日期", kind="date"),
        TicketField(code="fault", en="Fault", zh="故障描述", kind="long_text"),
        _choice("service_mode", "Service", "服务方式", [("on_site", "On site", "上门"), ("return", "Return for repair", "返修"), ("phone", "By phone", "电话")]),
    ],
    steps=[
        TicketStep(code="registered", en="Registered", zh="已登记"),
        TicketStep(code="dispatched", en="Technician dispatched", zh="已派工", optional=True, fields=[
            TicketField(code="technician", en="Technician", zh="派工人员", required=True),
            TicketField(code="visit_at", en="Visit date", zh="上门日期", kind="date"),
        ]),
        TicketStep(code="repaired", en="Repair report", zh="维修报告", fields=[  # 产品维修报告单
            TicketField(code="findings", en="Findings and work done", zh="检修情况", kind="long_text", required=True),
            TicketField(code="cost", en="Cost", zh="费用", kind="number"),
        ]),
        TicketStep(code="replied", en="Customer told", zh="已告知客户", fields=[
            TicketField(code="reply", en="What the customer was told", zh="告知内容", kind="long_text", required=True),
        ]),
        TicketStep(code="feedback", en="Feedback", zh="信息反馈", fields=[_OUTCOME,  # 售后服务信息反馈表
            TicketField(code="comments", en="Customer's comments", zh="客户意见", kind="long_text"),
        ]),
        TicketStep(code="closed", en="Closed", zh="已结案"),
    ],
    replied_step="replied", dispositions=["repair"], handlings=["work_order"],
)  # fmt: skip


class TicketSettings(_Section):
    types: list[TicketType] = [COMPLAINT, AFTER_SALES]
    near_due_h: float = Field(default=2, ge=0, le=24 * 30, description="A ticket is flagged 'due soon' this long before its promised response.")

    @model_validator(mode="after")
    def _unique(self) -> TicketSettings:
        for attribute in ("code", "prefix"):
            values = [getattr(t, attribute) for t in self.types]
            if len(set(values)) != len(values):
                raise ValueError(f"tickets.types: each type needs its own {attribute}")
        return self

    def type(self, code: str) -> TicketType | None:
        return next((t for t in self.types if t.code == code), None)
