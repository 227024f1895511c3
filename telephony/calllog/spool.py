"""A durable, ordered, bounded spool of call-log records on disk, for while the database is away.

Records go into numbered segment files of at most ``segment_records`` lines, one JSON object a
line, appended and fsync'ed before ``append`` returns, so a record the writer could not store
survives a crash of the process too. The writer replays the oldest segment and deletes it once
its records are committed: replay goes a segment (one batch) at a time, however long the outage
was. Replayed records are idempotent upserts, so a segment replayed twice (a crash between the
commit and the deletion) changes nothing.

The spool is bounded (``max_bytes``). Past it the **oldest segments are dropped**, counted and
logged as errors: the newest records say most about calls still to be coded, and a full disk must
not stop the calls being taken.

Every file operation runs in a thread: the event loop also serves AMI, AGI and every socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SEGMENT = re.compile(r"^calllog-(\d{12})\.jsonl$")
LEGACY = "calllog.jsonl"  # the single-file spool of earlier versions, taken up as the oldest segment


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot spool {type(value).__name__}")


def decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$dt"}:
        return datetime.fromisoformat(obj["$dt"])
    return obj


def dump_lines(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, default=encode, ensure_ascii=False) + "\n" for r in records).encode()


def load_lines(data: bytes) -> list[dict[str, Any]]:
    records = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line, object_hook=decode))
        except json.JSONDecodeError:
            continue  # a line cut by a crash or a full disk mid-write: everything before it is whole
    return records


def append_synced(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class Segment:
    path: Path
    records: int
    size: int


class Spool:
    def __init__(self, directory: Path, *, max_bytes: int = 256 * 2**20, segment_records: int = 500) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_records = segment_records
        self.dropped = 0  # records dropped past max_bytes since start
        self._segments: list[Segment] | None = None  # oldest first; None until loaded

    # What is in it (in memory, no I/O once loaded) --------------------------------------------------

    def __len__(self) -> int:
        return sum(s.records for s in self._segments or [])

    @property
    def size(self) -> int:
        return sum(s.size for s in self._segments or [])

    def is_empty(self) -> bool:
        return not self._segments

    # Changing it -------------------------------------------------------------------------------------

    async def load(self) -> None:
        """Find the segments a previous run left (once, before the first use)."""
        if self._segments is None:
            self._segments = await asyncio.to_thread(self._scan)

    async def append(self, records: list[dict[str, Any]]) -> None:
        """Append in order and fsync. An ``OSError`` (disk full) is raised: the caller keeps the records."""
        if not records:
            return
        await self.load()
        await asyncio.to_thread(self._append, records)
        await self._bound()

    async def oldest(self) -> tuple[Segment, list[dict[str, Any]]] | None:
        await self.load()
        if not self._segments:
            return None
        segment = self._segments[0]
        data = await asyncio.to_thread(_read_or_empty, segment.path)
        return segment, load_lines(data)

    async def consume(self, segment: Segment) -> None:
        """The segment's records are committed: delete it."""
        await asyncio.to_thread(segment.path.unlink, missing_ok=True)
        if self._segments and self._segments[0] is segment:
            self._segments.pop(0)

    # In a thread ---------------------------------------------------------------------------------------

    def _scan(self) -> list[Segment]:
        self.directory.mkdir(parents=True, exist_ok=True)
        legacy = self.directory / LEGACY
        if legacy.exists():
            legacy.rename(self.directory / "calllog-000000000000.jsonl")
        segments = []
        for path in sorted(self.directory.iterdir()):
            if SEGMENT.match(path.name):
                data = path.read_bytes()
                segments.append(Segment(path, data.count(b"\n"), len(data)))
        return segments

    def _append(self, records: list[dict[str, Any]]) -> None:
        assert self._segments is not None
        while records:
            if self._segments and self._segments[-1].records < self.segment_records:
                segment = self._segments[-1]
            else:
                segment = Segment(self._next_path(), 0, 0)
            room = self.segment_records - segment.records
            part, records = records[:room], records[room:]
            data = dump_lines(part)
            append_synced(segment.path, data)  # raises before the segment is counted: the caller keeps them all
            if segment.records == 0:
                self._segments.append(segment)
            segment.records += len(part)
            segment.size += len(data)

    def _next_path(self) -> Path:
        assert self._segments is not None
        number = int(SEGMENT.match(self._segments[-1].path.name).group(1)) + 1 if self._segments else 1  # type: ignore[union-attr]
        return self.directory / f"calllog-{number:012d}.jsonl"

    async def _bound(self) -> None:
        assert self._segments is not None
        while self.size > self.max_bytes and len(self._segments) > 1:
            segment = self._segments.pop(0)
            await asyncio.to_thread(segment.path.unlink, missing_ok=True)
            self.dropped += segment.records
            log.error(
                "call log: spool over %d bytes; dropped its oldest %d records (%d dropped since start)",
                self.max_bytes, segment.records, self.dropped,
            )  # fmt: skip


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
