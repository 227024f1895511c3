"""Run every benchmark, print the tables, write docs/benchmarks.md.

    make bench            (sets up PostgreSQL too)
    .venv/bin/python -m bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench import agi_routing, ami_pipeline, browser_phone, caller_lookup, calllog_throughput, campaign_dialler, end_to_end, customer_import, idle_sockets, qa_throughput, qa_transcripts, screen_pop, wallboard_fanout
from bench.report import Section, machine

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


async def scratch_postgres(admin_url: str | None, action: str, name: str) -> None:
    if not admin_url:
        return
    url = make_url(admin_url)
    connection = await asyncpg.connect(user=url.username, password=url.password, host=url.host, port=url.port, database=url.database)
    try:
        await connection.execute(f'{action} DATABASE "{name}"' + (" WITH (FORCE)" if action.startswith("DROP") else ""))
    finally:
        await connection.close()


async def main(quick: bool) -> list[Section]:
    admin = os.environ.get("CALLCENTER_BENCH_POSTGRES_URL")
    names = [f"cc_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]  # routing's CRM, and the million customers
    for name in names:
        await scratch_postgres(admin, "CREATE", name)
    routing_url, lookup_url = (make_url(admin).set(database=n).render_as_string(hide_password=False) if admin else None for n in names)

    async def make_database() -> str:  # one more scratch database, dropped with the others
        names.append(f"cc_bench_{uuid.uuid4().hex[:8]}")
        await scratch_postgres(admin, "CREATE", names[-1])
        return make_url(admin).set(database=names[-1]).render_as_string(hide_password=False)

    try:
        sections = [await ami_pipeline.run(quick), await agi_routing.run(routing_url), await caller_lookup.run(lookup_url, quick),
                    await customer_import.run(admin, make_database, quick), await campaign_dialler.run(admin, make_database, quick),
                    await calllog_throughput.run(admin, make_database, quick),
                    await screen_pop.run(quick), await wallboard_fanout.run(quick), await idle_sockets.run(quick),
                    qa_throughput.run(quick), qa_transcripts.run(quick), await browser_phone.run(quick), await end_to_end.run(make_database if admin else None, quick)]
    finally:
        for name in names:
            await scratch_postgres(admin, "DROP", name)
    return sections


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    sections = asyncio.run(main(args.quick))
    for section in sections:
        print(section.text(), end="\n\n")
        for note in section.notes:
            print(note)
        print()
    body = "\n".join(section.markdown() for section in sections)
    REPORT.write_text(
        "# Benchmarks\n\nWritten by `make bench` (`python -m bench`); numbers from one run on "
        f"{machine()}{' (a --quick smoke run)' if args.quick else ''}. Peers run in the same process, "
        f"on the same data, in the same run.\n\n{body}",
        encoding="utf-8",
    )
    print(f"wrote {REPORT}")
