"""The customer grade rule (客户等级分类表, handbook §5.6): which grade a customer's annual sales and
answered calls of the last year earn. `callcenter customers regrade` proposes the grade the rule
gives wherever it differs from the customer's; a supervisor approves or rejects each proposal, as
for an agent's. Grades are named as crm.models.CustomerGrade spells them (config does not import the CRM)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import _Section

Grade = Literal["A", "B", "C", "D"]


class GradeRule(_Section):
    grade: Grade
    min_annual_sales: int = Field(default=0, ge=0, description="年销售额 at least this (whole yuan; no figure counts as 0)")
    min_calls: int = Field(default=0, ge=0, description="and at least this many answered calls in the last calls_window_days")


class GradingSettings(_Section):
    rules: list[GradeRule] = Field(
        default=[
            GradeRule(grade="A", min_annual_sales=5_000_000),
            GradeRule(grade="B", min_annual_sales=1_000_000),
            GradeRule(grade="B", min_annual_sales=200_000, min_calls=12),
            GradeRule(grade="C", min_annual_sales=0, min_calls=1),
        ],
        description="Tried in order: the first a customer meets gives their grade; none met gives otherwise_grade. "
        "Defaults: A from 5 million a year (A is about 10–20% of customers and 70–80% of revenue), B from 1 million, "
        "or 200,000 with a call a month.",
    )
    otherwise_grade: Grade = Field(default="D", description="The grade of a customer who meets no rule.")
    calls_window_days: int = Field(default=365, ge=1, le=3650)
    litigation_at_most: Grade | None = Field(
        default="C", description="A customer at risk for litigation (涉诉) is graded at most this (handbook §5.6); none: no cap."
    )

    @model_validator(mode="after")
    def _some_rule(self) -> GradingSettings:
        if not self.rules:
            raise ValueError("grading.rules: at least one rule")
        return self
