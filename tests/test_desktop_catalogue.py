"""The pages' words (the desktop's and the wallboard's) all come from the translation catalogues, in
both languages: every key the pages and their scripts use exists in en and zh-CN, and the HTML
itself carries no text of its own."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent_ui.api.answers import TicketEvent
from agent_ui.pages import PAGES as PAGE_FILES
from agent_ui.pages import page
from agent_ui.wallboard.board import ALERT_KINDS
from qa.scorecards import Rule
from config.tickets import SEVERITIES
from crm.campaigns.plan import MODES, STATUSES
from crm.records import CONNECT_STATUSES, HANDLING, OUTBOUND_TYPES
from telephony.agents.state import AgentState
from telephony.calls.state import Disposition

STATIC = Path(__file__).parent.parent / "agent_ui" / "static"
LANGUAGES = ("en", "zh-CN")
PAGES = tuple(PAGE_FILES.values())
SCRIPTS = sorted(STATIC.glob("*.js"))


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


class _Texts(HTMLParser):
    """Keys the HTML asks for, and any text written in the HTML itself."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.texts: list[str] = []
        self._stack: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("data-i18n", "data-i18n-placeholder"):
            if found.get(name):
                self.keys.add(found[name] or "")
        if tag not in ("meta", "link", "input", "br"):
            self._stack.append({"tag": tag, **found})

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        inside = self._stack[-1] if self._stack else {}
        # Language names are written in their own language; grades are letters.
        if data.strip() and "data-lang" not in inside and inside.get("tag") not in ("script", "option"):
            self.texts.append(data.strip())


def used_keys() -> set[str]:
    keys: set[str] = set()
    for name in PAGES:
        parsed = _Texts()
        parsed.feed(page(name))
        keys |= parsed.keys
    for script in SCRIPTS:
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", script.read_text(encoding="utf-8")))
    keys |= {f"state.{s.value}" for s in AgentState} | {f"outcome.{d.value}" for d in Disposition}
    keys |= {f"call.{s}" for s in ("ringing", "answered", "held", "ended", "missed", "transferred")}
    keys |= {f"history.{d}" for d in ("inbound", "outbound")} | {"record.title_inbound", "record.title_outbound"}
    keys |= {"record.business_type", "record.call_result", "transfer.consulting", "transfer.sent"}
    keys |= {f"handling.{c}" for c in HANDLING} | {f"call_type.{c}" for c in OUTBOUND_TYPES}
    keys |= {f"connect_status.{c}" for c in CONNECT_STATUSES}
    keys |= {f"board.{a}" for a in ("listen", "whisper", "barge")}
    keys |= {f"alert.{k}" for k in ALERT_KINDS}
    keys |= {f"qa.rule.{r}" for r in Rule.model_fields["kind"].annotation.__args__}
    keys |= {f"qa.reason.{r}" for r in ("sample", "code", "auto_qa", "long", "short", "picked")}
    keys |= {f"qa.status.{s}" for s in ("submitted", "acknowledged", "disputed", "resolved")}
    keys |= {f"qa.side.{s}" for s in ("agent", "customer")} | {"qa.acknowledge", "qa.dispute", "qa.grade", "qa.spread"}
    keys |= {f"qa.col.{c}" for c in ("agent", "team", "week", "item", "evaluations", "average", "lowest", "fatal", "disputed", "max_points", "points", "lost", "lost_share")}
    keys |= {f"tickets.deadline_{d}" for d in ("on_time", "due_soon", "overdue", "responded", "closed")}
    keys |= {f"tickets.severity_{s}" for s in SEVERITIES}
    keys |= {f"campaigns.status.{s}" for s in STATUSES} | {f"campaigns.mode.{m}" for m in MODES}
    keys |= {f"tickets.event_{k}" for k in TicketEvent.model_fields["kind"].annotation.__args__}
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_used_is_translated(lang: str) -> None:
    words = catalogue(lang)
    missing = sorted(k for k in used_keys() if not words.get(k, "").strip())
    assert missing == []


def test_both_languages_have_the_same_keys() -> None:
    assert set(catalogue("en")) == set(catalogue("zh-CN"))


@pytest.mark.parametrize("name", PAGES)
def test_the_page_itself_holds_no_text(name: str) -> None:
    served = page(name)
    assert "<!--#include" not in served and 'id="login-form"' in served  # the shared parts are in
    parsed = _Texts()
    parsed.feed(served)
    assert parsed.texts == []
