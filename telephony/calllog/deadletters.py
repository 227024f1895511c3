"""Call-log records the database refused on their own (not for being away): kept with the reason.

A record lands here only after its batch failed and the record failed again alone while the
database answered, so it never blocks the records behind it. The file is one JSON object a line
(``at``, ``reason``, ``record``) beside the spool; ``callcenter calllog dead-letters`` lists it and
``/api/health`` counts it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telephony.calllog.spool import append_synced, dump_lines, load_lines

log = logging.getLogger(__name__)

FILE = "dead-letters.jsonl"
REASON_CHARS = 500


class DeadLetters:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE
        self.count = 0  # in the file (counted at load) plus added since
        self.last_reason: str | None = None
        self._loaded = False

    async def load(self) -> None:
        """Count the dead letters in the file (once: later ones are counted as they are added)."""
        if not self._loaded:
            self._loaded = True
            self.count = len(await asyncio.to_thread(read_dead_letters, self.path.parent))

    async def add(self, record: dict[str, Any], error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"[:REASON_CHARS]
        entry = {"at": datetime.now(UTC), "reason": reason, "record": record}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(append_synced, self.path, dump_lines([entry]))
        self.count += 1
        self.last_reason = reason
        log.error("call log: a %s record was refused and kept in %s: %s", record.get("kind"), self.path, reason)


def read_dead_letters(directory: Path) -> list[dict[str, Any]]:
    """Every dead letter, oldest first (for the CLI; blocking)."""
    try:
        return load_lines((directory / FILE).read_bytes())
    except FileNotFoundError:
        return []
