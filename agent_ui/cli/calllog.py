"""`callcenter calllog dead-letters`: the call-log records the database refused, with the reason."""

from __future__ import annotations

import argparse
import json

from config import Settings
from telephony.calllog.deadletters import read_dead_letters
from telephony.calllog.spool import encode


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("calllog", help="the call log's own records: what the database refused", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    letters = actions.add_parser(
        "dead-letters", help="list the records the database refused (they are kept in the spool folder, not lost)"
    )
    letters.add_argument("--json", action="store_true", help="one JSON object a line, as stored")
    letters.set_defaults(handler=run_dead_letters)


def run_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    letters = read_dead_letters(settings.spool_dir)
    if args.json:
        for letter in letters:
            print(json.dumps(letter, default=encode, ensure_ascii=False))
        return 0
    if not letters:
        print(f"no dead letters in {settings.spool_dir}")
        return 0
    for letter in letters:
        record = letter.get("record", {})
        data = record.get("data", {})
        what = data.get("linkedid") or data.get("event_key") or "?"
        print(f"{letter.get('at')}  {record.get('kind', '?')} {what}: {letter.get('reason', '')}")
    print(f"{len(letters)} dead letters in {settings.spool_dir}")
    return 0
