"""A durable, ordered spool of call-log records on disk, for while the database is away.

One JSON object per line, appended and fsync'ed before ``append`` returns, so a record the writer
could not store survives a crash of the process too. Replayed records are idempotent upserts, so
replaying a record twice (a crash between the commit and the truncation) changes nothing.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$dt"}:
        return datetime.fromisoformat(obj["$dt"])
    return obj


class Spool:
    def __init__(self, directory: Path, name: str = "calllog.jsonl") -> None:
        self.path = directory / name
        directory.mkdir(parents=True, exist_ok=True)

    def __len__(self) -> int:
        try:
            with open(self.path, "rb") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0

    def is_empty(self) -> bool:
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, default=_encode, ensure_ascii=False) + "\n" for r in records)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line, object_hook=_decode))
            except json.JSONDecodeError:
                continue  # a line cut by a crash mid-write: everything before it is whole
        return records

    def clear(self) -> None:
        try:
            os.truncate(self.path, 0)
        except FileNotFoundError:
            pass
