"""The customer's registration form (客户信息登记表, handbook §5.5) as rules on values: what the REST
API takes in a create or an edit and what a CSV import takes in a row, checked by the same models."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.models import CUSTOMER_TYPES, CustomerGrade

CustomerType = Literal[CUSTOMER_TYPES]  # type: ignore[valid-type]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Yuan = Annotated[int, Field(ge=0, le=10**15)]
PhoneText = Annotated[str, StringConstraints(max_length=40)]  # as written: customer_phones.number
MAX_TAGS = 20
MAX_CONTACTS = 20
MAX_PHONES = 10


def _email(value: str) -> str:
    if value and ("@" not in value or any(c.isspace() for c in value)):
        raise ValueError("not an e-mail address")
    return value


class Contact(BaseModel):
    """One contact person (联系人): name, 部门职务, phone, birthday, 嗜好, 与决策层关系."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    birthday: date | None = None
    hobbies: str = Field(default="", max_length=200)
    decision_role: str = Field(default="", max_length=100, description="与决策层关系: decides, influences, uses …")

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)


RiskType = Literal["credit_deterioration", "long_arrears", "business_deterioration", "litigation", "malicious_complaints", "other"]
RiskLevel = Literal["high", "medium", "low"]
RiskAction = Literal["stop_credit", "lower_limit", "collect", "legal", "watch"]


class Risk(BaseModel):
    """Why a customer is 危险客户 (handbook §5.8 危险客户统计表): what, how bad, what is done about it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: RiskType = Field(description="危险类型: 信用恶化, 长期拖欠, 经营恶化, 涉诉, 恶意投诉, 其他")
    level: RiskLevel = Field(description="风险等级: 高, 中, 低")
    action: RiskAction = Field(description="应对措施: 停止赊销, 降低额度, 催收, 法务, 观察")
    amount_owed: Yuan | None = Field(default=None, description="欠款金额, whole yuan")


class Registration(BaseModel):
    """The fields a customer is registered and edited with, apart from name, phones and contacts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    company: str = Field(default="", max_length=200)
    grade: CustomerGrade = CustomerGrade.C
    region: str = Field(default="", max_length=100)
    key_account: bool = False
    at_risk: bool = False
    notes: str = Field(default="", max_length=5000)
    preferred_queue: str | None = Field(default=None, max_length=64)
    customer_type: CustomerType = Field(default="existing", description="客户类型: existing 老客户, target 目标客户, prospect 潜在客户, partner 合作伙伴")
    industry: str = Field(default="", max_length=100, description="所属行业")
    ownership: str = Field(default="", max_length=50, description="所有制性质: 国有企业, 股份有限公司, 合资 …")
    address: str = Field(default="", max_length=300)
    postcode: str = Field(default="", max_length=16)
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=200)
    fax: str = Field(default="", max_length=40)
    tax_id: str = Field(default="", max_length=40, description="税号")
    annual_sales: Yuan | None = Field(default=None, description="年销售额, whole yuan")
    registered_capital: Yuan | None = Field(default=None, description="注册资本, whole yuan")
    credit_grade: str = Field(default="", max_length=16, description="信用等级")
    credit_limit: Yuan | None = Field(default=None, description="信用额度, whole yuan")
    credit_term_days: int | None = Field(default=None, ge=0, le=3650, description="信用期限 in days")
    payment_terms: str = Field(default="", max_length=100, description="付款条件")
    tags: list[Tag] = Field(default=[], max_length=MAX_TAGS)

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))  # the same tag twice is one tag


class NewCustomer(Registration):
    name: str = Field(min_length=1, max_length=200)
    phones: list[PhoneText] = Field(min_length=1, max_length=MAX_PHONES)

    @field_validator("phones")
    @classmethod
    def _check_phones(cls, phones: list[str]) -> list[str]:
        cleaned = [p.strip() for p in phones if p and p.strip()]
        if not cleaned:
            raise ValueError("at least one phone number")
        return cleaned
