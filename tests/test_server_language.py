"""The server's refusals in the user's language (issue 19): the pages ask for theirs
(Accept-Language), and every message the API's code can write has its Chinese."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agent_ui.i18n import Catalogue, catalogue
from agent_ui.i18n.catalogue import PLACEHOLDER
from agent_ui.i18n.negotiation import MAX_HEADER
from tests.test_api import Api, api  # noqa: F401 - the API on demo data, as there

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile("[\u4e00-\u9fff]")
# Where the messages a user can be shown are written; left out are what only an operator reads
# (start-up checks of the settings, the schema, the sandbox, the AMI/AGI protocol layers).
WRITERS = ["agent_ui/api", "agent_ui/auth.py", "agent_ui/realtime.py", "crm", "qa", "telephony"]
OPERATORS_ONLY = ("crm/schema.py", "crm/db.py", "crm/migrations/", "agent_ui/api/contract.py", "telephony/sandbox/", "telephony/ami/",
                  "telephony/cluster/codec.py", "telephony/cluster/ownership.py", "telephony/calllog/spool.py", "telephony/bridge.py",
                  "telephony/calls/dial_marks.py", "telephony/routing/fastagi.py", "qa/models.py", "qa/transcribe.py")  # fmt: skip


def _template(node: ast.expr) -> str | None:
    """The message a str or f-string writes, with {} for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _messages(path: Path) -> set[str]:
    """json_error(status, message), raise X(message), and a rejected row's (column, reason)."""
    tree, found = ast.parse(path.read_text(encoding="utf-8")), set()
    rows = "reject(" in path.read_text(encoding="utf-8")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "json_error" and len(node.args) >= 2:
            found.add(_template(node.args[1]))
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            found.add(_template(node.exc.args[0]))
        elif rows and isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[0], ast.Constant):
            found.add(_template(node.elts[1]))
    # A message that is only a field's name before another message ("phone: {}") is said by the
    # message inside it.
    return {m for m in found if m is not None and not re.fullmatch(r"[\w.]*:? ?", PLACEHOLDER.sub("", m))}


def _written() -> dict[str, str]:
    messages = {}
    for root in WRITERS:
        paths = [ROOT / root] if root.endswith(".py") else sorted((ROOT / root).rglob("*.py"))
        for path in paths:
            where = str(path.relative_to(ROOT))
            if not where.startswith(OPERATORS_ONLY):
                messages.update({m: where for m in _messages(path)})
    return messages


def test_every_message_the_api_can_write_has_its_chinese() -> None:
    zh = catalogue("zh-CN")
    written = _written()
    assert len(written) > 250  # the scan finds the messages (it would pass on finding none)
    missing = {}
    for message, where in written.items():
        values = iter(f"v{n}" for n in range(1, 10))
        sample = PLACEHOLDER.sub(lambda _: next(values), message)
        said = zh.translate(sample)
        if said is None or not CJK.search(said):
            missing[message] = where
    assert not missing, f"add these to agent_ui/i18n/zh-CN.json: {missing}"


def test_every_translation_keeps_the_values_of_its_message() -> None:
    for english, said in json_catalogue().items():
        wanted = len(PLACEHOLDER.findall(english))
        indexed = {int(i) for i in PLACEHOLDER.findall(said) if i}
        assert len(PLACEHOLDER.findall(said)) == wanted or indexed == set(range(wanted)), (english, said)


def json_catalogue() -> dict[str, str]:
    import json

    return json.loads((ROOT / "agent_ui/i18n/zh-CN.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("no such campaign", "没有这个外呼活动"),
        # a message in a message, each translated, the field names kept
        ("line 3: phones: not a phone number: 12ab", "第 3 行：phones：不是电话号码：12ab"),
        ("body.phones.0: String should have at most 40 characters", "body.phones.0：最多 40 个字符"),
        ("query: Value error, Invalid isoformat string: 'x'", "query：值错误：无效的 ISO 8601 时间：'x'"),
        # the most specific template wins, and values may change places
        ("cannot hold: Channel not found", "无法保持：Channel not found"),
        ("step: from new a complaint ticket goes to closed", "step：complaint 工单从 new 只能转到 closed"),
        # what the catalogue does not know stays untranslated
        ("something new: nobody wrote this", None),
    ],
)
def test_a_message_is_translated_by_its_template(message: str, said: str | None) -> None:
    assert catalogue("zh-CN").translate(message) == said


def test_a_long_message_is_not_matched_against_the_templates() -> None:
    assert Catalogue({"bad {}": "坏 {}"}).translate("bad " + "x" * 5_000) is None
    assert Catalogue({"bad {}": "坏 {}"}).translate("bad x") == "坏 x"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("zh-TW,zh;q=0.9", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-CN;q=0.5, en;q=0.3", "zh-CN"),
        ("en;q=0.2, zh;q=0.9", "zh-CN"),
        ("zh;q=0, en", "en"),
        ("zh;q=abc, en", "en"),
        ("", "en"),
        ("zh-CN," + "x" * MAX_HEADER, "en"),
    ],
)
async def test_the_language_asked_for(api: Api, header: str, language: str) -> None:  # noqa: F811
    async with api.http.post(f"{api.base}/api/login", json={"username": "nobody", "password": "x"}, headers={"Accept-Language": header}) as r:
        body = await r.json()
    assert r.status == 401
    assert body["error"] == ("用户名或密码错误" if language == "zh-CN" else "wrong user name or password")
    assert r.headers.get("Content-Language") == (language if language != "en" else None)


async def test_refusals_and_a_files_rejected_rows_in_chinese(api: Api) -> None:  # noqa: F811
    qa, supervisor = await api.login("qa"), await api.login("supervisor")
    zh = {"Accept-Language": "zh-CN"}

    async def call(method: str, path: str, token: str, headers: dict[str, str] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}", **zh, **(headers or {})}
        async with api.http.request(method, f"{api.base}{path}", headers=headers, **kwargs) as r:
            return r.status, await r.json()

    assert await call("POST", "/api/customers", qa, json={"name": "x", "phones": ["13800138001"]}) == (403, {"error": "需要以下角色之一：座席员、组长、主管、管理员"})
    assert await call("POST", "/api/customers", supervisor, json={"name": "x", "phones": ["13800138001"], "vip": True}) == (400, {"error": "vip：不允许多余的字段"})
    assert await call("GET", "/api/customers/999999", supervisor) == (404, {"error": "没有这个客户"})
    assert await call("GET", "/api/customers", supervisor) == (400, {"error": "请给出 ?phone=、?q=、?ticket= 之一"})
    csv = "name,phones\n王五,12ab\n".encode()
    status, report = await call("POST", "/api/customer-import?dry_run=true", supervisor, {"Content-Type": "text/csv"}, data=csv)
    assert status == 200 and [r["reason"] for r in report["rejected"]] == ["'12ab' 不是电话号码"]


def test_a_refused_role_names_the_roles_in_chinese_for_every_route(tmp_path: Path) -> None:
    from agent_ui.app import create_app
    from config import load_settings
    from crm.db import create_engine

    app = create_app(load_settings(data_dir=tmp_path), create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    contracts = [c for route in app.router.routes() if (c := getattr(route.handler, "__contract__", None)) is not None and c.roles]
    assert len(contracts) > 50
    for contract in contracts:
        said = catalogue("zh-CN").translate(f"this needs one of the roles: {', '.join(r.value for r in contract.roles)}")
        assert said is not None and not re.search("[a-z]", said), said  # 座席员、组长 …, not the API's role ids
