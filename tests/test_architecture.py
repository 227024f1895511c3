"""The one-way dependency rule: config <- crm <- telephony, qa <- agent_ui."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "config": set(),
    "crm": {"config"},
    "telephony": {"config", "crm"},
    "qa": {"config", "crm"},
    "agent_ui": {"config", "crm", "telephony", "qa"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        wrong = imported_packages(path) - ALLOWED[package] - {package}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_recording_names_have_one_owner() -> None:
    """How a call's recordings are named is crm/recordings.py's alone (issue 16): the call log, auto-QA,
    the player and the sandbox's scripted calls ask it rather than spell the suffixes again."""
    owner = ROOT / "crm" / "recordings.py"
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            if path != owner:
                text = path.read_text()
                assert not any(suffix in text for suffix in ("-agent.wav", "-caller.wav", "-mix.wav")), path.relative_to(ROOT)


SANDBOX_USERS = {"agent_ui/cli/sandbox.py", "agent_ui/cli/demo.py"}  # the commands that run the sandbox


def test_the_product_never_imports_the_sandbox() -> None:
    """The sandbox (a chroot Asterisk, simulated callers) is for the demo and the tests: `serve`, the
    recordings and everything else find a local Asterisk's folders and secrets through
    config/local_asterisk.py, which the sandbox writes (issue 16)."""
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("telephony/sandbox/") or relative in SANDBOX_USERS:
                continue
            tree = ast.parse(path.read_text(), relative)
            modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
            modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
            assert not any(m == "telephony.sandbox" or m.startswith("telephony.sandbox.") for m in modules), relative


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_within(package: str) -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports, TYPE_CHECKING blocks included (a loop hidden
    there is still a loop for the reader). A package's re-export of its own modules is no edge."""
    modules = {_module_name(path): path for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        own = f"{name}." if path.name == "__init__.py" else None
        graph[name] = {module for module in found if module in modules and module != name and not (own and module.startswith(own))}
    return graph


def test_telephony_has_no_import_loop() -> None:
    """The controllers act through telephony/asterisks.py and the bridge composes them: nothing in
    telephony imports back into what imports it (issue 16 opened the Bridge ↔ controllers knot)."""
    graph = _imports_within("telephony")
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import loop: " + " → ".join([*path[path.index(module):], module]))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


# What the web app may know of telephony: the command API, the events, the state values they carry,
# and the service that composes them (app start-up). The CLI runs telephony itself and may reach in.
AGENT_UI_TELEPHONY = {
    "telephony.commands", "telephony.events", "telephony.service", "telephony.agents.state", "telephony.agents.wrapup",
    "telephony.calls.state", "telephony.agents.disposition",
}  # fmt: skip


def _web_app_modules() -> list[tuple[str, ast.Module]]:
    """The web application's modules, parsed; its CLI runs telephony itself and is left out."""
    paths = [p for p in (ROOT / "agent_ui").rglob("*.py") if not p.relative_to(ROOT).as_posix().startswith("agent_ui/cli/")]
    return [(p.relative_to(ROOT).as_posix(), ast.parse(p.read_text(), str(p))) for p in paths]


def test_the_web_app_commands_telephony_through_its_command_api() -> None:
    """Handlers never reach into the bridge or its controllers: what they ask of Asterisk goes through
    telephony/commands.py, so it can travel to the worker that holds the AMI connection (issue 17)."""
    for relative, tree in _web_app_modules():
        modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        reaching = {m for m in modules if m.startswith("telephony")} - AGENT_UI_TELEPHONY
        assert not reaching, f"{relative} imports {sorted(reaching)}"
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not attributes & {"bridge", "call_control", "dialer", "control"}, f"{relative} reaches into the bridge"


def test_the_web_app_builds_no_queries() -> None:
    """Route handlers translate HTTP only: what they read and write is asked of service functions in
    crm/ and qa/ (one per use), so the same question has one answer for the pages, the CLI and the
    workers. The web app may name a session's type and catch the database's errors, never build SQL."""
    allowed = {"sqlalchemy.ext.asyncio", "sqlalchemy.exc"}
    for relative, tree in _web_app_modules():
        used = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                used |= {f"{node.module}.{alias.name}" if node.module == "sqlalchemy" else node.module for alias in node.names}
        wrong = {m for m in used if m.split(".")[0] == "sqlalchemy" and m not in allowed}
        assert not wrong, f"{relative} builds queries with {sorted(wrong)}"
