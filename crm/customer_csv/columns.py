"""The columns of a customers CSV, the same for export and import: each field's English key (what the
export writes) and its Chinese label (what a center's own spreadsheet is likely to say), and how a
cell becomes a value and a value a cell."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm.spreadsheet import unquote

LIST_SEPARATORS = re.compile(r"[;；,，/|\n]")
TRUE_CELLS = {"true", "yes", "y", "1", "是", "√", "✓"}
FALSE_CELLS = {"false", "no", "n", "0", "否", ""}
CUSTOMER_TYPE_LABELS = {"老客户": "existing", "目标客户": "target", "潜在客户": "prospect", "合作伙伴": "partner"}


@dataclass(frozen=True)
class Column:
    field: str  # crm.customer_form.NewCustomer's, or id / owner / created_at
    key: str  # the export's header
    label: str  # 中文表头
    kind: str = "text"  # text | list | bool | int | type
    imported: bool = True  # id and created_at are the export's own, the import passes over them


COLUMNS = (
    Column("id", "id", "客户编号", "int", imported=False),
    Column("name", "name", "客户名称"),
    Column("phones", "phones", "电话", "list"),
    Column("company", "company", "公司"),
    Column("grade", "grade", "客户等级"),
    Column("customer_type", "customer_type", "客户类型", "type"),
    Column("region", "region", "区域"),
    Column("industry", "industry", "所属行业"),
    Column("ownership", "ownership", "所有制性质"),
    Column("address", "address", "地址"),
    Column("postcode", "postcode", "邮编"),
    Column("email", "email", "邮箱"),
    Column("website", "website", "网址"),
    Column("fax", "fax", "传真"),
    Column("tax_id", "tax_id", "税号"),
    Column("annual_sales", "annual_sales", "年销售额", "int"),
    Column("registered_capital", "registered_capital", "注册资本", "int"),
    Column("credit_grade", "credit_grade", "信用等级"),
    Column("credit_limit", "credit_limit", "信用额度", "int"),
    Column("credit_term_days", "credit_term_days", "信用期限", "int"),
    Column("payment_terms", "payment_terms", "付款条件"),
    Column("key_account", "key_account", "重点客户", "bool"),
    Column("at_risk", "at_risk", "危险客户", "bool"),
    Column("tags", "tags", "标签", "list"),
    Column("owner", "owner", "负责业务员"),  # a user name
    Column("notes", "notes", "备注"),
    Column("preferred_queue", "preferred_queue", "优先技能组"),
    Column("created_at", "created_at", "登记日期", imported=False),
)
BY_HEADER = {name: column for column in COLUMNS for name in (column.key, column.label)}
REQUIRED = ("name", "phones")


class HeaderError(ValueError):
    """A header this importer cannot map: the file is refused before any row is read."""


def map_header(cells: list[str]) -> list[Column | None]:
    """The column of each header cell (None: one the import passes over, such as id)."""
    mapped: list[Column | None] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff")
        column = BY_HEADER.get(name) or BY_HEADER.get(name.lower())
        if column is None:
            known = ", ".join(c.key for c in COLUMNS if c.imported)
            raise HeaderError(f"column {position} {name[:40]!r} is not a customer field; the columns are {known} (or their Chinese labels)")
        if column.field in seen:
            raise HeaderError(f"column {position} {name[:40]!r}: {column.key} is given twice")
        seen.add(column.field)
        mapped.append(column if column.imported else None)
    missing = [field for field in REQUIRED if field not in seen]
    if missing:
        raise HeaderError(f"no {' and no '.join(missing)} column: every customer needs a name and a phone number")
    return mapped


def cell_value(column: Column, cell: str) -> object:
    """The value a cell gives its field; ValueError with a reason for one that gives none."""
    text = unquote(cell).strip()
    if column.kind == "list":
        return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]
    if column.kind == "bool":
        if text.lower() in TRUE_CELLS:
            return True
        if text.lower() in FALSE_CELLS:
            return False
        raise ValueError(f"{text[:20]!r} is neither yes nor no (true/false, 是/否, 1/0)")
    if column.kind == "int":
        if not text:
            return None
        digits = text.replace(",", "").replace("，", "").replace("_", "")
        if not re.fullmatch(r"-?\d{1,18}", digits):
            raise ValueError(f"{text[:20]!r} is not a whole number")
        return int(digits)
    if column.kind == "type":
        return CUSTOMER_TYPE_LABELS.get(text, text) or "existing"
    if column.field == "preferred_queue":
        return text or None
    return text
