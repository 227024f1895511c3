"""What every settings section is built from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelledCode(_Section):
    """A code with its zh-CN and en labels (pause reasons, disposition codes, ticket steps)."""

    code: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    en: str
    zh: str
