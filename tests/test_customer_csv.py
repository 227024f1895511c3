"""Customers in and out as CSV (issue 14), on SQLite and PostgreSQL: a dry run reports every bad row
with its line, column and reason; an import with a bad row imports nothing; a clean one imports all;
Excel's GB18030 and Chinese headers are read; the export is a permission, audited, safe to open in a
spreadsheet, and imports again elsewhere; the command line does the same with exit codes."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from crm.customer_csv.columns import HeaderError, map_header
from crm.csv_files import ImportFileError, Report
from crm.customer_csv.importer import read_rows
from crm.db import create_engine, session_factory
from crm.models import AuditEntry, Customer, CustomerPhone
from tests.test_api import Api, api  # noqa: F401 - the fixture
from tests.test_cli import run

HEADER = "name,phones,company,grade,customer_type,annual_sales,tags,owner,key_account\n"
GOOD = (
    "华东贸易,13912340001; +86 139 1234 0002,华东贸易有限公司,A,target,\"2,500,000\",华东;重点,agent1001,是\n"
    "=HYPERLINK(\"http://evil\"),13912340003,,B,,,,,\n"
)  # fmt: skip
BAD = (
    "坏号码,见名片,,A,,,,,\n"  # 4: not a phone number
    "等级错,13912340004,,E,,,,,\n"  # 5: grade
    "重复,13912340001,,C,,,,,\n"  # 6: the number of line 2
    "老客户,13800138000,,C,,,,,\n"  # 7: 张三's number, already in the CRM
    "没人管,13912340005,,C,,,,nobody,\n"  # 8: no such owner
    "金额错,13912340006,,C,,一百万,,,\n"  # 9: not a whole number
    "质检管,13912340007,,C,,,,qa,\n"  # 10: QA owns no customer
)


def test_a_header_names_known_columns_once_with_a_name_and_a_phone() -> None:
    assert [c.field if c else None for c in map_header(["客户编号", "客户名称", "电话", "Grade"])] == [None, "name", "phones", "grade"]
    for header, problem in ((["name", "phone"], "column 2 'phone' is not a customer field"), (["name", "phones", "客户名称"], "name is given twice"),
                            (["name", "company"], "no phones column")):  # fmt: skip
        with pytest.raises(HeaderError, match=problem):
            map_header(header)


def test_excel_files_in_gb18030_with_chinese_headers_are_read() -> None:
    data = "客户名称,电话,客户类型,重点客户\n广州白云,020-8888 1234,合作伙伴,否\n".encode("gb18030")
    report = Report()
    (row,) = read_rows(data, default_region="CN", queues=set(), report=report)
    assert (row.fields["name"], row.fields["customer_type"], row.fields["key_account"]) == ("广州白云", "partner", False)
    assert row.phones == [("020-8888 1234", "+862088881234")] and report.rows == 1 and not report.rejected
    with pytest.raises(ImportFileError, match="NUL"):
        read_rows(b"name,phones\n\x00\x00", default_region="CN", queues=set(), report=Report())
    with pytest.raises(ImportFileError, match="neither UTF-8 nor GB18030"):
        read_rows(b"name,phones\n\xff\xfe\xff", default_region="CN", queues=set(), report=Report())


async def _count(migrated_url: str) -> tuple[int, int]:
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        customers = await session.scalar(select(func.count()).select_from(Customer))
        phones = await session.scalar(select(func.count()).select_from(CustomerPhone))
    await engine.dispose()
    return customers or 0, phones or 0


async def _post(api: Api, token: str, data: bytes, dry_run: bool) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    async with api.http.post(f"{api.base}/api/customer-import", params={"dry_run": str(dry_run).lower()}, data=data, headers=headers) as r:
        return r.status, await r.json()


async def test_a_file_with_bad_rows_is_reported_line_by_line_and_imports_nothing(api: Api, migrated_url: str) -> None:
    supervisor = await api.login("supervisor")
    before = await _count(migrated_url)
    data = (HEADER + GOOD + BAD).encode()
    for dry_run, expected in ((True, 200), (False, 422)):
        status, report = await _post(api, supervisor, data, dry_run)
        assert status == expected, report
        assert (report["rows"], report["valid"], report["rejected_rows"], report["imported"]) == (9, 2, 7, 0)
        problems = {(r["line"], r["column"]) for r in report["rejected"]}
        assert problems == {(4, "phones"), (5, "grade"), (6, "phones"), (7, "phones"), (8, "owner"), (9, "annual_sales"), (10, "owner")}, report
        reasons = {r["line"]: r["reason"] for r in report["rejected"]}
        assert "is also on line 2" in reasons[6] and "already customer" in reasons[7] and "'nobody'" in reasons[8]
    assert await _count(migrated_url) == before  # nothing half-imported

    status, report = await _post(api, supervisor, (HEADER + GOOD).encode(), False)
    assert status == 200 and (report["imported"], report["rejected"]) == (2, [])
    assert await _count(migrated_url) == (before[0] + 2, before[1] + 3)
    _, found = await api.call("GET", "/api/customers", supervisor, params={"phone": "+86 139 1234 0002"})
    (trade,) = found["customers"]
    assert (trade["grade"], trade["customer_type"], trade["annual_sales"], trade["tags"], trade["key_account"]) == ("A", "target", 2_500_000, ["华东", "重点"], True)
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.imported")))
    await engine.dispose()
    assert [(e.username, e.detail["imported"]) for e in entries] == [("supervisor", 2)]


async def test_import_and_export_are_for_the_roles_the_settings_name(api: Api) -> None:
    data = (HEADER + "某人,13912349999,,C,,,,,\n").encode()
    for username in ("agent1001", "leader", "qa"):
        token = await api.login(username)
        status, refused = await _post(api, token, data, True)
        assert status == 403 and ("privacy.import_customers" in refused["error"] or username == "qa"), (username, refused)
        assert (await api.call("GET", "/api/customer-export", token))[0] == 403
    status, refused = await _post(api, await api.login("admin"), b"name,phone\n", True)
    assert status == 400 and "'phone' is not a customer field" in refused["error"]
    status, refused = await _post(api, await api.login("admin"), b"", True)
    assert status == 400 and "empty" in refused["error"]


async def test_the_export_is_audited_safe_in_a_spreadsheet_and_imports_again(api: Api, migrated_url: str, tmp_path: Path) -> None:
    supervisor = await api.login("supervisor")
    assert (await _post(api, supervisor, (HEADER + GOOD).encode(), False))[0] == 200
    async with api.http.get(f"{api.base}/api/customer-export", headers={"Authorization": f"Bearer {supervisor}"}) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
        body = await r.read()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    by_name = {row["name"]: row for row in rows}
    assert by_name["'=HYPERLINK(\"http://evil\")"]["grade"] == "B"  # shown as text, never run
    assert by_name["华东贸易"]["phones"] == "13912340001; +86 139 1234 0002" and by_name["华东贸易"]["owner"] == "agent1001"
    assert by_name["张三"]["phones"] == "13800138000"  # whole: supervisors see numbers in full
    async with api.http.get(f"{api.base}/api/customer-export", params={"grade": "A"}, headers={"Authorization": f"Bearer {supervisor}"}) as r:
        graded = list(csv.DictReader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert {row["grade"] for row in graded} == {"A"} and "华东贸易" in {row["name"] for row in graded}
    engine = create_engine(migrated_url)
    async with session_factory(engine)() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.exported").order_by(AuditEntry.id)))
    await engine.dispose()
    assert [(e.username, e.detail["customers"], e.detail["filter"]) for e in entries] == [
        ("supervisor", len(rows), {}), ("supervisor", len(graded), {"grade": "A"})
    ]

    # The exported file is a valid import for another center: a fresh database takes every row back.
    exported = tmp_path / "customers.csv"
    exported.write_bytes(body)
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    assert (await asyncio.to_thread(run, tmp_path, other, "db", "upgrade")).returncode == 0
    imported = await asyncio.to_thread(run, tmp_path, other, "customers", "import", str(exported))
    assert imported.returncode == 1 and "no active staff user 'agent1001'" in imported.stdout  # that center has no such user
    again = tmp_path / "again.csv"
    again.write_text(body.decode("utf-8-sig").replace(",agent1001,", ",,"), encoding="utf-8")
    imported = await asyncio.to_thread(run, tmp_path, other, "customers", "import", str(again))
    assert imported.returncode == 0 and f"imported {len(rows)} customers" in imported.stdout, imported.stdout + imported.stderr
    back = await asyncio.to_thread(run, tmp_path, other, "customers", "export", "--out", str(tmp_path / "back.csv"))
    assert back.returncode == 0
    round_trip = list(csv.DictReader(io.StringIO((tmp_path / "back.csv").read_text(encoding="utf-8-sig"))))
    keep = ("name", "phones", "grade", "company", "annual_sales", "tags", "key_account")
    assert sorted(tuple(r[k] for k in keep) for r in round_trip) == sorted(tuple(r[k] for k in keep) for r in rows)


def test_the_command_line_dry_run_names_the_bad_rows_and_exits_1(tmp_path: Path, migrated_url: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("客户名称,电话\n好,13912341111\n坏,无\n", encoding="utf-8")
    checked = run(tmp_path, migrated_url, "customers", "import", str(bad), "--dry-run")
    assert checked.returncode == 1 and "line 3: phones: '无' is not a phone number" in checked.stdout
    assert "2 rows: 1 valid, 1 rejected; nothing imported" in checked.stderr
    good = tmp_path / "good.csv"
    good.write_text("客户名称,电话\n好,13912341111\n", encoding="utf-8")
    checked = run(tmp_path, migrated_url, "customers", "import", str(good), "--dry-run")
    assert checked.returncode == 0 and "an import would add 1 customers" in checked.stdout
    assert run(tmp_path, migrated_url, "customers", "import", str(good)).returncode == 0
    missing = run(tmp_path, migrated_url, "customers", "import", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_a_row_with_several_problems_reports_them_all_at_once() -> None:
    report = Report()
    rows = read_rows("客户名称,电话,客户等级,年销售额\n,见名片,Z,很多\n".encode(), default_region="CN", queues=set(), report=report)
    assert rows == [] and report.rejected_rows == 1
    assert sorted(r.column for r in report.rejected) == ["annual_sales", "grade", "name", "phones"]
