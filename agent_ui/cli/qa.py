"""`callcenter qa analyze|score`: auto-QA of recordings.

`analyze` scores a two-sided recording from anywhere (a call center's archive, say) and needs no
database; `score` drains the backlog of recorded calls in the database, as `serve` does all along.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from agent_ui.cli.errors import CommandError
from crm.recordings import recordings_dir
from config import Settings
from crm.db import open_engine, session_factory
from qa.analysis import analyse, load_legs
from qa.scorecards import DEFAULT_SCORECARD, ScorecardDefinition
from qa.signals import AudioError
from qa.models import model_for, ready
from qa.transcribe import Transcriber, TranscriptionUnavailable
from qa.worker import Outcome, QaWorker


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("qa", help="auto-QA of call recordings", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    analyze = actions.add_parser("analyze", help="score one two-sided recording (no database)")
    analyze.add_argument("--agent", type=Path, help="the agent's leg (mono WAV)")
    analyze.add_argument("--customer", type=Path, help="the customer's leg (mono WAV)")
    analyze.add_argument("--stereo", type=Path, help="one stereo WAV instead: left the agent, right the customer")
    analyze.add_argument("--scorecard", type=Path, help="a scorecard definition (JSON); default: the built-in one")
    analyze.add_argument("--lang", choices=("zh", "en", "auto"), help="the call's language; auto: as the model hears it (default: qa.language)")
    analyze.add_argument(
        "--direction", choices=("inbound", "outbound"), default="inbound",
        help="the call's direction: rules for one direction only (the outbound opening) judge calls of it",
    )  # fmt: skip
    analyze.add_argument("--model", type=Path, help="Whisper model directory for a transcript (default: the language's, qa/models.py)")
    analyze.add_argument("--no-transcript", action="store_true", help="no transcript: metrics and signal rules only")
    analyze.add_argument("--holds", type=int, default=0, help="times the caller was put on hold (the hold rule judges only calls with one)")
    analyze.add_argument("--json", action="store_true", help="print the full result as JSON")
    analyze.set_defaults(handler=run_analyze)
    score = actions.add_parser("score", help="auto-QA every recorded call not done yet (exit status 1 if a call's recordings could not be analysed)")
    score.add_argument("--since", type=datetime.fromisoformat, help="only calls started from this date (YYYY-MM-DD)")
    score.set_defaults(handler=run_score)


def _scorecard(path: Path | None) -> ScorecardDefinition:
    if path is None:
        return DEFAULT_SCORECARD
    try:
        return ScorecardDefinition.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None
    except ValidationError as error:
        raise CommandError(f"{path}: not a scorecard: {error.errors()[0]['msg']}") from None


def run_analyze(args: argparse.Namespace, settings: Settings) -> int:
    scorecard = _scorecard(args.scorecard)
    lang = args.lang or settings.qa.language
    if args.holds < 0:
        raise CommandError("--holds must not be negative")
    model = None if args.no_transcript else args.model or model_for(settings.qa, lang)
    try:
        legs = load_legs(args.agent, args.customer, args.stereo)
        transcriber = Transcriber(ready(model)) if model else None
    except (AudioError, TranscriptionUnavailable) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot put the speech model together: {error}") from None
    hold = {"count": args.holds, "seconds": 0.0} if args.holds else None
    result = analyse(legs, scorecard, lang, transcriber=transcriber, direction=args.direction, hold=hold)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    metrics = result["metrics"]
    covers = f" over {result['auto_score_covers']:.0%} of the scorecard's points" if result["auto_score"] is not None else ""
    print(f"auto score: {result['auto_score']}{covers}  ({'flagged' if result['flagged'] else 'nothing flagged'})")
    if result["not_assessed"]:
        print(f"  not assessed: {', '.join(n['rule'] for n in result['not_assessed'])} ({result['not_assessed'][0]['why']})")
    print(f"talk: agent {metrics['agent_talk_s']:.1f} s, customer {metrics['customer_talk_s']:.1f} s; longest silence {metrics['longest_silence_s']:.1f} s")
    for finding in result["findings"]:
        print(f"  {'pass' if finding['passed'] else 'FAIL'}  {finding['rule']:<10} {finding['item']:<28} {finding['detail']}")
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    print(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)


def run_score(args: argparse.Namespace, settings: Settings) -> int:
    since = args.since.replace(tzinfo=args.since.tzinfo or UTC) if args.since else None

    async def score() -> tuple[list[Outcome], int]:
        async with open_engine(settings.database_url) as engine:
            worker = QaWorker(session_factory(engine), settings.qa, lambda server: recordings_dir(settings, server))
            try:
                while await worker.enqueue(since):
                    pass
                total = await worker.pending(since)
                settled: list[Outcome] = []
                _progress(0, total)
                while len(settled) < total and (passed := [o for o in await worker.run_once(since) if o.settled]):
                    settled += passed
                    _progress(min(len(settled), total), total)
                print(file=sys.stderr)
                return settled, await worker.pending(since)
            finally:
                await worker.stop()

    settled, left = asyncio.run(score())
    states = Counter(o.state for o in settled)
    print(f"scored {states['done']} call(s), {states['skipped']} skipped, {states['failed']} failed; {left} waiting for their recording")
    for outcome in settled:
        if outcome.state == "failed":
            print(f"  failed: call {outcome.linkedid}: {outcome.error}", file=sys.stderr)
    return 1 if states["failed"] else 0
