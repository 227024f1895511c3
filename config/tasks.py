"""Follow-up tasks (跟进任务): what an agent has promised or the handbook's time limits demand, each
with the time it is due by and the outcomes that close it.

The handbook (§2): call back a dropped or silent caller within 10 minutes, log an ordinary message
within 20 and pass on an urgent one within 5, reply within 24 hours. The record form's 下次联系时间
and 回复时限 bring their own due time; the other kinds are due ``due_min`` after they are opened."""

from __future__ import annotations

from pydantic import Field, model_validator

from config.base import LabelledCode, _Section

# Kinds the product opens by itself; the settings may relabel them or change their time, not drop them.
CALLBACK, REPLY, DROPPED_CALL = "callback", "reply", "dropped_call"


class TaskKind(LabelledCode):
    due_min: float = Field(gt=0, le=60 * 24 * 90, description="Due this many minutes after it is opened (unless it brings its own time).")


class TaskSettings(_Section):
    kinds: list[TaskKind] = [
        TaskKind(code=CALLBACK, en="Call back", zh="预约回访", due_min=24 * 60),
        TaskKind(code=REPLY, en="Reply to the customer", zh="答复客户", due_min=24 * 60),
        TaskKind(code=DROPPED_CALL, en="Call back a dropped caller", zh="回拨未接来电", due_min=10),
        TaskKind(code="message", en="Log a message", zh="留言登记", due_min=20),
        TaskKind(code="urgent", en="Pass on an urgent message", zh="紧急留言通知", due_min=5),
        TaskKind(code="other", en="Other follow-up", zh="其他跟进", due_min=24 * 60),
    ]
    outcomes: list[LabelledCode] = [
        LabelledCode(code="resolved", en="Reached, resolved", zh="已联系,已解决"),
        LabelledCode(code="follow_up", en="Reached, more to do", zh="已联系,需跟进"),
        LabelledCode(code="no_answer", en="No answer", zh="无人接听"),
        LabelledCode(code="busy", en="Busy", zh="占线"),
        LabelledCode(code="wrong_number", en="Wrong number", zh="号码错误"),
        LabelledCode(code="not_needed", en="No longer needed", zh="无需处理"),
    ]
    near_due_min: float = Field(default=5, ge=0, le=60 * 24, description="A task is flagged 'due soon' this long before it is due.")
    dropped_calls: bool = Field(default=True, description="An abandoned call with a caller number opens a dropped_call task for its queue.")
    dropped_within_h: float = Field(default=24, gt=0, le=24 * 7, description="How far back the sweep looks for dropped calls.")
    sweep_s: float = Field(default=15, ge=0.2, le=600, description="How often dropped calls are turned into tasks.")

    @model_validator(mode="after")
    def _consistent(self) -> TaskSettings:
        for name in ("kinds", "outcomes"):
            codes = [item.code for item in getattr(self, name)]
            if len(set(codes)) != len(codes):
                raise ValueError(f"tasks.{name}: codes must be unique")
        missing = {CALLBACK, REPLY, DROPPED_CALL} - {k.code for k in self.kinds}
        if missing:
            raise ValueError(f"tasks.kinds: the product opens {', '.join(sorted(missing))} itself; keep it")
        if not self.outcomes:
            raise ValueError("tasks.outcomes: a task is done only with an outcome; give at least one")
        return self

    def kind(self, code: str) -> TaskKind | None:
        return next((k for k in self.kinds if k.code == code), None)

    def outcome(self, code: str) -> LabelledCode | None:
        return next((o for o in self.outcomes if o.code == code), None)
