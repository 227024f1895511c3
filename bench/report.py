"""Latency statistics and the Markdown report every benchmark adds to."""

from __future__ import annotations

import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Section:
    title: str
    intro: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", self.intro, "", "| " + " | ".join(self.header) + " |"]
        lines.append("|" + "---|" * len(self.header))
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h) for i, h in enumerate(self.header)]
        out = [self.title, "  ".join(h.ljust(w) for h, w in zip(self.header, widths, strict=True))]
        out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in self.rows]
        return "\n".join(out)


def latency_cells(samples_s: list[float]) -> list[str]:
    ms = [s * 1000 for s in samples_s]
    return [f"{percentile(ms, 50):.2f}", f"{percentile(ms, 95):.2f}", f"{percentile(ms, 99):.2f}", f"{max(ms):.2f}", f"{statistics.fmean(ms):.2f}"]


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, {datetime.now(UTC):%Y-%m-%d}"
