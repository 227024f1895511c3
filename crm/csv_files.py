"""A file of rows from a center's spreadsheet, and the report of an import that takes all of its rows
or none: what the customers import and the do-not-call list import share. Text comes as UTF-8 (with
or without the BOM Excel writes) or GB18030 (what Excel saves as CSV in China)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REJECTED = 1000  # kept in a report; the count is always whole


class ImportFileError(ValueError):
    """The file as a whole cannot be read: not text, no header, a broken CSV quote."""


@dataclass(frozen=True)
class Rejected:
    line: int
    column: str
    reason: str


@dataclass
class Report:
    rows: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejected_rows: int = 0  # rows with at least one problem
    imported: int = 0
    dry_run: bool = False

    @property
    def valid(self) -> int:
        return self.rows - self.rejected_rows

    def reject(self, line: int, column: str, reason: str) -> None:
        if len(self.rejected) < MAX_REJECTED:
            self.rejected.append(Rejected(line, column, reason))

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "rows": self.rows, "valid": self.valid, "rejected_rows": self.rejected_rows,
                "imported": self.imported, "rejected": [vars(r) for r in self.rejected]}  # fmt: skip


def decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (what Excel saves in China)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise ImportFileError("the file holds NUL characters: is it a spreadsheet (.xlsx) rather than a CSV?")
        return text
    raise ImportFileError("the file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8)")
