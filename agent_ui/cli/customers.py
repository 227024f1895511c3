"""`callcenter customers import|export|regrade`: customers in and out of the CRM as CSV, and the grade rule.

`import FILE` checks every row, then imports all of them in one transaction, or none when a row is
rejected (the report names each line, column and reason; exit code 1). `--dry-run` only checks.
`export` writes every customer (or those a filter picks) with whole numbers. Both are in the
audit log as done by the operating-system user who ran them. `regrade` (a nightly job) proposes
the grade the settings' rule gives wherever it differs from a customer's; supervisors decide the
proposals like an agent's."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from agent_ui.cli.errors import CommandError
from config import Settings
from crm import audit, schema
from crm.audit import Actor
from crm.customer_csv import exporter
from crm.csv_files import ImportFileError, Report
from crm.customer_csv.importer import import_customers
from crm.db import open_engine, session_factory
from crm.grade_rule import Regrading, regrade
from crm.models import CUSTOMER_TYPES, CustomerGrade
from crm.privacy import Disclosure

SHOWN_REJECTIONS = 20
PHASES = {"read": "checking rows", "compared": "comparing with the CRM", "written": "importing"}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("customers", help="import and export customers as CSV", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imports = actions.add_parser("import", help="import customers from a CSV file (all rows or none)")
    imports.add_argument("file", type=Path, help="the CSV file: UTF-8 or GB18030, a header of column keys or Chinese labels")
    imports.add_argument("--dry-run", action="store_true", help="check every row and report; import nothing")
    imports.set_defaults(handler=run_import)
    exports = actions.add_parser("export", help="export customers as CSV (standard output unless --out)")
    exports.add_argument("--out", type=Path, help="the file to write")
    exports.add_argument("--grade", choices=[g.value for g in CustomerGrade])
    exports.add_argument("--region")
    exports.add_argument("--customer-type", choices=CUSTOMER_TYPES)
    exports.add_argument("--tag")
    exports.set_defaults(handler=run_export)
    regrade = actions.add_parser("regrade", help="propose the grade the grade rule (settings: grading) gives, where it differs")
    regrade.add_argument("--dry-run", action="store_true", help="count what would be proposed; propose nothing")
    regrade.set_defaults(handler=run_regrade)


def _operator() -> Actor:
    return Actor(None, f"cli:{getpass.getuser()}"[:64], "admin", "local")


class _Bars:
    """One progress bar per phase, on standard error when it is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bars: dict[str, tqdm] = {}

    def __call__(self, phase: str, done: int) -> None:
        if phase not in self.bars:
            for bar in self.bars.values():
                bar.close()
            self.bars[phase] = tqdm(total=self.total, desc=PHASES[phase], unit=" rows", disable=None, file=sys.stderr, leave=False)
        self.bars[phase].update(done)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror}") from None
    bars = _Bars(total=max(data.count(b"\n") - 1, 1))

    async def run() -> Report:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                report = await import_customers(session, data, dry_run=args.dry_run, default_region=settings.crm.default_region,
                                                queues={q.name for q in settings.queues}, registered_by=None, progress=bars)  # fmt: skip
                if report.imported:
                    audit.record(session, _operator(), "customer.imported", "customers", None, rows=report.rows, imported=report.imported,
                                 file=args.file.name)  # fmt: skip
                return report

    try:
        report = asyncio.run(run())
    except (ImportFileError, schema.SchemaOutOfDate) as error:
        raise CommandError(f"{args.file}: {error}") from None
    finally:
        bars.close()
    for rejected in report.rejected[:SHOWN_REJECTIONS]:
        print(f"line {rejected.line}: {rejected.column + ': ' if rejected.column else ''}{rejected.reason}")
    if report.rejected_rows:
        more = len(report.rejected) - SHOWN_REJECTIONS
        if more > 0:
            print(f"… and {more} more problems")
        print(f"{report.rows} rows: {report.valid} valid, {report.rejected_rows} rejected; nothing imported", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"{report.rows} rows, all valid: an import would add {report.valid} customers (dry run: nothing imported)")
    else:
        print(f"imported {report.imported} customers")
    return 0


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    chosen = exporter.ExportFilter(args.grade, args.region, args.customer_type, args.tag)

    async def run(out: TextIO) -> int:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                picked = await exporter.count(session, chosen)
                audit.record(session, _operator(), "customer.exported", "customers", None, filter=chosen.as_dict(), customers=picked)
            written = 0
            out.write(exporter.header())
            async with session_factory(engine)() as session:
                async for text, count in exporter.rows(session, chosen, Disclosure.everything()):
                    out.write(text)
                    written += count
            return written

    try:
        if args.out is None:
            written = asyncio.run(run(sys.stdout))
        else:
            with args.out.open("w", encoding="utf-8", newline="") as out:
                written = asyncio.run(run(out))
    except OSError as error:
        raise CommandError(f"cannot write {args.out}: {error.strerror}") from None
    except schema.SchemaOutOfDate as error:
        raise CommandError(str(error)) from None
    print(f"exported {written} customers", file=sys.stderr)
    return 0


def run_regrade(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> Regrading:
        async with open_engine(settings.database_url) as engine:
            await schema.check_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                return await regrade(session, settings.grading, dry_run=args.dry_run)

    try:
        result = asyncio.run(run())
    except schema.SchemaOutOfDate as error:
        raise CommandError(str(error)) from None
    verb = "would propose" if args.dry_run else "proposed"
    print(f"{result.customers} customers: {verb} {result.proposed} new grades; {result.unchanged} already as the rule gives; "
          f"{result.already_pending} with a grade proposal pending")  # fmt: skip
    return 0
